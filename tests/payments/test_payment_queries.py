"""What a card payment costs the database, pinned: the staff API's payment reads the bill once,
answers with the settlement its own transaction left, and writes the books last (README,
Performance). A change that adds a query here has to change these numbers on purpose."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments import realtime
from payments.models import LedgerEntry

pytestmark = pytest.mark.django_db

# Statements a card payment through POST /api/v1/tabs/<tab>/payments sends, savepoints aside:
# the device token, the tab's existence, its lock, the key, the bill (lines, payments,
# adjustments), refunds on their way back, the payment and its event, the payment reported
# back (its row, the tab's version), and, as the money of a day, the reports' roll-up told
# (its day's lock shared, its stale mark: reports/rollup.py); where its ledger entry belongs
# (the business day, its books lock shared first so that a day close waits for it, the shift),
# the ledger (the lock and the last hash in one function, the
# entry) and the entry's posting; the payment's refunds for the answer.
CARD_PAYMENT = 22
# The ledger's append lock: taken by a function that reads the last hash after it (payments
# 0016), told apart from the days' shared locks.
LOCK = "payments_ledger_lock_head"
# A floor tile after a payment (the cashier screen's consumer): the tab with its table, its
# unfinished payments, the bill.
FLOOR_TILE = 5


def statements(queries):
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def now(api, tab):
    """The settlement as the API reads it afresh."""
    return api.staff_get(f"/tabs/{tab.pk}/settlement").json()


def card(api, tab, amount, key, version):
    body = {"method": "card", "amount": amount, "version": version, "key": key, "reference": key}
    return api.staff_post(f"/tabs/{tab.pk}/payments", body)


def test_a_card_payment_reads_the_bill_once_and_answers_with_it(api, tab, commits):
    with CaptureQueriesContext(connection) as queries, commits():
        answer = card(api, tab, "20.00", "T-1", tab.version)
    assert answer.status_code == 201, answer.json()
    sent = statements(queries)
    assert len(sent) == CARD_PAYMENT, "\n".join(sent)
    assert sum(LOCK in sql for sql in sent) == 1
    assert answer.json()["settlement"] == now(api, tab)
    assert answer.json()["settlement"]["balance_due"] == "30.00"


def test_the_ledger_is_written_last_so_its_lock_is_held_the_shortest_time(api, tab, commits):
    with CaptureQueriesContext(connection) as queries, commits():
        card(api, tab, "20.00", "T-1", tab.version)
    sent = statements(queries)
    lock = next(n for n, sql in enumerate(sent) if LOCK in sql)
    # The lock with the last hash, the entry, its posting; then the answer's read of the
    # payment's refunds, after the commit. The business day and the shift are read before.
    assert len(sent) - lock == 4, "\n".join(sent[lock:])
    assert "payments_businessday" in sent[lock - 2] and "payments_shift" in sent[lock - 1]
    assert LedgerEntry.objects.get().amount == 20


def test_the_payment_that_settles_the_bill_answers_the_settled_bill(api, tab, commits):
    with commits():
        first = card(api, tab, "20.00", "T-1", tab.version).json()["settlement"]
        last = card(api, tab, "30.00", "T-2", first["version"])
    assert last.status_code == 201
    settlement = last.json()["settlement"]
    assert (settlement["status"], settlement["balance_due"], settlement["paid"]) == (
        "settled",
        "0.00",
        "50.00",
    )
    assert settlement == now(api, tab)


def test_a_replayed_payment_answers_the_bill_as_it_is_now(api, tab, commits):
    with commits():
        first = card(api, tab, "20.00", "T-1", tab.version)
        card(api, tab, "10.00", "T-2", first.json()["settlement"]["version"])
        again = card(api, tab, "20.00", "T-1", tab.version)
    assert again.status_code == 200
    assert again.json()["settlement"] == now(api, tab)
    assert again.json()["settlement"]["paid"] == "30.00"


def test_the_floor_tile_a_payment_brings_is_read_in_a_few_queries(api, tab, commits):
    with commits():
        card(api, tab, "20.00", "T-1", tab.version)
    with CaptureQueriesContext(connection) as queries:
        html = realtime.render_floor_event({"kind": "tab", "tab": tab.pk})
    assert len(statements(queries)) == FLOOR_TILE, "\n".join(statements(queries))
    assert f'id="table-{tab.table_id}"' in html and "¥30" in html
