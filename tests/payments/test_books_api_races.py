"""The books' idempotency keys under races on PostgreSQL: the same request sent several times at
once (a client retrying before the first answer came) does it once, and every copy is answered
with what the first did. Threads, each its own connection, released together."""

from decimal import Decimal

import pytest

from payments.books import services as books
from payments.books.models import BusinessDay, CashMovement, Shift
from payments.books.selectors import open_day
from restaurant.lib.audit import AuditEntry

from .test_books_api import Caller
from .test_payment_races import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def copies(user, count, path, body):
    """`count` sessions of `user` posting the same body at once: their answers' statuses."""
    callers = [Caller(user) for _ in range(count)]
    answers = at_once(count, lambda i: callers[i].post(path, body))
    return sorted(a.status_code for a in answers), answers


def test_one_key_sent_three_times_at_once_opens_one_shift(needs_postgres, cashier):
    statuses, answers = copies(cashier, 3, "/shifts", {"till": "1", "float": "50", "key": "o"})
    assert statuses == [200, 200, 201]
    assert Shift.objects.count() == 1
    assert {a.json()["id"] for a in answers} == {Shift.objects.get().pk}


def test_one_key_sent_three_times_at_once_pays_out_once(needs_postgres, cashier):
    books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    body = {"direction": "out", "amount": "30", "reason": "买菜", "key": "c"}
    statuses, _answers = copies(cashier, 3, "/shifts/current/cash", body)
    assert statuses == [200, 200, 201]
    assert CashMovement.objects.count() == 1
    assert AuditEntry.objects.filter(kind="cash").count() == 1


def test_one_key_sent_twice_at_once_hands_over_once(needs_postgres, cashier):
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    body = {"counted": "100", "key": "h"}
    statuses, answers = copies(cashier, 2, f"/shifts/{shift.pk}/handover", body)
    assert statuses == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert AuditEntry.objects.filter(kind="shift").count() == 1


def test_one_key_sent_twice_at_once_closes_the_day_once(needs_postgres, manager):
    statuses, answers = copies(manager, 2, f"/days/{open_day()}/close", {"key": "d"})
    assert statuses == [200, 201]
    assert answers[0].json() == answers[1].json()
    assert BusinessDay.objects.count() == 1
    assert AuditEntry.objects.filter(kind="day_close").count() == 1
