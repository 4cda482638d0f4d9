"""The member's card and the till's page of a member are live, through the real ASGI
application on real Redis: a payment by balance, a top-up and its refund push both at once; only
the member's own PIN-opened session follows their card, and a card closed on the phone stops
hearing."""

import asyncio
import time
from decimal import Decimal
from importlib import import_module

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from orders.models import Tab
from payments import services
from payments.members import services as members
from tests.sockets import connect, session_cookie

from .conftest import seat

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def make_member(mobile, pin="123456", amount="100"):
    member = members.member_create(mobile=mobile, pin=pin)
    members.top_up_create(member_id=member.pk, amount=Decimal(amount), method="cash", key="t")
    return member


@sync_to_async
def opened_card(member, pin="123456"):
    """A phone that opened the member's card with the PIN: its client and its cookie header."""
    phone = Client()
    answer = phone.post(f"/m/{member.link_token}/unlock/", {"pin": pin})
    assert answer.status_code == 302
    return phone, (b"cookie", f"sessionid={phone.cookies['sessionid'].value}".encode())


@sync_to_async
def pay_by_balance(tab, amount, key, login, pin="123456"):
    version = Tab.objects.get(pk=tab.pk).version
    services.payment_start(
        tab_id=tab.pk, method="member", amount=Decimal(amount), version=version, key=key,
        member=members.MemberAuth(login=login, pin=pin),
    )  # fmt: skip


async def test_a_payment_by_balance_pushes_the_card_and_the_tills_page(cashier, table, menu):
    member = await make_member("13800138000")
    tab = await sync_to_async(seat)(table, menu)  # 50
    _phone, cookie = await opened_card(member)
    card, connected, _ = await connect(f"/ws/m/{member.link_token}/", cookie)
    assert connected
    state = await card.receive_from(timeout=5)
    assert 'id="my-balance">¥100<' in state and 'id="seq-member-' in state
    till, connected, _ = await connect(
        f"/ws/cashier/members/{member.pk}/", await sync_to_async(session_cookie)(cashier)
    )
    assert connected
    assert 'id="member-balance">¥100<' in await till.receive_from(timeout=5)

    await pay_by_balance(tab, "30", "a", "13800138000")
    pushed = await card.receive_from(timeout=5)
    assert 'id="my-balance">¥70<' in pushed and 'hx-swap-oob="true"' in pushed
    assert 'id="my-points">30<' in pushed and "move-spend" in pushed  # earned; on the statement
    assert member.number in pushed and "member-code" not in pushed  # the code is not pushed
    pushed = await till.receive_from(timeout=5)
    assert 'id="member-balance">¥70<' in pushed and 'id="statement"' in pushed
    await card.disconnect()
    await till.disconnect()


async def test_a_top_up_and_its_refund_reach_the_phone_in_its_language(cashier):
    member = await make_member("13800138000")
    _phone, cookie = await opened_card(member)
    card, connected, _ = await connect(f"/ws/m/{member.link_token}/?lang=en", cookie)
    assert connected
    await card.receive_from(timeout=5)
    top_up, _created = await sync_to_async(members.top_up_create)(
        member_id=member.pk, amount=Decimal("200"), method="cash", key="second", user=cashier
    )
    pushed = await card.receive_from(timeout=5)
    assert 'id="my-balance">¥300<' in pushed and "Balance" in pushed
    await sync_to_async(members.top_up_refund)(
        top_up_id=top_up.pk, amount=Decimal("50"), reason="changed mind", user=cashier
    )
    pushed = await card.receive_from(timeout=5)
    assert 'id="my-balance">¥250<' in pushed and "changed mind" in pushed
    await card.disconnect()


async def test_another_members_card_and_a_card_not_opened_are_refused(cook, outsider, cashier):
    mine = await make_member("13800138000")
    theirs = await make_member("13900139000", pin="654321")
    _phone, cookie = await opened_card(mine)
    # My phone's session opened my card, not theirs: their stream is refused, whatever it holds.
    for path, headers in (
        (f"/ws/m/{theirs.link_token}/", [cookie]),
        (f"/ws/m/{mine.link_token}/", []),  # a browser that never typed the PIN
        (f"/ws/m/{mine.link_token}/", [await sync_to_async(session_cookie)(cashier)]),
        ("/ws/m/not-a-link/", [cookie]),
    ):
        _screen, connected, code = await connect(path, *headers)
        assert not connected and code == 4403
    # The till's page of a member: cashiers and managers only.
    for user in (None, cook, outsider):
        headers = [await sync_to_async(session_cookie)(user)] if user else []
        _screen, connected, code = await connect(f"/ws/cashier/members/{mine.pk}/", *headers)
        assert not connected and code == 4403
    cashier_cookie = await sync_to_async(session_cookie)(cashier)
    _screen, connected, code = await connect("/ws/cashier/members/999999/", cashier_cookie)
    assert not connected and code == 4403


async def test_a_card_closed_on_the_phone_stops_hearing_at_the_next_push():
    member = await make_member("13800138000")
    phone, cookie = await opened_card(member)
    card, connected, _ = await connect(f"/ws/m/{member.link_token}/", cookie)
    assert connected
    await card.receive_from(timeout=5)
    await sync_to_async(phone.post)(f"/m/{member.link_token}/lock/")
    await sync_to_async(members.top_up_create)(
        member_id=member.pk, amount=Decimal("10"), method="cash", key="after"
    )
    closed = await card.receive_from(timeout=5)
    assert "¥110" not in closed and 'id="my-card"' in closed
    assert f'href="/m/{member.link_token}/"' in closed  # the PIN opens it again
    assert (await card.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4403}
    _screen, connected, code = await connect(f"/ws/m/{member.link_token}/", cookie)
    assert not connected and code == 4403


async def test_a_card_closes_by_itself_when_its_ten_minutes_are_up(settings):
    member = await make_member("13800138000")
    phone, cookie = await opened_card(member)

    @sync_to_async
    def runs_out_in(seconds):
        store = import_module(settings.SESSION_ENGINE).SessionStore(
            session_key=phone.cookies["sessionid"].value
        )
        store["members"] = {str(member.pk): time.time() + seconds}
        store.save()

    await runs_out_in(2.0)
    card, connected, _ = await connect(f"/ws/m/{member.link_token}/", cookie)
    assert connected
    assert 'id="my-balance">¥100<' in await card.receive_from(timeout=5)
    # Opened again with the PIN (another tab) before the time is up: it stays open.
    await runs_out_in(4.0)
    await asyncio.sleep(2.5)
    assert await card.receive_nothing(timeout=0.1)
    closed = await card.receive_from(timeout=5)  # nothing pushed: the clock closes it
    assert 'id="my-card"' in closed and "¥100" not in closed
    assert (await card.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4403}


async def test_a_card_whose_members_data_is_deleted_hears_nothing_more(cashier):
    member = await make_member("13800138000")
    _phone, cookie = await opened_card(member)
    card, connected, _ = await connect(f"/ws/m/{member.link_token}/", cookie)
    english, also, _ = await connect(f"/ws/m/{member.link_token}/?lang=en", cookie)
    assert connected and also
    await card.receive_from(timeout=5)
    await english.receive_from(timeout=5)
    await sync_to_async(members.member_erase)(member_id=member.pk, reason="本人要求", user=cashier)
    closed = await card.receive_from(timeout=5)
    assert "¥100" not in closed and member.number not in closed
    # No button back to the old link (it answers 404 now): the card says it is gone.
    assert "这张会员卡已不存在。" in closed
    assert "href" not in closed and member.link_token not in closed
    assert "This member card no longer exists." in await english.receive_from(timeout=5)
    for socket in (card, english):
        assert (await socket.receive_output(timeout=5)) == {
            "type": "websocket.close",
            "code": 4403,
        }
    answer = await sync_to_async(Client().get)(f"/m/{member.link_token}/")
    assert answer.status_code == 404
