"""Races on PostgreSQL: many threads, each with its own connection, at the same moment."""

import threading

import pytest
from django.db import connection
from django.test import Client

from orders.settlement import build_settlement
from payments.models import LedgerEntry, Payment, Refund
from payments.providers import sandbox

from .conftest import approve, lapse, ledger_sum, notify, qr_payment, seat

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(count, work):
    """Run `work(i)` in `count` threads released together; returns their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_tills_taking_the_whole_bill_at_once_take_it_once(needs_postgres, api, table, menu):
    tab = seat(table, menu)

    def pay(i):
        body = {"method": "cash", "amount": "50", "version": tab.version, "key": f"till-{i}"}
        return api.staff_post(f"/tabs/{tab.pk}/payments", body).status_code

    assert sorted(at_once(2, pay)) == [201, 409]
    assert Payment.objects.count() == 1
    assert build_settlement(tab.pk)["balance_due"] == "0.00"


def test_a_notification_replayed_by_many_threads_records_one_payment(needs_postgres, table, menu):
    tab = seat(table, menu)
    payment = qr_payment(tab)
    charge = approve(payment)
    body = sandbox.notification_body(charge)
    codes = at_once(20, lambda i: notify(Client(), charge, body=body).status_code)
    assert set(codes) == {200}
    assert Payment.objects.get().status == "succeeded"
    assert LedgerEntry.objects.count() == 1 and ledger_sum() == 50


def test_two_phones_paid_at_the_gateway_at_once_are_kept_once(needs_postgres, table, menu):
    tab = seat(table, menu)
    payments = [lapse(qr_payment(tab, key="a")), qr_payment(tab, key="b")]  # see lapse()
    charges = [approve(p) for p in payments]
    codes = at_once(2, lambda i: notify(Client(), charges[i]).status_code)
    assert codes == [200, 200]
    settlement = build_settlement(tab.pk)
    assert (settlement["balance_due"], settlement["refunded"]) == ("0.00", "50.00")
    assert Refund.objects.get().automatic
    assert ledger_sum(tab_id=tab.pk) == 50
