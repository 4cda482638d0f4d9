"""The books' screens are live: a cash payment moves the cashier's expected drawer and the
manager's Z report at once, through the real ASGI application."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from orders.models import Tab
from payments import services
from payments.books import services as books
from tests.sockets import connect, session_cookie

from .conftest import seat

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def cash(tab, amount, key, user):
    version = Tab.objects.get(pk=tab.pk).version
    services.payment_start(
        tab_id=tab.pk, method="cash", amount=amount, version=version, key=key, user=user
    )


async def test_the_books_sockets_refuse_the_wrong_roles(cook, cashier, outsider):
    for path, users in (("/ws/books/shift/", (None, cook, outsider)),
                        ("/ws/books/day/", (None, cook, cashier, outsider))):  # fmt: skip
        for user in users:
            headers = [await sync_to_async(session_cookie)(user)] if user else []
            _screen, connected, code = await connect(path, *headers)
            assert not connected and code == 4403


async def test_a_cash_payment_moves_the_drawer_and_the_z_report_live(cashier, manager, table, menu):
    tab = await sync_to_async(seat)(table, menu)
    await sync_to_async(books.shift_open)(user=cashier, till="1", float_amount=Decimal("100"))
    till, connected, _ = await connect(
        "/ws/books/shift/", await sync_to_async(session_cookie)(cashier)
    )
    assert connected
    assert 'id="cash-expected">¥100<' in await till.receive_from(timeout=5)
    office, connected, _ = await connect(
        "/ws/books/day/", await sync_to_async(session_cookie)(manager)
    )
    assert connected
    assert 'id="z-takings">¥0<' in await office.receive_from(timeout=5)

    await cash(tab, "50", "a", cashier)
    pushed = await till.receive_from(timeout=5)
    assert 'id="cash-expected">¥150<' in pushed and 'hx-swap-oob="true"' in pushed
    pushed = await office.receive_from(timeout=5)
    assert 'id="z-takings">¥50<' in pushed
    await till.disconnect()
    await office.disconnect()
