"""The reports' roll-up of closed days (payments/reports/rollup.py): a closed day's figures read
from it are, to the fen, what the live aggregates of its bills give; a bill changed after its
day was closed makes that day live again until the next close sums it anew; today and days not
closed stay live."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from orders import figures as live
from orders import services as order_services
from orders.models import Order, OrderLine, Tab, Table
from payments.books import services as books
from payments.books.models import BusinessDay, TabDay
from payments.books.selectors import open_day
from payments.models import DayRollup, DishDay
from payments.reports import figures, rollup
from payments.reports.figures import Period, bills_of

from .report_day import DAY, make_day
from .test_books import cash

pytestmark = pytest.mark.django_db


def _close(manager, *days):
    for day in days:
        BusinessDay.objects.create(day=day, closed_by=manager, report={})
    rollup.rollup_refresh()


def _kept(period):
    """The days of the period read from the roll-up (the others are read live)."""
    return set(rollup._fresh(period.first, period.last)[0])


def _dishes(rows):
    return sorted(
        (r.dish, r.name, r.category, r.quantity, r.amount, r.voided_quantity, r.voided_amount,
         r.share)
        for r in rows
    )  # fmt: skip


def assert_as_live(period):
    """Every figure the roll-up serves equals the live aggregate of the period's bills."""
    tabs = bills_of(period)
    assert figures.bill_totals(period) == live.bill_totals(tabs)
    assert _dishes(figures.dish_sales(period)) == _dishes(live.dish_sales(tabs))
    assert sorted(figures.category_sales(period), key=str) == sorted(
        live.category_sales(tabs), key=str
    )
    for unit in ("day", "week", "month"):
        assert figures.sales_by(period, unit) == _live_sales_by(period, unit)


def _live_sales_by(period, unit):
    """`sales_by` with no day kept: the roll-up emptied inside a savepoint, then put back."""
    from django.db import transaction

    try:
        with transaction.atomic():
            DayRollup.objects.all().delete()
            rows = figures.sales_by(period, unit)
            raise _Undo(rows)
    except _Undo as undo:
        return undo.rows


class _Undo(Exception):
    def __init__(self, rows):
        self.rows = rows


@pytest.fixture
def day(menu, cashier, manager):
    return make_day(menu, cashier, manager)


def test_the_hand_made_day_read_from_its_roll_up_is_the_live_figures_to_the_fen(day, manager):
    period = Period.days(DAY)
    _close(manager, DAY)
    assert _kept(period) == {DAY}
    assert DishDay.objects.filter(day=DAY).count() == 3  # fish, chicken, cucumber
    assert figures.bill_totals(period).sales == Decimal("310.00")
    assert_as_live(period)
    assert_as_live(Period.days(date(2026, 11, 30), date(2026, 12, 2)))  # beside live days


def test_with_a_service_charge_and_after_the_percent_changes(day, manager, settings):
    settings.SERVICE_CHARGE_PERCENT = "10"
    _close(manager, DAY)
    period = Period.days(DAY)
    assert _kept(period) == {DAY}
    assert figures.bill_totals(period).service_charge == Decimal("32.00")  # 10 % of 82, 62, 176
    assert_as_live(period)
    settings.SERVICE_CHARGE_PERCENT = "15"  # summed at 10 %: read live now
    assert _kept(period) == set()
    assert_as_live(period)


def test_a_bill_changed_after_its_day_closed_reads_live_until_the_next_close(
    day, manager, cashier, menu
):
    period = Period.days(DAY)
    _close(manager, DAY)
    bill1 = day["bills"][1]
    before = figures.bill_totals(period).sales
    order_services.line_void(
        line_id=OrderLine.objects.get(order__tab=bill1, name="拍黄瓜").pk, reason="退菜",
        user=manager,
    )  # fmt: skip
    assert _kept(period) == set()  # its version grew: the day is live
    assert figures.bill_totals(period).sales == before - Decimal("12.00")
    assert_as_live(period)
    rollup.rollup_refresh()  # as the next day close does
    assert _kept(period) == {DAY}
    assert_as_live(period)


def test_a_renamed_category_shows_under_its_new_name_as_live(day, manager, menu):
    _close(manager, DAY)
    menu["chicken"].category.name = "招牌菜"
    menu["chicken"].category.save()
    period = Period.days(DAY)
    assert _kept(period) == {DAY}
    assert "招牌菜" in {row.category for row in figures.category_sales(period)}
    assert_as_live(period)


def test_the_day_close_sums_its_day(tab, manager, cashier, commits):
    with commits():
        cash(tab, "50", "a", user=cashier)
    with commits():
        order_services.tab_close(tab_id=tab.pk, user=cashier)
    day = open_day()
    books.day_close(user=manager, day=day)
    rolled = DayRollup.objects.get(day=day)
    assert (rolled.bills, rolled.service_charge) == (1, Decimal("0.00"))
    assert sum(d.takings for d in DishDay.objects.filter(day=day)) == Decimal("50.00")
    assert _kept(Period.days(day)) == {day}
    assert_as_live(Period.days(day))


def test_a_random_set_of_days_some_closed_some_changed_sums_as_live(menu, manager, settings):
    settings.SERVICE_CHARGE_PERCENT = "7.5"
    dice = random.Random(20261202)
    dishes = [menu["fish"], menu["chicken"], menu["cucumber"]]
    tables = [Table.objects.create(code=f"T{n}", area="大厅", seats=4) for n in range(4)]
    first = date(2026, 10, 27)  # across a month's end and several weeks
    days = [first + timedelta(days=n) for n in range(10)]
    for day in days:
        for _ in range(dice.randint(0, 6)):
            tab = Tab.objects.create(
                table=dice.choice(tables), guests=dice.randint(1, 6), status=Tab.Status.CLOSED,
                discount=Decimal(dice.choice(["0", "0", "3.50", "10"])),
            )  # fmt: skip
            TabDay.objects.create(tab=tab, day=day)
            order = Order.objects.create(tab=tab, number=1, key=f"r{tab.pk}")
            for _ in range(dice.randint(1, 5)):
                dish = dice.choice(dishes)
                quantity = dice.randint(1, 3)
                discount = Decimal(dice.choice(["0", "0", "0", "1.25", "5"]))
                OrderLine.objects.create(
                    order=order, dish=dish, name=dish.name, quantity=quantity,
                    unit_price=dish.price, discount=discount,
                    amount=dish.price * quantity - discount,
                    status=dice.choice([OrderLine.Status.SERVED] * 6 + [OrderLine.Status.VOIDED]),
                )  # fmt: skip
    closed = days[:7]
    _close(manager, *closed)
    whole = Period.days(days[0], days[-1])
    assert _kept(whole) == set(closed)  # a closed day without bills too (at zero)
    assert_as_live(whole)
    # A dish added to a bill of a closed day (加菜), its version grown as the service grows it.
    changed = Tab.objects.filter(pk__in=TabDay.objects.filter(day=days[2]).values("tab_id"))
    tab = changed.first()
    if tab is not None:
        OrderLine.objects.create(
            order=tab.orders.first(), dish=dishes[0], name=dishes[0].name, quantity=2,
            unit_price=dishes[0].price, amount=dishes[0].price * 2,
        )  # fmt: skip
        Tab.objects.filter(pk=tab.pk).update(version=tab.version + 1)
        assert days[2] not in _kept(whole)
    assert_as_live(whole)
    assert_as_live(Period.days(days[3], days[8]))
