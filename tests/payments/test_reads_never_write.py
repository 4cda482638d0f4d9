"""Reads never write: a GET or a socket connect leaves the database as it found it, and a QR
payment past its expiry reads as expired everywhere before the worker has closed it."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from orders.models import Tab
from payments import selectors
from payments.models import Payment, SandboxCharge
from tests.snapshot import database_rows
from tests.sockets import connect, session_cookie

from .conftest import charge_of, qr_payment, seat

EN = {"Accept-Language": "en"}


def overdue_payment(table, menu):
    """A seated tab (owing 50) with a QR payment ten seconds past its expiry."""
    tab = seat(table, menu)
    payment = qr_payment(tab)
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - timedelta(seconds=10))
    return tab, payment


def assert_untouched(payment):
    """Nobody expired it: still pending in the database, its charge still open at the gateway."""
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert charge_of(payment).status == SandboxCharge.Status.OPEN


@pytest.mark.django_db
def test_the_pay_page_of_a_tab_with_an_overdue_payment_writes_nothing(client, table, menu):
    tab, payment = overdue_payment(table, menu)
    before = database_rows()
    answer = client.get(f"/t/{table.token}/pay/", headers=EN)
    assert answer.status_code == 200 and "¥50" in answer.content.decode()
    assert f'data-payment="{payment.pk}"' not in answer.content.decode()  # not "being paid"
    assert database_rows() == before
    assert_untouched(payment)


@pytest.mark.django_db
def test_the_cashier_reads_an_overdue_payment_as_expired_without_writing(cashier, table, menu):
    tab, payment = overdue_payment(table, menu)
    counter = Client()
    counter.force_login(cashier)
    before = database_rows()
    for path in (f"/cashier/?tab={tab.pk}", f"/cashier/tabs/{tab.pk}/"):
        page = counter.get(path, headers={**EN, "HX-Request": "true"}).content.decode()
        assert f'id="bill-payment-{payment.pk}" class="payment status-expired"' in page
        assert f"/cashier/payments/{payment.pk}/cancel/" not in page  # nothing left to cancel
    # The floor plan does not count it as a payment under way.
    assert selectors.tile_for_table(table.pk)["state"] == "eating"
    assert database_rows() == before
    assert_untouched(payment)


@pytest.mark.django_db
def test_the_api_reads_an_overdue_payment_as_expired_without_writing(api, table, menu):
    tab, payment = overdue_payment(table, menu)
    # A device token's last use is stamped at most once a minute (restaurant.lib.devices): the one
    # write a staff read makes, on purpose, done here before the snapshot.
    api.staff_get(f"/tabs/{tab.pk}/settlement")
    before = database_rows()
    detail = api.get(f"/tables/{table.token}/payments/{payment.pk}").json()
    assert detail["payment"]["status"] == "expired"
    for settlement in (
        api.get(f"/tables/{table.token}/settlement").json(),
        api.staff_get(f"/tabs/{tab.pk}/settlement").json(),
        detail["settlement"],
    ):
        assert (settlement["balance_due"], settlement["paid"]) == ("50.00", "0.00")
    assert database_rows() == before
    assert_untouched(payment)


@pytest.mark.django_db
def test_a_payment_before_its_expiry_still_reads_as_waiting(api, client, table, menu):
    tab = seat(table, menu)
    payment = qr_payment(tab)
    page = client.get(f"/t/{table.token}/pay/", headers=EN).content.decode()
    assert f'data-payment="{payment.pk}"' in page
    assert api.get(f"/tables/{table.token}/payments/{payment.pk}").json()["payment"]["status"] == (
        "pending"
    )
    assert selectors.tile_for_table(table.pk)["state"] == "paying"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_connecting_the_pay_and_cashier_sockets_writes_nothing(cashier, table, menu):
    tab, payment = await sync_to_async(overdue_payment)(table, menu)
    cookie = await sync_to_async(session_cookie)(cashier)
    before = await sync_to_async(database_rows)()
    pay, connected, _ = await connect(f"/ws/t/{table.token}/pay/?lang=en")
    assert connected
    assert f'id="payment-{payment.pk}" class="payment-box status-expired"' in (
        await pay.receive_from(timeout=5)
    )
    floor, connected, _ = await connect("/ws/cashier/", cookie)
    assert connected and f'id="table-{table.pk}"' in await floor.receive_from(timeout=5)
    bill, connected, _ = await connect(f"/ws/cashier/tabs/{tab.pk}/?lang=en", cookie)
    assert connected and "status-expired" in await bill.receive_from(timeout=5)
    for screen in (pay, floor, bill):
        await screen.disconnect()
    assert await sync_to_async(database_rows)() == before
    await sync_to_async(assert_untouched)(payment)


@pytest.mark.django_db
def test_closing_the_table_closes_an_overdue_payment_at_the_gateway_first(cashier, table, menu):
    """A POST may write: closing a tab whose only payment is overdue expires it, then refuses
    only for the money still owed."""
    tab, payment = overdue_payment(table, menu)
    counter = Client()
    counter.force_login(cashier)
    answer = counter.post(f"/cashier/tabs/{tab.pk}/close/", headers={**EN, "HX-Request": "true"})
    assert answer.status_code == 409 and "still owed" in answer.content.decode()
    assert Payment.objects.get(pk=payment.pk).status == "expired"
    assert charge_of(payment).status == SandboxCharge.Status.CLOSED
    assert Tab.objects.get(pk=tab.pk).status == "open"
