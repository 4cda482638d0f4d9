"""The roll-up of closed business days: each closed day's figures summed once (its bills, dishes,
hours, tables, staff and payment methods), so that a month's or a year's report sums a few
hundred day rows, plus today's live figures, instead of every bill and dish of the period.

- **Written by the worker** (`rollup_refresh`, a job of `manage.py worker`), for every day that
  is closed (日结) and over (past its cut-off), that has no roll-up, a stale one, or one summed
  at another service charge percent. Not by a read (a GET writes nothing), and not by the day
  close: a day is often closed before its cut-off (at 23:00 for a 04:00 cut-off), when orders,
  payments and staff actions can still land in its hours; once it is over, only a change to
  something already there (a dish voided, a bill closed) can touch it. Each day is summed in a
  transaction of its own.
- **Marked stale by the change itself**, in the change's transaction (`days_changed`): a bill's
  change recorded in its trail (orders' `bill_changed`: a round ordered, a dish voided or
  discounted, a discount, a member or a price rule, the bill's status) marks the business day
  of the bill (`TabDay`) and the days its orders were entered on (hours); a payment or refund
  that succeeds marks the day it succeeded on; a bill given its day marks that day. A stale day
  is read live until the worker sums it again, a few seconds later.
- **The race between the two** is closed by a lock per day (PostgreSQL advisory, taken until
  the transaction ends): the worker takes the day's lock exclusively before it reads, a change
  takes it shared before it marks. A change committed before the worker read is in the sums; a
  change still running when the worker starts is waited for; a change that starts while the
  worker sums waits, then marks the day it summed stale. SQLite runs one writer at a time, so
  there it needs no lock.
- Kept: the bills (count, guests, bill discounts, not closed), the dishes (by dish and the name
  ordered under), the service charge at the percent summed at, the price rules as the
  settlements price them, the hours, the tables, each staff member's actions and refunds, and
  the payments and refunds by method. Looked up when read, as live: the categories of the
  dishes, the tables' codes, names and areas, the staff's names.
- **Months** (`MonthRollup`, `DishMonth`, `MethodMonth`): a year's dishes are ~19,000 day rows,
  25 ms to group in PostgreSQL; a month whose every day has a fresh roll-up is summed from its
  days' rows by the worker, after the days (`month_write`). Nothing marks a month stale: a
  reader uses it only while every day of it is fresh and none was summed after the month was
  (`figures.kept_of`), so a change to one of its days (the day stale, then summed again) makes
  the month read from its days until the worker sums the month again. The month takes every
  day's lock shared while it reads, so no day is summed meanwhile: a day summed before is in
  the month's sums and older than it, a day summed after is newer.
"""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DateField, Max, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from orders import figures as bills
from restaurant.lib.business_day import business_day, day_bounds

from ..books.models import BusinessDay, TabDay
from . import figures
from .models import (
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

# The advisory lock class of a day's roll-up ("roll"); the day's ordinal is the lock's key.
LOCK_CLASS = 0x726F6C6C


def _lock_day(day: date) -> None:
    """The worker summing `day`: its lock, exclusive, until the transaction ends."""
    if connection.vendor == "postgresql":  # SQLite: one writer at a time already
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, day.toordinal()])


def _share_days(days: set[date], tab_id: int | None = None) -> set[date]:
    """A change touching `days` and the business day of the bill `tab_id` (if it has one yet):
    their locks, shared, until the transaction ends; returns all these days. One statement."""
    if connection.vendor != "postgresql":
        if tab_id is not None:
            days |= set(TabDay.objects.filter(tab_id=tab_id).values_list("day", flat=True))
        return days
    # A date's ordinal as Python counts it (1 January of year 1 is 1), in SQL.
    sql = f"""
        SELECT d, pg_advisory_xact_lock_shared(%s, d) FROM (
            SELECT unnest(%s::integer[]) AS d
            UNION SELECT ("day" - DATE '0001-01-01') + 1 FROM {TabDay._meta.db_table}
            WHERE tab_id = %s
        ) AS days"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [LOCK_CLASS, [day.toordinal() for day in days], tab_id])
        return {date.fromordinal(row[0]) for row in cursor.fetchall()}


def days_changed(*, days: Iterable[date], tab_id: int | None = None) -> int:
    """Something of these business days (and of the bill `tab_id`'s day) changed: their
    roll-ups are stale, read live until summed again. Call inside the change's transaction:
    the mark commits or rolls back with it. Two statements (the locks, then the mark, which
    must see what a worker holding a lock committed: it runs after the lock is granted).
    Returns how many roll-ups were marked."""
    touched = _share_days(set(days), tab_id)
    if not touched:
        return 0
    return DayRollup.objects.filter(day__in=touched, stale=False).update(stale=True)


def moments_changed(*, moments: Iterable[datetime], tab_id: int | None = None) -> int:
    """`days_changed` for the business days of these moments and of the bill `tab_id`."""
    return days_changed(days={business_day(moment) for moment in moments}, tab_id=tab_id)


def _percent() -> Decimal:
    return Decimal(settings.SERVICE_CHARGE_PERCENT)


def rollup_write(*, day: date, unless_fresh: bool = False) -> DayRollup | None:
    """Sum one closed, finished day, replacing what was kept, in a transaction of its own.
    `unless_fresh`: not when another worker summed it while this one waited for the lock
    (None)."""
    start, end = day_bounds(day)
    with transaction.atomic():
        _lock_day(day)
        fresh = DayRollup.objects.filter(day=day, stale=False, percent=_percent())
        if unless_fresh and fresh.exists():
            return None
        tabs = TabDay.objects.filter(day=day).values("tab_id")
        dishes = bills.dish_groups(tabs)
        counts = bills.bill_counts(tabs)
        rules = bills.price_rule_totals(tabs)
        staff = bills.staff_counts(start, end)
        for user, refunded in figures.refunds_by_hand([(start, end)]).items():
            staff.setdefault(user, {"orders": 0, "voids": 0, "voided_amount": Decimal(0),
                                    "discounts": 0}).update(refunded)  # fmt: skip
        for model in (DishDay, HourDay, TableDay, StaffDay, MethodDay):
            model.objects.filter(day=day).delete()
        DishDay.objects.bulk_create(
            DishDay(day=day, dish_id=g["dish_id"], name=g["name"],
                    **{f: g[f] for f in figures.DISH_FIELDS})
            for g in dishes
        )  # fmt: skip
        HourDay.objects.bulk_create(
            HourDay(day=day, hour=h.hour, orders=h.orders, quantity=h.quantity, amount=h.amount)
            for h in bills.sales_by_hour(start, end)
            if h.orders
        )
        TableDay.objects.bulk_create(
            TableDay(day=day, table_id=table, **group)
            for table, group in bills.table_groups(tabs).items()
        )
        StaffDay.objects.bulk_create(
            StaffDay(day=day, user_id=user, refunds=did.get("refunds", 0),
                     refunded=did.get("refunded", Decimal(0)),
                     **{f: did[f] for f in ("orders", "voids", "voided_amount", "discounts")})
            for user, did in staff.items()
        )  # fmt: skip
        MethodDay.objects.bulk_create(
            MethodDay(day=day, method=method, provider=provider, payments=group[0],
                      amount=group[1], refunds=group[2], refunded=group[3])
            for (method, provider), group in figures.money_live([(start, end)]).items()
        )  # fmt: skip
        rollup, _ = DayRollup.objects.update_or_create(
            day=day,
            defaults={
                "stale": False,
                "summed_at": timezone.now(),
                "percent": _percent(),
                "bills": counts["bills"],
                "guests": counts["people"],
                "open_bills": counts["open_bills"],
                "takings": sum((g["takings"] for g in dishes), Decimal(0)),
                "gross": sum((g["gross"] for g in dishes), Decimal(0)),
                "line_discounts": sum((g["discounts"] for g in dishes), Decimal(0)),
                "voided_lines": sum(g["void_lines"] for g in dishes),
                "voided_quantity": sum(g["void_quantity"] for g in dishes),
                "voided_amount": sum((g["void_amount"] for g in dishes), Decimal(0)),
                "bill_discounts": counts["bill_discounts"],
                "service_charge": bills.service_charge(tabs),
                "member_prices": rules["member_price"],
                "coupons": rules["coupon"],
                "points": rules["points"],
                "table_charges": rules["charges"],
                "service_correction": rules["service_correction"],
            },
        )
    return rollup


def rollup_due(now: datetime | None = None) -> list[date]:
    """The closed days that are over and have no roll-up, a stale one, or one summed at another
    service charge percent."""
    today = business_day(now or timezone.now())
    fresh = DayRollup.objects.filter(stale=False, percent=_percent()).values("day")
    return list(
        BusinessDay.objects.filter(day__lt=today)
        .exclude(day__in=fresh)
        .order_by("day")
        .values_list("day", flat=True)
    )


def rollup_refresh(now: datetime | None = None, limit: int | None = None) -> list[date]:
    """Sum the days due, oldest first, at most `limit` of them (`manage.py report_rollup`: all):
    the days summed. Any number of workers may run it at once: the day's lock lets one sum it,
    the others find it fresh."""
    due = rollup_due(now)[:limit]
    summed = [day for day in due if rollup_write(day=day, unless_fresh=True)]
    if len(summed) == len(due):  # the days first: a month waits for its days
        for month in months_due():
            month_write(month=month)
    return summed


def _month_fresh(month: date) -> bool:
    """Every day of the month fresh at today's percent, none summed after the month was."""
    days = figures.month_days(month)
    summed = MonthRollup.objects.filter(month=month, percent=_percent()).first()
    fresh = DayRollup.objects.filter(
        day__gte=days[0], day__lte=days[-1], stale=False, percent=_percent()
    ).aggregate(n=Count("day"), newest=Max("summed_at"))
    return bool(summed and fresh["n"] == len(days) and fresh["newest"] <= summed.summed_at)


def months_due() -> list[date]:
    """The months whose every day has a fresh roll-up at today's percent and that have no month
    roll-up, one at another percent, or one older than one of their days. One query over the
    day roll-ups (a row a day) and one over the months."""
    summed = dict(MonthRollup.objects.filter(percent=_percent()).values_list("month", "summed_at"))
    rows = (
        DayRollup.objects.filter(stale=False, percent=_percent())
        .annotate(month=Trunc("day", "month", output_field=DateField()))
        .values("month")
        .annotate(n=Count("day"), newest=Max("summed_at"))
        .order_by("month")
    )
    return [
        row["month"]
        for row in rows
        if row["n"] == len(figures.month_days(row["month"]))
        and (row["month"] not in summed or summed[row["month"]] < row["newest"])
    ]


def month_write(*, month: date) -> MonthRollup | None:
    """Sum a month's dishes and methods from its days' rows, in a transaction of its own, with
    every day's lock shared (no day summed meanwhile); None when a day is not fresh (yet) or
    another worker summed the month while this one waited."""
    days = figures.month_days(month)
    with transaction.atomic():
        _share_days(set(days))
        fresh = DayRollup.objects.filter(
            day__gte=days[0], day__lte=days[-1], stale=False, percent=_percent()
        ).count()
        if fresh != len(days) or _month_fresh(month):
            return None
        in_month = {"day__gte": days[0], "day__lte": days[-1]}
        DishMonth.objects.filter(month=month).delete()
        MethodMonth.objects.filter(month=month).delete()
        DishMonth.objects.bulk_create(
            DishMonth(month=month, **group)
            for group in DishDay.objects.filter(**in_month)
            .values("dish_id", "name")
            .annotate(**{f: Sum(f) for f in figures.DISH_FIELDS})
            .order_by()
        )
        MethodMonth.objects.bulk_create(
            MethodMonth(month=month, **group)
            for group in MethodDay.objects.filter(**in_month)
            .values("method", "provider")
            .annotate(**{f: Sum(f) for f in ("payments", "amount", "refunds", "refunded")})
            .order_by()
        )
        rollup, _ = MonthRollup.objects.update_or_create(
            month=month, defaults={"summed_at": timezone.now(), "percent": _percent()}
        )
    return rollup


# A day takes a tenth of a second or so to sum (bench/bench_reports.py: 365 days in 46 s): a
# round of the worker sums a few, so that after a migration or a change of the service charge
# percent (every closed day due at once) printing and expiry are not held up for a minute.
DAYS_PER_ROUND = 10


def rollup_round() -> list[date]:
    """The worker's job: the days due, a few per round."""
    return rollup_refresh(limit=DAYS_PER_ROUND)
