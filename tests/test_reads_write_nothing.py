"""Reads never write (issue 7): a diner's page, the pay page, the API's reads and every socket's
connect send no INSERT, UPDATE, DELETE or SELECT … FOR UPDATE. A phone's identity is its
cookie until its first POST; a visit opens on the first write that needs one (or staff 开台), and
a page that was opened before it follows it over its socket."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from orders import services
from orders.models import CartItem, Diner, Tab
from payments.models import Payment
from restaurant.lib.devices import DeviceToken
from restaurant.lib.diners import DINER_COOKIE
from restaurant.lib.realtime import next_seqs
from tests.payments.conftest import qr_payment, sandbox_gateway, seat  # noqa: F401 (autouse)
from tests.sockets import connect, session_cookie
from tests.writes import statements

EN = {"Accept-Language": "en"}


def read(client, path, **headers):
    """GET `path`; (answer, the writes it sent)."""
    with statements() as sent:
        answer = client.get(path, headers={**EN, **headers})
    return answer, sent.writes()


# Pages -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_phone_reading_a_free_tables_page_opens_nothing_and_numbers_nobody(table, menu, settings):
    settings.TABLE_OPENING = "diner"
    phone = Client()
    answer, writes = read(phone, f"/t/{table.token}/")
    assert answer.status_code == 200 and "Kung Pao chicken" in answer.content.decode()
    assert writes == []
    assert not Tab.objects.exists() and not Diner.objects.exists()
    assert answer.cookies[DINER_COOKIE].value  # who the phone is lives in its cookie
    # Its first dish opens the visit and numbers it; a reload writes nothing again.
    phone.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk, "tab": ""})
    assert Tab.objects.count() == 1 and Diner.objects.get().number == 1
    again, writes = read(phone, f"/t/{table.token}/")
    assert writes == [] and "Guest 1" in again.content.decode()


@pytest.mark.django_db
def test_a_new_phone_at_an_open_table_is_numbered_by_its_first_write_not_its_look(table, menu):
    tab = seat(table, menu)
    first, second = Client(), Client()
    for phone in (first, second):
        _answer, writes = read(phone, f"/t/{table.token}/")
        assert writes == []
    assert not Diner.objects.exists()
    # The second phone writes first: it is 一号.
    second.post(f"/t/{table.token}/cart/", {"dish": menu["fish"].pk, "tab": tab.pk})
    first.post(f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk, "tab": tab.pk})
    numbers = {item.dish_id: item.diner.label for item in CartItem.objects.select_related("diner")}
    assert numbers == {menu["fish"].pk: "一号", menu["cucumber"].pk: "二号"}


@pytest.mark.django_db
def test_a_waiters_look_at_a_free_table_writes_nothing_and_offers_to_open_it(
    table, menu, cashier, settings
):
    settings.TABLE_OPENING = "staff"
    waiter = Client()
    waiter.force_login(cashier)
    answer, writes = read(waiter, f"/t/{table.token}/")
    assert answer.status_code == 200 and f"/t/{table.token}/open/" in answer.content.decode()
    assert writes == [] and not Tab.objects.exists()
    diner_look, writes = read(Client(), f"/t/{table.token}/")
    assert "ask a member of staff" in diner_look.content.decode() and writes == []
    assert waiter.post(f"/t/{table.token}/open/").status_code == 302
    assert Tab.objects.get().table == table


@pytest.mark.django_db
def test_the_pay_page_writes_nothing_for_a_new_phone_or_one_that_is_paying(table, menu):
    seat(table, menu)
    phone = Client()
    answer, writes = read(phone, f"/t/{table.token}/pay/")
    assert answer.status_code == 200 and "¥50" in answer.content.decode() and writes == []
    # Paying is a write: it numbers the phone, so the bill says who is paying.
    started = phone.post(
        f"/t/{table.token}/pay/start/",
        {"choice": "balance", "version": Tab.objects.get().version, "key": "k1"},
        headers={"HX-Request": "true"},
    )
    assert started.status_code == 200
    assert Payment.objects.get().diner == Diner.objects.get()
    answer, writes = read(phone, f"/t/{table.token}/pay/")
    assert "Guest 1" in answer.content.decode() and writes == []


@pytest.mark.django_db
def test_the_apis_reads_write_nothing(table, menu):
    tab = seat(table, menu)
    payment = qr_payment(tab)
    _device, token = DeviceToken.issue(name="counter", role="cashier")
    staff = {"Authorization": f"Bearer {token}"}
    # A device token's last use is stamped at most once a minute (restaurant.lib.devices): the
    # one write a staff read makes, on purpose, done here first.
    Client().get(f"/api/v1/tabs/{tab.pk}/settlement", headers=staff)
    client = Client()
    for path, headers in [
        ("/api/v1/menu", {}),
        (f"/api/v1/tables/{table.token}/tab", {}),
        (f"/api/v1/tables/{table.token}/settlement", {}),
        (f"/api/v1/tables/{table.token}/payments/{payment.pk}", {}),
        (f"/api/v1/tabs/{tab.pk}/settlement", staff),
    ]:
        answer, writes = read(client, path, **headers)
        assert answer.status_code == 200, path
        assert writes == [], path


# Sockets -----------------------------------------------------------------------------------------


async def connected_writes(path, *headers):
    """Connect and take the first message; (socket, first message, the writes it sent)."""
    with statements() as sent:
        socket, connected, _code = await connect(path, *headers)
        assert connected, path
        first = await socket.receive_from(timeout=5)
        await asyncio.sleep(0.1)  # anything the connect set going has run
    return socket, first, sent.writes()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_no_socket_connect_writes_anything(table, other_table, menu, cook, cashier):
    tab = await sync_to_async(seat)(table, menu)
    kitchen = await sync_to_async(session_cookie)(cook)
    counter = await sync_to_async(session_cookie)(cashier)
    sockets = []
    for path, headers in [
        (f"/ws/t/{other_table.token}/?lang=en&tab=", ()),  # a free table
        (f"/ws/t/{table.token}/?lang=en&tab=", ()),
        (f"/ws/t/{table.token}/?lang=en&tab={tab.pk}", ()),
        (f"/ws/t/{table.token}/pay/?lang=en", ()),
        ("/ws/kitchen/", (kitchen,)),
        ("/ws/pass/", (kitchen,)),
        ("/ws/cashier/", (counter,)),
        (f"/ws/cashier/tabs/{tab.pk}/?lang=en", (counter,)),
    ]:
        socket, _first, writes = await connected_writes(path, *headers)
        sockets.append(socket)
        assert writes == [], path
    for socket in sockets:
        await socket.disconnect()
    assert await sync_to_async(Tab.objects.count)() == 1  # the free table is still free


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_page_opened_at_a_free_table_follows_the_visit_its_first_order_opens(
    table, menu, settings
):
    settings.TABLE_OPENING = "diner"
    socket, _first, writes = await connected_writes(f"/ws/t/{table.token}/?lang=en&tab=")
    assert writes == []
    other_phone = Client()
    answer = await sync_to_async(other_phone.post)(
        f"/t/{table.token}/cart/", {"dish": menu["cucumber"].pk, "tab": ""}
    )
    assert answer.status_code == 302
    tab = await sync_to_async(Tab.objects.get)()
    pushed = await socket.receive_from(timeout=5)
    assert "Smashed cucumber" in pushed and 'id="cart"' in pushed
    assert f'id="tab-id" name="tab" value="{tab.pk}"' in pushed  # its POSTs now name the visit
    await sync_to_async(services.cart_add)(
        tab=tab, diner=None, request=services.LineRequest(dish=menu["fish"].pk)
    )
    assert "Steamed bass" in await socket.receive_from(timeout=5)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_page_whose_opened_news_was_dropped_still_follows_the_visit(table, menu):
    socket, _first, _writes = await connected_writes(f"/ws/t/{table.token}/?lang=en&tab=")

    @sync_to_async
    def open_without_telling():
        """Staff open the table and the channel layer drops the news: only its number stays."""
        tab = Tab.objects.create(table=table)
        next_seqs({f"table.{table.pk}": 1})
        return tab

    tab = await open_without_telling()
    healed = await socket.receive_from(timeout=5)  # the watcher saw the number move
    assert f'id="tab-id" name="tab" value="{tab.pk}"' in healed and 'id="cart"' in healed
    await socket.disconnect()
