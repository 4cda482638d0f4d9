"""The ledger's append lock and its last hash read in one round trip (payments 0016) never fork
the chain: an append that waited for the lock links to the entry committed while it waited."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from payments.ledger import APPEND_LOCK, GENESIS, chain_problems
from payments.models import LedgerEntry

from .test_payment_races import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def entry(amount):
    return LedgerEntry(account=LedgerEntry.Account.CASH, kind="payment", amount=Decimal(amount))


def someone_waits_for_a_lock(locktype="transactionid"):
    """A backend of this database waits for a lock of that type (a row's: its transaction's)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_stat_activity a ON a.pid = pg_locks.pid"
            " WHERE locktype = %s AND NOT granted AND a.datname = current_database()",
            [locktype],
        )
        return cursor.fetchone()[0] > 0


def someone_waits_for_the_lock():
    return someone_waits_for_a_lock("advisory")


def holding_the_lock_until_another_waits(first, other_started, other):
    """Thread: append `first`, start `other`, and commit only once it waits for the lock."""
    try:
        with transaction.atomic():
            LedgerEntry.append([first])
            other_started.set()
            deadline = time.monotonic() + 10
            while not someone_waits_for_the_lock():
                assert time.monotonic() < deadline, "the other append never waited for the lock"
                time.sleep(0.02)
            other["waited"] = True
    finally:
        connection.close()


def test_an_append_that_waited_for_the_lock_links_to_the_entry_committed_meanwhile(
    needs_postgres,
):
    LedgerEntry.append([entry("1.00")])
    first, second = entry("2.00"), entry("3.00")
    started, other = threading.Event(), {}
    holder = threading.Thread(
        target=holding_the_lock_until_another_waits, args=(first, started, other)
    )
    holder.start()
    assert started.wait(10)
    with transaction.atomic():
        LedgerEntry.append([second])  # waits for the holder's commit
    holder.join(10)
    assert other == {"waited": True}
    assert second.previous_hash == first.hash
    assert list(chain_problems(LedgerEntry.objects.order_by("id"))) == []


def test_the_hash_read_in_the_locking_statement_itself_would_be_stale(needs_postgres):
    """Why a function: one statement's snapshot is taken before its lock is granted, so the
    hash it reads is the one from before the holder's commit (a fork, had it been used)."""
    LedgerEntry.append([entry("1.00")])
    before = LedgerEntry.objects.get().hash
    first, started, other = entry("2.00"), threading.Event(), {}
    holder = threading.Thread(
        target=holding_the_lock_until_another_waits, args=(first, started, other)
    )
    holder.start()
    assert started.wait(10)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s), "
            "(SELECT hash FROM payments_ledgerentry ORDER BY id DESC LIMIT 1)",
            [APPEND_LOCK],
        )
        stale = cursor.fetchone()[1]
        cursor.execute("SELECT payments_ledger_lock_head(%s)", [APPEND_LOCK])
        fresh = cursor.fetchone()[0]
    holder.join(10)
    assert other == {"waited": True}
    assert stale == before != first.hash
    assert fresh == first.hash


def test_twelve_appends_at_once_make_one_chain(needs_postgres):
    at_once(12, lambda i: LedgerEntry.append([entry(f"{i + 1}.00"), entry(f"-{i + 1}.00")]))
    entries = list(LedgerEntry.objects.order_by("id"))
    assert len(entries) == 24
    assert entries[0].previous_hash == GENESIS
    assert list(chain_problems(entries)) == []
    assert len({e.previous_hash for e in entries}) == 24


def test_a_payment_during_a_handover_posts_to_no_shift_whose_figures_were_taken(
    needs_postgres, table, menu, cashier
):
    """The shift's row is locked before the append lock now (payments/books/services.py): a
    card payment waiting for a handover in progress posts to whatever shift is open after it."""
    from payments import services
    from payments.books import services as books
    from payments.books.models import Posting, Shift

    from .conftest import seat

    tab = seat(table, menu)
    shift = books.shift_open(user=cashier, till="前台", float_amount=Decimal("100"))
    started, other = threading.Event(), {}

    def handing_over():
        try:
            with transaction.atomic():
                Shift.objects.select_for_update().get(pk=shift.pk)
                started.set()
                deadline = time.monotonic() + 10
                while not someone_waits_for_a_lock():
                    assert time.monotonic() < deadline, "the payment never waited for the shift"
                    time.sleep(0.02)
                other["waited"] = True
                books.shift_hand_over(user=cashier, shift_id=shift.pk, counted=Decimal("100"))
        finally:
            connection.close()

    hand_over = threading.Thread(target=handing_over)
    hand_over.start()
    assert started.wait(10)
    payment, _created = services.payment_start(
        tab_id=tab.pk, method="card", amount=Decimal("20"), version=tab.version, key="k",
        user=cashier, terminal_ref="T",
    )  # fmt: skip
    hand_over.join(10)
    assert other == {"waited": True}
    shift.refresh_from_db()
    assert shift.closed_at is not None and shift.difference == 0
    assert Posting.objects.get(entry__payment=payment).shift is None
