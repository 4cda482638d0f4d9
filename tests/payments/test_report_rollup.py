"""The reports' roll-up of closed days (payments/reports/rollup.py): every report read from it is,
to the fen, what the live aggregates give; a change that touches a summed day (a void, a refund,
a dish added after paying, a bill closed) marks it stale in the change's own transaction, so it
is read live until the worker sums it again; days not closed or not over stay live."""

import random
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orders import figures as live
from orders import services as order_services
from orders.models import Order, OrderLine, Tab, Table
from payments import services
from payments.books import services as books
from payments.books.models import BusinessDay, TabDay
from payments.books.selectors import open_day
from payments.models import (
    DayRollup,
    DishDay,
    DishMonth,
    HourDay,
    MethodDay,
    MethodMonth,
    MonthRollup,
    StaffDay,
    TableDay,
)
from payments.reports import figures, rollup
from payments.reports.figures import Period, bills_of
from restaurant.lib.business_day import day_bounds

from .report_day import DAY, make_day
from .test_books import cash

pytestmark = pytest.mark.django_db


def _after(day):
    """A moment when `day` is over (an hour after its cut-off)."""
    return day_bounds(day)[1] + timedelta(hours=1)


def _close(manager, *days):
    for day in days:
        BusinessDay.objects.create(day=day, closed_by=manager, report={})
    return rollup.rollup_refresh(now=_after(max(days)))


def _kept(period):
    """The days of the period read from the roll-up (the others are read live)."""
    return set(figures.kept_of(period).days)


def _stale(day):
    return DayRollup.objects.get(day=day).stale


def _dishes(rows):
    return sorted(
        (r.dish, r.name, r.category, r.quantity, r.amount, r.voided_quantity, r.voided_amount,
         r.share)
        for r in rows
    )  # fmt: skip


def everything(period):
    """Every report's figures over the period, as the pages read them."""
    with figures.read_once():
        return {
            "totals": figures.bill_totals(period),
            "money": figures.money_totals(period),
            "dishes": _dishes(figures.dish_sales(period)),
            "categories": sorted(figures.category_sales(period), key=str),
            **{f"sales by {unit}": figures.sales_by(period, unit) for unit in ("day", "week",
                                                                                "month")},
            "hours": figures.sales_by_hour(period),
            "methods": figures.method_figures(period),
            "tables": figures.table_figures(period),
            "areas": figures.area_figures(period),
            "staff": figures.staff_figures(period),
        }  # fmt: skip


class _Undo(Exception):
    pass


def everything_live(period):
    """`everything` with no day kept: the roll-up emptied inside a savepoint, then put back."""
    found = {}
    try:
        with transaction.atomic():
            DayRollup.objects.all().delete()
            found.update(everything(period))
            raise _Undo
    except _Undo:
        pass
    return found


def assert_as_live(period):
    """Every figure the roll-up serves equals the live aggregates of the period, to the fen."""
    kept = everything(period)
    assert kept == everything_live(period)
    tabs = bills_of(period)  # and the bills' figures as orders computes them, live
    assert kept["totals"] == live.bill_totals(tabs)
    assert kept["dishes"] == _dishes(live.dish_sales(tabs))
    assert kept["categories"] == sorted(live.category_sales(tabs), key=str)
    assert kept["tables"] == live.table_figures(tabs)
    assert kept["hours"] == live.sales_by_hour(period.start, period.end)


@pytest.fixture
def day(menu, cashier, manager):
    return make_day(menu, cashier, manager)


def test_the_hand_made_day_read_from_its_roll_up_is_the_live_figures_to_the_fen(day, manager):
    period = Period.days(DAY)
    assert _close(manager, DAY) == [DAY]
    assert _kept(period) == {DAY}
    assert DishDay.objects.filter(day=DAY).count() == 3  # fish, chicken, cucumber
    assert TableDay.objects.filter(day=DAY).count() == 3  # A1, A2, V1
    assert HourDay.objects.filter(day=DAY).count() == 3  # 12:00, 18:00, 23:00
    assert MethodDay.objects.filter(day=DAY).count() == 3  # cash, WeChat Pay, card
    assert StaffDay.objects.filter(day=DAY).count() == 2  # the cashier, the manager
    found = everything(period)
    assert found["totals"].sales == Decimal("310.00")
    assert found["money"].received == Decimal("290.00")  # 82 + 52 + 176 − 20
    assert_as_live(period)
    assert_as_live(Period.days(date(2026, 11, 30), date(2026, 12, 2)))  # beside live days


def test_a_page_reads_which_days_are_kept_once(day, manager, django_assert_max_num_queries):
    _close(manager, DAY)
    period = Period.days(DAY)
    with figures.read_once():
        figures.bill_totals(period)
        figures.money_totals(period)
        with django_assert_max_num_queries(0):  # the same period again: nothing read anew
            figures.bill_totals(period)
            figures.money_totals(period)
            figures.method_figures(Period.days(DAY))  # an equal period is the same


def test_with_a_service_charge_and_after_the_percent_changes(day, manager, settings):
    settings.SERVICE_CHARGE_PERCENT = "10"
    _close(manager, DAY)
    period = Period.days(DAY)
    assert _kept(period) == {DAY}
    assert figures.bill_totals(period).service_charge == Decimal("32.00")  # 10 % of 82, 62, 176
    assert_as_live(period)
    settings.SERVICE_CHARGE_PERCENT = "15"  # summed at 10 %: read live now, and due again
    assert _kept(period) == set()
    assert_as_live(period)
    assert rollup.rollup_refresh(now=_after(DAY)) == [DAY]
    assert _kept(period) == {DAY}
    assert_as_live(period)


def test_a_day_not_closed_or_not_over_is_not_summed(day, manager):
    assert rollup.rollup_due(now=_after(DAY)) == []  # not closed
    BusinessDay.objects.create(day=DAY, closed_by=manager, report={})
    assert rollup.rollup_due(now=day_bounds(DAY)[1] - timedelta(minutes=1)) == []  # not over
    assert rollup.rollup_due(now=day_bounds(DAY)[1]) == [DAY]


def test_the_worker_sums_a_few_days_per_round_oldest_first(manager, monkeypatch):
    from restaurant.management.commands import worker

    days = [DAY - timedelta(days=n) for n in range(3)]
    for day in days:
        BusinessDay.objects.create(day=day, closed_by=manager, report={})
    monkeypatch.setattr(rollup, "DAYS_PER_ROUND", 2)
    assert ("rollup", rollup.rollup_round) in worker.JOBS
    assert rollup.rollup_round() == sorted(days)[:2]
    assert rollup.rollup_round() == [DAY]
    assert rollup.rollup_round() == []


def test_a_void_marks_the_day_stale_in_its_own_transaction(day, manager):
    _close(manager, DAY)
    line = OrderLine.objects.get(order__tab=day["bills"][1], name="拍黄瓜")
    with pytest.raises(_Undo), transaction.atomic():
        order_services.line_void(line_id=line.pk, reason="退菜", user=manager)
        assert _stale(DAY)  # before the commit: no moment where the void shows and the day not
        raise _Undo
    assert not _stale(DAY)  # rolled back with the void it belonged to
    assert _kept(Period.days(DAY)) == {DAY}


def test_a_void_after_the_close_reads_live_until_the_worker_sums_the_day_again(day, manager):
    period = Period.days(DAY)
    _close(manager, DAY)
    before = figures.bill_totals(period).sales
    order_services.line_void(
        line_id=OrderLine.objects.get(order__tab=day["bills"][1], name="拍黄瓜").pk,
        reason="退菜", user=manager,
    )  # fmt: skip
    assert _stale(DAY)
    assert _kept(period) == set()
    assert figures.bill_totals(period).sales == before - Decimal("12.00")
    assert_as_live(period)
    assert rollup.rollup_due(now=_after(DAY)) == [DAY]
    assert rollup.rollup_refresh(now=_after(DAY)) == [DAY]  # the worker's next round
    assert not _stale(DAY)
    assert _kept(period) == {DAY}
    assert figures.bill_totals(period).sales == before - Decimal("12.00")
    assert_as_live(period)


def test_a_renamed_category_shows_under_its_new_name_as_live(day, manager, menu):
    _close(manager, DAY)
    menu["chicken"].category.name = "招牌菜"
    menu["chicken"].category.save()
    period = Period.days(DAY)
    assert _kept(period) == {DAY}
    assert "招牌菜" in {row.category for row in figures.category_sales(period)}
    assert_as_live(period)


def test_changes_after_an_early_close_through_the_services(table, menu, manager, cashier, commits):
    """Today closed at once (as at 23:00, before the cut-off) and summed once it is over; then a
    refund by hand, a dish added after paying and paid for, a void refunded automatically and
    the bill closed: each marks the day stale, and every report equals the live one, before and
    after the worker sums it again."""
    tab = order_services.tab_for_table(table=table)
    order_services.order_submit(
        tab=tab, key="first", guests=2, user=cashier,
        lines=[order_services.LineRequest(dish=menu["cucumber"].pk),
               order_services.LineRequest(dish=menu["chicken"].pk, options=[menu["mild"].pk])],
    )  # fmt: skip
    with commits():
        paid = cash(tab, "50", "a", user=cashier)
    today = open_day()
    books.day_close(user=manager, day=today, carry_reason="客人还在")
    assert not DayRollup.objects.exists()  # the close sums nothing: the day is not over
    later = _after(today)
    assert rollup.rollup_refresh(now=later) == [today]
    period = Period.days(today)
    assert _kept(period) == {today}
    assert_as_live(period)

    steps = [
        lambda: services.refund_create(
            payment_id=paid.pk, amount=Decimal("5"), reason="拍黄瓜太咸", user=manager
        ),
        lambda: order_services.order_submit(
            tab=Tab.objects.get(pk=tab.pk),
            key="more",
            user=cashier,
            lines=[order_services.LineRequest(dish=menu["cucumber"].pk)],
        ),  # fmt: skip
        lambda: cash(tab, "12", "b", user=cashier),
        lambda: order_services.line_void(
            line_id=OrderLine.objects.filter(order__tab=tab, name="宫保鸡丁").get().pk,
            reason="太辣",
            user=manager,
        ),  # fmt: skip
        lambda: order_services.tab_close(tab_id=tab.pk, user=cashier),
    ]
    for step in steps:
        with commits():
            step()
        assert _stale(today)
        assert _kept(period) == set()
        assert_as_live(period)
        assert rollup.rollup_refresh(now=later) == [today]
        assert _kept(period) == {today}
        assert_as_live(period)
    found = everything(period)
    assert found["totals"].open_bills == 0
    # Paid 50 + 12; 5 back by hand, then 33 when the bill went down to 24 (two 拍黄瓜).
    assert (found["money"].refunded, found["money"].received) == (Decimal(38), Decimal(24))
    assert found["totals"].sales == Decimal("24.00")
    assert {row.user: row.refunds for row in found["staff"]} == {cashier.pk: 0, manager.pk: 1}


def _random_bills(menu, days, dice, most=6):
    """Up to `most` closed bills on each day, random dishes, discounts and voids."""
    dishes = [menu["fish"], menu["chicken"], menu["cucumber"]]
    tables = [Table.objects.create(code=f"T{n}", area=f"区{n % 2}", seats=4) for n in range(4)]
    zone = timezone.get_default_timezone()
    for day in days:
        for _ in range(dice.randint(0, most)):
            opened = datetime.combine(day, datetime.min.time(), zone) + timedelta(
                hours=dice.randint(11, 27), minutes=dice.randint(0, 59)
            )
            tab = Tab.objects.create(
                table=dice.choice(tables), guests=dice.randint(1, 6), status=Tab.Status.CLOSED,
                discount=Decimal(dice.choice(["0", "0", "3.50", "10"])), opened_at=opened,
                closed_at=opened + timedelta(minutes=dice.randint(20, 150)),
            )  # fmt: skip
            TabDay.objects.create(tab=tab, day=day)
            order = Order.objects.create(
                tab=tab, number=1, key=f"r{tab.pk}", created_at=opened + timedelta(minutes=5)
            )
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


def test_a_random_set_of_days_some_closed_some_changed_sums_as_live(menu, manager, settings):
    settings.SERVICE_CHARGE_PERCENT = "7.5"
    first = date(2026, 10, 27)  # across a month's end and several weeks
    days = [first + timedelta(days=n) for n in range(10)]
    _random_bills(menu, days, random.Random(20261202))
    closed = days[:7]
    _close(manager, *closed)
    whole = Period.days(days[0], days[-1])
    assert _kept(whole) == set(closed)  # a closed day without bills too (at zero)
    assert_as_live(whole)
    # A dish of a closed day's bill voided: that day is live again, the others kept.
    changed = OrderLine.objects.filter(
        order__tab__in=TabDay.objects.filter(day=days[2]).values("tab_id"),
        status=OrderLine.Status.SERVED,
    ).first()
    if changed is not None:
        order_services.line_void(line_id=changed.pk, reason="退菜", user=manager)
        assert _kept(whole) == set(closed) - {days[2]}
    assert_as_live(whole)
    assert_as_live(Period.days(days[3], days[8]))
    rollup.rollup_refresh(now=_after(days[-1]))
    assert _kept(whole) == set(closed)
    assert_as_live(whole)


def _in_thread(work):
    """Run `work` on a connection of its own; returns the thread and what it did."""
    done = {}

    def run():
        try:
            done["result"] = work()
            done["at"] = time.monotonic()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


@pytest.mark.django_db(transaction=True)
def test_the_worker_and_a_change_wait_for_each_other(needs_postgres, menu, cashier, manager):
    """A change still running when the worker starts to sum its day is waited for, and is in
    the sums; a change that starts while the worker sums waits, then marks the day stale."""
    make_day(menu, cashier, manager)
    _close(manager, DAY)
    line = OrderLine.objects.get(order__tab__table__code="A1", order__tab__guests=2, name="拍黄瓜")
    with transaction.atomic():  # a void in flight (as the service writes it)
        OrderLine.objects.filter(pk=line.pk).update(status=OrderLine.Status.VOIDED)
        rollup.moments_changed(moments=[timezone.now()], tab_id=line.order.tab_id)
        worker, summed = _in_thread(lambda: rollup.rollup_write(day=DAY))
        time.sleep(0.5)
        assert worker.is_alive()  # waiting for the void to commit
        committed = time.monotonic()
    worker.join(10)
    assert summed["at"] > committed
    period = Period.days(DAY)
    assert _kept(period) == {DAY}  # summed after the void, with it
    assert_as_live(period)

    with transaction.atomic():  # the worker summing (its lock), a change arriving meanwhile
        rollup._lock_day(DAY)
        change, marked = _in_thread(lambda: transaction.atomic()(rollup.days_changed)(days=[DAY]))
        time.sleep(0.5)
        assert change.is_alive()
        DayRollup.objects.filter(day=DAY).update(summed_at=timezone.now())
    change.join(10)
    assert marked["result"] == 1
    assert _stale(DAY)


@pytest.mark.parametrize(
    "model",
    [DayRollup, DishDay, HourDay, TableDay, StaffDay, MethodDay, MonthRollup, DishMonth,
     MethodMonth],
)  # fmt: skip
def test_the_roll_up_models_and_their_fields_have_chinese_names(model):
    from django.utils import translation

    with translation.override("zh-hans"):
        names = [str(model._meta.verbose_name), str(model._meta.verbose_name_plural)] + [
            str(field.verbose_name) for field in model._meta.fields if field.name != "id"
        ]
    assert all(any("\u4e00" <= char <= "\u9fff" for char in name) for name in names), names


def _void_one(days, manager):
    """Void a served dish on the first of these days that has one; returns that day."""
    for day in days:
        line = OrderLine.objects.filter(
            order__tab__in=TabDay.objects.filter(day=day).values("tab_id"),
            status=OrderLine.Status.SERVED,
        ).first()
        if line is not None:
            order_services.line_void(line_id=line.pk, reason="退菜", user=manager)
            return day
    raise AssertionError("no dish to void")


def test_a_whole_summed_month_is_read_from_the_month_roll_up_as_live(menu, manager, settings):
    settings.SERVICE_CHARGE_PERCENT = "7.5"
    november = date(2026, 11, 1)
    days = [date(2026, 10, 30) + timedelta(days=n) for n in range(36)]  # to 4 December
    _random_bills(menu, days, random.Random(202611), most=3)
    TabDay.objects.filter(day=date(2026, 11, 9)).delete()  # a day of the month without bills
    closed = days[2:35]  # 1 November to 3 December; 30, 31 October and 4 December live
    _close(manager, *closed)
    summed = MonthRollup.objects.get(month=november)
    assert not MonthRollup.objects.exclude(month=november).exists()  # December is not whole
    assert DishMonth.objects.filter(month=november).exists()
    assert MethodMonth.objects.filter(month=november).exists() or not MethodDay.objects.exists()
    whole = Period.days(days[0], days[-1])
    assert figures.kept_of(whole).months == (november,)
    assert_as_live(whole)
    assert figures.kept_of(Period.days(november, date(2026, 11, 29))).months == ()
    assert figures.kept_of(Period.days(november, date(2026, 11, 30))).months == (november,)
    assert_as_live(Period.days(november, date(2026, 11, 30)))

    # A dish of a closed day of the summed month voided: the day is stale, the month not used.
    changed = _void_one(days[18:], manager)  # from 17 November
    assert _stale(changed)
    assert figures.kept_of(whole).months == ()
    assert_as_live(whole)
    # The day summed again, the month not yet: the day is newer, the month still not used.
    rollup.rollup_write(day=changed)
    assert changed in _kept(whole)
    assert figures.kept_of(whole).months == ()
    assert rollup.months_due() == [november]
    assert_as_live(whole)
    # The month summed again: read from it, and what it holds is as live, to the fen.
    assert rollup.month_write(month=november) is not None
    assert MonthRollup.objects.get(month=november).summed_at > summed.summed_at
    assert rollup.month_write(month=november) is None  # fresh: nothing to do
    assert figures.kept_of(whole).months == (november,)
    assert_as_live(whole)

    # A stale day: the worker does not sum the month from it, and no reader uses the month.
    assert _void_one(days[4:], manager) < changed  # from 3 November
    assert rollup.months_due() == []
    assert rollup.month_write(month=november) is None
    assert figures.kept_of(whole).months == ()
    assert_as_live(whole)
    rollup.rollup_refresh(now=_after(days[-1]))  # the day, then the month
    assert figures.kept_of(whole).months == (november,)
    assert_as_live(whole)

    # Another service charge percent: the days and the month are summed again before use.
    settings.SERVICE_CHARGE_PERCENT = "10"
    assert figures.kept_of(whole).months == ()
    rollup.rollup_refresh(now=_after(days[-1]))
    assert figures.kept_of(whole).months == (november,)
    assert_as_live(whole)
