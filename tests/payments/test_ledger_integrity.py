"""The ledger in the database: PostgreSQL itself refuses to change or delete an entry, whoever
asks, and the hash chain shows any entry changed, removed or inserted behind the trigger's back
(`manage.py check_ledger`)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from payments.models import LedgerEntry, Payment

from .conftest import seat

pytestmark = pytest.mark.django_db


def pay(api, tab, method="cash", amount="100", **extra):
    body = {"method": method, "amount": amount, "version": tab.version, "key": method, **extra}
    answer = api.staff_post(f"/tabs/{tab.pk}/payments", body)
    assert answer.status_code == 201, answer.content
    return Payment.objects.get(pk=answer.json()["payment"]["id"])


@pytest.fixture
def books(api, tab, other_table, menu):
    """Three entries: ¥100 cash with ¥50 change on one tab, ¥50 by card on another."""
    pay(api, tab)
    pay(api, seat(other_table, menu, key="second"), method="card", amount="50", reference="T-9")
    return list(LedgerEntry.objects.order_by("id"))


def check():
    out = StringIO()
    call_command("check_ledger", stdout=out)
    return out.getvalue()


def behind_the_triggers_back(sql, params=()):
    """What someone with the database's owner rights can still do: switch triggers off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_an_honest_ledger_checks_out_and_each_entry_links_to_the_one_before(books):
    assert [entry.amount for entry in books] == [100, -50, 50]
    assert [entry.previous_hash for entry in books[1:]] == [entry.hash for entry in books[:-1]]
    assert check().startswith(f"The ledger checks out: 3 entries, last hash {books[-1].hash}")


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM payments_ledgerentry",
        "DELETE FROM payments_ledgerentry WHERE kind = 'change'",
        "UPDATE payments_ledgerentry SET amount = 0",
        "UPDATE payments_ledgerentry SET note = 'edited' WHERE kind = 'payment'",
    ],
)
def test_postgresql_refuses_raw_sql_that_changes_or_deletes_entries(needs_postgres, books, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert list(LedgerEntry.objects.order_by("id")) == books
    assert [e.amount for e in LedgerEntry.objects.order_by("id")] == [100, -50, 50]


def test_postgresql_refuses_the_orms_raw_delete_too(needs_postgres, books):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(kind="change")._raw_delete(connection.alias)
    assert LedgerEntry.objects.count() == 3


@pytest.mark.parametrize(
    "sql", ["TRUNCATE payments_ledgerentry", "TRUNCATE payments_ledgerentry CASCADE"]
)
def test_postgresql_refuses_truncate_of_the_ledger(needs_postgres, books, sql):
    """TRUNCATE fires no row trigger: a statement trigger of its own refuses it (migration
    payments/0005). Django's `flush` therefore refuses on a database with a ledger; the test
    suite's flush runs with triggers off (tests/conftest.py)."""
    # A plain TRUNCATE meets the books' postings (payments/books, one per entry) first, which
    # reference the ledger; with CASCADE it reaches the trigger. Refused either way.
    refusal = "append-only: TRUNCATE|referenced in a foreign key constraint"
    with pytest.raises(DatabaseError, match=refusal), transaction.atomic():
        with connection.cursor() as cursor:
            # The test's own transaction holds deferred foreign-key checks, which PostgreSQL
            # would give as its reason to refuse; run them now, as a fresh session would have.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql)
    assert list(LedgerEntry.objects.order_by("id")) == books
    assert check().startswith("The ledger checks out: 3 entries")


def test_a_changed_amount_is_detected(needs_postgres, books):
    change = books[1]
    behind_the_triggers_back(
        "UPDATE payments_ledgerentry SET amount = -5 WHERE id = %s", [change.pk]
    )
    with pytest.raises(CommandError) as refused:
        check()
    assert f"ledger entry {change.pk} was changed after it was written" in str(refused.value)
    assert f"payment {change.payment_id} " in str(refused.value)


def test_a_removed_entry_is_detected(needs_postgres, books):
    # With the entry goes its posting (payments/books), which references it.
    behind_the_triggers_back("DELETE FROM payments_posting WHERE entry_id = %s", [books[0].pk])
    behind_the_triggers_back("DELETE FROM payments_ledgerentry WHERE id = %s", [books[0].pk])
    with pytest.raises(CommandError) as refused:
        check()
    assert f"ledger entry {books[1].pk} does not follow the entry before it" in str(refused.value)


def test_an_entry_rewritten_with_its_own_hash_recomputed_still_breaks_the_chain(
    needs_postgres, books
):
    """Whoever fixes up the changed entry's own hash breaks the link of the entry after it."""
    from payments import ledger

    change = books[1]
    change.amount = -5
    forged = ledger.entry_digest(change, change.previous_hash)
    behind_the_triggers_back(
        "UPDATE payments_ledgerentry SET amount = -5, hash = %s WHERE id = %s",
        [forged, change.pk],
    )
    with pytest.raises(CommandError) as refused:
        check()
    assert f"ledger entry {books[2].pk} does not follow the entry before it" in str(refused.value)
