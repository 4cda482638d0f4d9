"""The day close racing money on PostgreSQL: money placed in a business day whose close is
computing its Z report. Before, the close did not wait: the payment committed to the closed day
after the kept Z report was taken, so it was in no Z report (the closed day's is never
recomputed, the next day's does not count it). Now the close waits for it; money placed once the
close committed goes to the next day."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from payments.books import services as books
from payments.books.models import BusinessDay, Posting, TabDay
from payments.books.selectors import open_day
from payments.members import services as members

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_close_waits_for_money_placed_in_its_day_and_its_z_report_counts_it(
    needs_postgres, manager
):
    member = members.member_create(mobile="13800138000", name="王芳", pin="123456")
    day = open_day()
    placed, release = threading.Event(), threading.Event()

    def top_up():  # the till's top-up, its transaction still open when the close comes
        try:
            with transaction.atomic():
                members.top_up_create(
                    member_id=member.pk, amount=Decimal("100"), method="cash", key="t"
                )
                placed.set()
                release.wait(10)
        finally:
            connection.close()

    closed = {}

    def close():
        try:
            closed["day"] = books.day_close(user=manager, day=day, key="c")
        finally:
            connection.close()

    paying = threading.Thread(target=top_up)
    paying.start()
    assert placed.wait(10)
    closing = threading.Thread(target=close)
    closing.start()
    closing.join(1)
    waited = closing.is_alive()
    release.set()
    paying.join(10)
    closing.join(10)

    assert waited, "the close did not wait for the money placed in its day"
    kept = BusinessDay.objects.get(day=day).report
    assert set(Posting.objects.values_list("day", flat=True)) == {day}
    assert kept["postings"] == Posting.objects.count() > 0
    assert kept["member"]["top_ups"] == "100.00"


def test_a_close_waits_for_a_bill_given_its_day_and_counts_it(needs_postgres, manager, tab):
    day = open_day()
    placed, release = threading.Event(), threading.Event()

    def settle():  # the bill's day given, its transaction still open when the close comes
        try:
            with transaction.atomic():
                books.tab_day_set(tab_id=tab.pk)
                placed.set()
                release.wait(10)
        finally:
            connection.close()

    def close():
        try:
            books.day_close(user=manager, day=day, carry_reason="还在吃", key="c")
        finally:
            connection.close()

    settling = threading.Thread(target=settle)
    settling.start()
    assert placed.wait(10)
    closing = threading.Thread(target=close)
    closing.start()
    closing.join(1)
    waited = closing.is_alive()
    release.set()
    settling.join(10)
    closing.join(10)

    assert waited, "the close did not wait for the bill given its day"
    assert TabDay.objects.get(tab=tab).day == day
    assert BusinessDay.objects.get(day=day).report["bills"] == 1


def test_money_placed_after_a_close_goes_to_the_next_day(needs_postgres, manager):
    member = members.member_create(mobile="13800138000", name="王芳", pin="123456")
    day = open_day()
    books.day_close(user=manager, day=day, key="c")
    members.top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    assert set(Posting.objects.values_list("day", flat=True)) == {day + timedelta(days=1)}
    assert BusinessDay.objects.get(day=day).report["postings"] == 0
