"""The cashier's and the pay page's sockets through the real ASGI application."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from orders.models import Tab
from payments import services
from tests.sockets import connect, session_cookie

from .conftest import approve, notify, qr_payment, seat

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def cash(tab, amount, key):
    version = Tab.objects.get(pk=tab.pk).version
    services.payment_start(
        tab_id=tab.pk, method="cash", amount=Decimal(amount), version=version, key=key
    )


async def test_the_cashier_sockets_refuse_everyone_but_cashiers(cook, outsider, table, menu):
    tab = await sync_to_async(seat)(table, menu)
    for path in ("/ws/cashier/", f"/ws/cashier/tabs/{tab.pk}/"):
        for user in (None, cook, outsider):
            headers = [await sync_to_async(session_cookie)(user)] if user else []
            _screen, connected, code = await connect(path, *headers)
            assert not connected and code == 4403


async def test_a_payment_updates_the_floor_plan_and_the_open_bill_live(cashier, table, menu):
    tab = await sync_to_async(seat)(table, menu)
    cookie = await sync_to_async(session_cookie)(cashier)
    floor, connected, _ = await connect("/ws/cashier/", cookie)
    assert connected
    assert f'id="table-{table.pk}"' in await floor.receive_from(timeout=5)
    bill, connected, _ = await connect(f"/ws/cashier/tabs/{tab.pk}/", cookie)
    assert connected
    assert "¥50" in await bill.receive_from(timeout=5)

    await cash(tab, "20", "a")
    tile = await floor.receive_from(timeout=5)
    assert 'class="tile state-paying"' in tile and 'hx-swap-oob="true"' in tile
    pushed = await bill.receive_from(timeout=5)
    assert 'id="bill"' in pushed and "¥30" in pushed  # the balance due
    await floor.disconnect()
    await bill.disconnect()


async def test_the_phones_on_the_pay_page_see_a_qr_payment_succeed(client, table, menu):
    tab = await sync_to_async(seat)(table, menu)
    phone, connected, _ = await connect(f"/ws/t/{table.token}/pay/")
    assert connected
    assert 'id="pay-bill"' in await phone.receive_from(timeout=5)
    payment = await sync_to_async(qr_payment)(tab)
    started = await phone.receive_from(timeout=5)
    assert f'id="payment-{payment.pk}"' in started and 'data-status="pending"' in started
    charge = await sync_to_async(approve)(payment)
    await sync_to_async(notify)(client, charge)
    pushed = await phone.receive_from(timeout=5)
    while 'data-status="succeeded"' not in pushed:
        pushed = await phone.receive_from(timeout=5)
    assert f'id="payment-{payment.pk}"' in pushed and "¥0" in pushed
    await phone.disconnect()


async def test_a_pay_socket_for_an_unknown_table_is_refused(db):
    _phone, connected, code = await connect("/ws/t/nope/pay/")
    assert not connected and code == 4404
