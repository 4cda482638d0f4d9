"""The reports' figures: database aggregates over a period, never every bill in Python.

A period is business days `first` to `last` (`Period.days`), and `[start, end)` their moments
(restaurant/lib/business_day.py: the day ends at the cut-off, 04:00). Bill figures (dishes,
categories, tables, discounts, voids, guests) come from `orders.figures` for the bills whose
business day is in the period: the open day when the bill was settled (payments/books `TabDay`,
as the Z report counts them; a bill still open is in no day yet). Money figures (methods,
refunds) count a payment or refund when it succeeded, as the drawer, the ledger and the
gateways' bills see it.

`day_figures(day)` gives a day's headline figures; each other function is one report page.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc

from orders import figures as bills
from orders import selectors as orders_selectors
from restaurant.lib.business_day import period_bounds
from restaurant.lib.money import money

from ..books.models import TabDay
from ..coupons.models import CouponCode
from ..members.models import Member, Move
from ..models import Payment, Refund
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

MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal(0), output_field=MONEY)
PAID = Payment.Status.SUCCEEDED
REFUNDED = Refund.Status.SUCCEEDED

# Re-exported so that a report page needs one module.
BillTotals = bills.BillTotals
DishRow = bills.DishRow
CategoryRow = bills.CategoryRow
HourRow = bills.HourRow
TableRow = bills.TableRow
Unit = bills.Unit
VOIDED = "voided"  # orders' OrderLine.Status.VOIDED, as stored


Windows = list[tuple[datetime, datetime]]  # `[start, end)` moments, not overlapping
RolledDay = TypeVar("RolledDay", DishDay, HourDay, MethodDay, StaffDay, TableDay)


@dataclass(frozen=True)
class Period:
    """`[start, end)`; `first`/`last` are the business days it covers (both included)."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def days(cls, first: date, last: date | None = None) -> "Period":
        last = last or first
        start, end = period_bounds(first, last)
        return cls(first=first, last=last, start=start, end=end)

    # What several figures of a page read: once per page inside `read_once()`.
    @property
    def kept(self) -> "Kept":
        return _once("kept", self, kept_of)

    @property
    def dish_groups(self) -> list[dict[str, Any]]:
        return _once("dishes", self, _dish_groups)

    @property
    def money_groups(self) -> dict[tuple[str, str], list[Any]]:
        return _once("money", self, _money_groups)


_memo: ContextVar[dict[tuple[str, Period], Any] | None] = ContextVar("report_memo", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Inside (one page, one export), what several figures read (which days are kept, the
    dishes, the money) is read once per period: the sales page's cards and its chart read the
    roll-up's days once, not twice. Outside, every call reads anew."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _once(name: str, period: Period, read: Callable[[Period], Any]) -> Any:
    memo = _memo.get()
    if memo is None:
        return read(period)
    if (name, period) not in memo:
        memo[(name, period)] = read(period)
    return memo[(name, period)]


@dataclass(frozen=True)
class Kept:
    """Which days of a period are read from the roll-up (closed, over, summed at today's service
    charge percent and not stale since: payments/reports/rollup.py) and which are read live."""

    days: dict[date, Any]  # DayRollup's figures (named rows: no model built for each day)
    live: list[date]  # today, days not closed, days changed since they were summed
    windows: Windows  # the live days' moments, consecutive days as one window
    # Whole months of the period whose dishes and methods are read from the month roll-up: every
    # day of the month kept, and none summed after the month was (reports/rollup.py).
    months: tuple[date, ...] = ()

    @property
    def all_live(self) -> bool:
        return not self.days


def _percent() -> Decimal:
    return Decimal(settings.SERVICE_CHARGE_PERCENT)


KEPT_FIELDS = [field.name for field in DayRollup._meta.fields if field.name != "stale"]


def kept_of(period: Period) -> Kept:
    rolled = {
        row.day: row
        for row in DayRollup.objects.filter(
            day__gte=period.first, day__lte=period.last, stale=False, percent=_percent()
        ).values_list(*KEPT_FIELDS, named=True)
    }
    every = [period.first + timedelta(days=n) for n in range((period.last - period.first).days + 1)]
    live = [day for day in every if day not in rolled]
    runs: list[list[date]] = []
    for day in live:
        if runs and runs[-1][-1] == day - timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return Kept(
        days=rolled,
        live=live,
        windows=[period_bounds(run[0], run[-1]) for run in runs],
        months=_kept_months(period, rolled),
    )


def month_days(month: date) -> list[date]:
    """Every day of the month that starts on `month` (its 1st)."""
    after = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [month + timedelta(days=n) for n in range((after - month).days)]


def _kept_months(period: Period, rolled: dict[date, Any]) -> tuple[date, ...]:
    """The whole months of the period whose every day is kept and whose month roll-up, at
    today's percent, was summed after each of them: one query, none when no month qualifies."""
    whole: dict[date, list[date]] = {}
    month = period.first.replace(day=1)
    while month <= period.last:
        days = month_days(month)
        if days[0] >= period.first and days[-1] <= period.last:
            if all(day in rolled for day in days):
                whole[month] = days
        month = days[-1] + timedelta(days=1)
    if not whole:
        return ()
    summed = MonthRollup.objects.filter(month__in=whole, percent=_percent())
    return tuple(
        sorted(
            month
            for month, summed_at in summed.values_list("month", "summed_at")
            if all(rolled[day].summed_at <= summed_at for day in whole[month])
        )
    )


def _beside_months(period: Period, months: tuple[date, ...]) -> Q:
    """The period's days outside these months, as ranges (an index range scan each, not the
    whole period's rows filtered)."""
    ranges = Q(pk__in=[])
    first = period.first
    for month in (*months, None):
        if month is None:
            last = period.last
        else:
            last = month - timedelta(days=1)
        if first <= last:
            ranges |= Q(day__gte=first, day__lte=last)
        if month is not None:
            first = month_days(month)[-1] + timedelta(days=1)
    return ranges


def _kept_rows(model: type[RolledDay], period: Period) -> QuerySet[RolledDay]:
    """The roll-up rows of `model` of the period's kept days: the period's days but the live
    ones (a range and a short list, not a list of every day)."""
    rows = model.objects.filter(day__gte=period.first, day__lte=period.last)
    return rows.exclude(day__in=period.kept.live) if period.kept.live else rows


def within(field: str, windows: Windows) -> Q:
    """Moments of `field` inside any of the windows (none: nothing)."""
    found = Q(pk__in=[])
    for start, end in windows:
        found |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return found


def bills_of(period: Period) -> QuerySet[TabDay, Any]:
    """The tab ids of the bills whose business day is in the period."""
    return TabDay.objects.filter(day__gte=period.first, day__lte=period.last).values("tab_id")


def _live_bills(period: Period) -> QuerySet[TabDay, Any] | None:
    """The tab ids of the period's bills on the days read live; None when every day is kept."""
    kept = period.kept
    if not kept.live:
        return None
    if kept.all_live:
        return bills_of(period)
    return TabDay.objects.filter(day__in=kept.live).values("tab_id")


def _dish_groups(period: Period) -> list[dict[str, Any]]:
    """The `dish_groups` of the period's bills, not merged (`orders.figures` merges them): the
    kept days' summed in the database (one row per dish and name), the live days' read live."""
    kept = period.kept
    groups: list[dict[str, Any]] = []
    if kept.months:
        groups += list(
            DishMonth.objects.filter(month__in=kept.months)
            .values("dish_id", "name")
            .annotate(**{f: Sum(f) for f in DISH_FIELDS})
            .order_by()
        )
    if kept.days:
        groups += list(
            _kept_rows(DishDay, period)
            .filter(_beside_months(period, kept.months))
            .values("dish_id", "name")
            .annotate(**{f: Sum(f) for f in DISH_FIELDS})
            .order_by()
        )
    return groups + _live_dish_groups(period)


def _live_dish_groups(period: Period) -> list[dict[str, Any]]:
    """The `dish_groups` of the bills of the period's live days (read once inside `read_once`:
    the headline figures and the dishes share them)."""

    def read(period: Period) -> list[dict[str, Any]]:
        live = _live_bills(period)
        return [] if live is None else bills.dish_groups(live)

    return list(_once("live dishes", period, read))


DISH_FIELDS = ("sold", "takings", "gross", "discounts", "void_lines", "void_quantity",
               "void_amount")  # fmt: skip


@dataclass(frozen=True)
class MethodRow:
    method: str  # cash, card, qr
    provider: str  # cash, card, wechatpay, alipay, sandbox …
    payments: int
    amount: Decimal
    refunds: int
    refunded: Decimal
    net: Decimal
    share: Decimal  # of the period's net takings, in %


def money_live(windows: Windows) -> dict[tuple[str, str], list[Any]]:
    """{(method, gateway): [payments, paid, refunds, refunded]} of the payments and refunds
    (of any payment) that succeeded inside the windows."""
    found: dict[tuple[str, str], list[Any]] = {}
    if not windows:
        return found
    paid = (
        Payment.objects.filter(within("completed_at", windows), status=PAID)
        .values("method", "provider")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    )
    for row in paid:
        found[(row["method"], row["provider"])] = [row["n"], row["amount"], 0, Decimal(0)]
    back = (
        Refund.objects.filter(within("completed_at", windows), status=REFUNDED)
        .values("payment__method", "payment__provider")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    )
    for row in back:
        key = (row["payment__method"], row["payment__provider"])
        found.setdefault(key, [0, Decimal(0), 0, Decimal(0)])[2:] = [row["n"], row["amount"]]
    return found


def _money_groups(period: Period) -> dict[tuple[str, str], list[Any]]:
    kept = period.kept
    found = money_live(kept.windows)
    if kept.days:
        sums = {"n": Sum("payments"), "paid": Sum("amount"), "rn": Sum("refunds"),
                "back": Sum("refunded")}  # fmt: skip
        days = _kept_rows(MethodDay, period).filter(_beside_months(period, kept.months))
        rows = list(days.values("method", "provider").annotate(**sums).order_by())
        if kept.months:
            months = MethodMonth.objects.filter(month__in=kept.months)
            rows += months.values("method", "provider").annotate(**sums).order_by()
        for row in rows:
            group = found.setdefault((row["method"], row["provider"]), [0, Decimal(0), 0, 0])
            group[0] += row["n"]
            group[1] += row["paid"]
            group[2] += row["rn"]
            group[3] += row["back"]
    return found


def method_figures(period: Period) -> list[MethodRow]:
    """Takings per method and gateway: payments that succeeded in the period, refunds that
    succeeded in it (of any payment), net, largest first."""
    groups = period.money_groups
    net = {key: money(group[1] - group[3]) for key, group in groups.items()}
    whole = sum(net.values(), Decimal(0))
    rows = [
        MethodRow(
            method=method,
            provider=provider,
            payments=group[0],
            amount=money(group[1]),
            refunds=group[2],
            refunded=money(group[3]),
            net=net[(method, provider)],
            share=(net[(method, provider)] * 100 / whole).quantize(Decimal("0.1"))
            if whole
            else Decimal(0),
        )
        for (method, provider), group in groups.items()
    ]
    return sorted(rows, key=lambda row: (-row.net, row.method, row.provider))


@dataclass(frozen=True)
class StaffRow:
    user: int
    username: str
    name: str
    orders: int
    voids: int
    voided_amount: Decimal
    discounts: int
    refunds: int
    refunded: Decimal


def refunds_by_hand(windows: Windows) -> dict[int, dict[str, Any]]:
    """{user id: {"refunds", "refunded"}} of the refunds made by hand inside the windows."""
    if not windows:
        return {}
    return {
        row["user"]: {"refunds": row["n"], "refunded": row["amount"]}
        for row in Refund.objects.filter(
            within("completed_at", windows), status=REFUNDED, automatic=False, user__isnull=False
        )
        .values("user")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    }


STAFF_FIELDS = ("orders", "voids", "voided_amount", "discounts", "refunds", "refunded")


def staff_figures(period: Period) -> list[StaffRow]:
    """Per staff member: orders entered, voids, discounts given, refunds made by hand."""
    kept = period.kept
    counts: dict[int, dict[str, Any]] = {}

    def add(user: int, figures: dict[str, Any]) -> None:
        mine = counts.setdefault(user, dict.fromkeys(STAFF_FIELDS, 0))
        for name, value in figures.items():
            mine[name] += value

    if kept.days:
        rows = (
            _kept_rows(StaffDay, period)
            .values("user")
            .annotate(**{f"sum_{f}": Sum(f) for f in STAFF_FIELDS})
            .order_by()
        )
        for row in rows:
            add(row["user"], {f: row[f"sum_{f}"] for f in STAFF_FIELDS})
    for start, end in kept.windows:
        for user, did in bills.staff_counts(start, end).items():
            add(user, did)
    for user, refunded in refunds_by_hand(kept.windows).items():
        add(user, refunded)
    named = bills.staff_rows(counts)
    return [
        StaffRow(
            user=user,
            username=row.username,
            name=row.name,
            orders=row.orders,
            voids=row.voids,
            voided_amount=row.voided_amount,
            discounts=row.discounts,
            refunds=counts[user]["refunds"],
            refunded=money(counts[user]["refunded"]),
        )
        for user, row in named.items()
    ]


@dataclass(frozen=True)
class MoneyTotals:
    payments: int
    paid: Decimal
    refunds: int
    refunded: Decimal
    received: Decimal  # paid − refunded (实收)


def money_totals(period: Period) -> MoneyTotals:
    groups = period.money_groups.values()
    paid = sum((group[1] for group in groups), Decimal(0))
    refunded = sum((group[3] for group in groups), Decimal(0))
    return MoneyTotals(
        payments=sum(group[0] for group in groups),
        paid=money(paid),
        refunds=sum(group[2] for group in groups),
        refunded=money(refunded),
        received=money(paid - refunded),
    )


@dataclass(frozen=True)
class DayFigures:
    """What a day's Z report shows (besides shifts, which payments/books keeps)."""

    period: Period
    bills: BillTotals
    money: MoneyTotals
    categories: list[CategoryRow]
    methods: list[MethodRow]
    average_per_guest: Decimal | None  # sales ÷ guests (客单价); None without guests
    average_per_bill: Decimal | None
    table_turns: Decimal | None  # bills ÷ tables in use (翻台率); None without tables


def summary(period: Period) -> DayFigures:
    """The headline figures of any period (a day for the Z report, a month for the owner)."""
    totals = bill_totals(period)
    tables = len(orders_selectors.active_tables())
    return DayFigures(
        period=period,
        bills=totals,
        money=money_totals(period),
        categories=category_sales(period),
        methods=method_figures(period),
        average_per_guest=money(totals.sales / totals.guests) if totals.guests else None,
        average_per_bill=money(totals.sales / totals.bills) if totals.bills else None,
        table_turns=(
            Decimal(totals.bills) / tables / ((period.last - period.first).days + 1)
        ).quantize(Decimal("0.01"))
        if tables
        else None,
    )


RULES = ("member_price", "coupon", "points", "charges", "service_correction")
KEPT_RULES = ("member_prices", "coupons", "points", "table_charges", "service_correction")


def bill_totals(period: Period) -> BillTotals:
    """The period's bills summed: the kept days' from their roll-up, the others live."""
    kept = list(period.kept.days.values())
    counts: dict[str, Any] = {
        "bills": sum(row.bills for row in kept),
        "people": sum(row.guests for row in kept),
        "bill_discounts": sum((row.bill_discounts for row in kept), Decimal(0)),
        "open_bills": sum(row.open_bills for row in kept),
    }
    service = sum((row.service_charge for row in kept), Decimal(0))
    rules = {
        name: sum((getattr(row, field) for row in kept), Decimal(0))
        for name, field in zip(RULES, KEPT_RULES, strict=True)
    }
    # The kept days' dishes as one group of `dish_groups` (the headline figures need no more).
    groups: list[dict[str, Any]] = [
        {
            "gross": sum((row.gross for row in kept), Decimal(0)),
            "discounts": sum((row.line_discounts for row in kept), Decimal(0)),
            "void_lines": sum(row.voided_lines for row in kept),
            "void_quantity": sum(row.voided_quantity for row in kept),
            "void_amount": sum((row.voided_amount for row in kept), Decimal(0)),
        }
    ]
    live = _live_bills(period)
    if live is not None:
        for name, value in bills.bill_counts(live).items():
            counts[name] += value
        service += bills.service_charge(live)
        for name, value in bills.price_rule_totals(live).items():
            rules[name] += value
    groups += _live_dish_groups(period)
    return bills.bill_totals(
        bills_of(period),
        groups=groups,
        service_before_rules=money(service),
        counts=counts,
        rules={name: money(value) for name, value in rules.items()},
    )


def day_figures(day: date) -> DayFigures:
    """The Z report's figures of one business day."""
    return summary(Period.days(day))


def dish_sales(period: Period) -> list[DishRow]:
    return bills.dish_sales_of(period.dish_groups)


def category_sales(period: Period) -> list[CategoryRow]:
    return bills.category_sales_of(period.dish_groups)


def sales_by_hour(period: Period) -> list[HourRow]:
    """Dish sales by the hour of day they were ordered in: the kept days' hours summed in the
    database, the live days' read live."""
    kept = period.kept
    hours: dict[int, list[Any]] = {hour: [0, 0, Decimal(0)] for hour in range(24)}
    if kept.days:
        rows = (
            _kept_rows(HourDay, period)
            .values("hour")
            .annotate(n=Sum("orders"), sold=Sum("quantity"), takings=Sum("amount"))
            .order_by()
        )
        for row in rows:
            hours[row["hour"]] = [row["n"], row["sold"], row["takings"]]
    for start, end in kept.windows:
        for live in bills.sales_by_hour(start, end):
            hour = hours[live.hour]
            hour[0] += live.orders
            hour[1] += live.quantity
            hour[2] += live.amount
    return [
        HourRow(hour=hour, orders=n, quantity=sold, amount=money(takings))
        for hour, (n, sold, takings) in sorted(hours.items())
    ]


def _bucket(day: date, unit: Unit) -> date:
    """The day, week (its Monday) or month (its 1st) a day falls in, as `Trunc` gives it."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class PeriodRow:
    day: date  # the business day the bucket starts on (a Monday for weeks, the 1st for months)
    bills: int
    guests: int
    amount: Decimal  # dish sales after their own discounts
    bill_discounts: Decimal


def sales_by(period: Period, unit: Unit) -> list[PeriodRow]:
    """Sales per business day, week or month of the period's bills, each on its books' day:
    the kept days from their roll-up, the live days from their bills.

    The live days join `TabDay` to the bills' rows through the ORM's relations (two grouped
    queries), since asking each dish for its bill's day took seconds over a month
    (bench/bench_reports.py)."""
    kept = period.kept
    counted: dict[date, list[Any]] = {}  # bucket: [bills, guests, bill discounts, dish sales]
    for day, row in kept.days.items():
        if row.bills:
            bucket = counted.setdefault(_bucket(day, unit), [0, 0, Decimal(0), Decimal(0)])
            bucket[0] += row.bills
            bucket[1] += row.guests
            bucket[2] += row.bill_discounts
            bucket[3] += row.takings
    if kept.live:
        days = (
            TabDay.objects.filter(day__gte=period.first, day__lte=period.last)
            if kept.all_live
            else TabDay.objects.filter(day__in=kept.live)
        )
        days = days.annotate(bucket=Trunc("day", unit, output_field=DateField()))
        for bills_of_day in days.values("bucket").annotate(
            bills=Count("tab_id"),
            people=Coalesce(Sum("tab__guests"), 0),
            discounts=Coalesce(Sum("tab__discount"), ZERO),
        ):
            bucket = counted.setdefault(bills_of_day["bucket"], [0, 0, Decimal(0), Decimal(0)])
            bucket[0] += bills_of_day["bills"]
            bucket[1] += bills_of_day["people"]
            bucket[2] += bills_of_day["discounts"]
        # A positive condition on each joined dish (a negated one would exclude whole bills).
        sold = Case(
            When(tab__orders__lines__status=VOIDED, then=ZERO),
            default=F("tab__orders__lines__amount"),
            output_field=MONEY,
        )
        for bucket_day, takings in (
            days.values("bucket")
            .annotate(takings=Coalesce(Sum(sold), ZERO))
            .values_list("bucket", "takings")
        ):
            counted[bucket_day][3] += takings
    return [
        PeriodRow(
            day=day,
            bills=counted[day][0],
            guests=counted[day][1],
            amount=money(counted[day][3]),
            bill_discounts=money(counted[day][2]),
        )
        for day in sorted(counted)
    ]


def table_figures(period: Period) -> list[TableRow]:
    """Per table: the kept days' rows summed in the database, the live days' bills live."""
    kept = period.kept
    groups: dict[int, dict[str, Any]] = {}
    if kept.days:
        for row in (
            _kept_rows(TableDay, period)
            .values("table_id")
            .annotate(
                n=Sum("bills"),
                people=Sum("guests"),
                takings=Sum("amount"),
                time=Sum("seated"),
                closed=Sum("seated_bills"),
            )
            .order_by()
        ):
            groups[row["table_id"]] = {
                "bills": row["n"],
                "guests": row["people"],
                "amount": row["takings"],
                "seated": row["time"],
                "seated_bills": row["closed"],
            }
    live = _live_bills(period)
    if live is not None:
        for table, group in bills.table_groups(live).items():
            if table not in groups:
                groups[table] = group
            else:
                for name, value in group.items():
                    groups[table][name] += value
    return bills.table_rows(groups)


@dataclass(frozen=True)
class AreaRow:
    area: str
    tables: int
    bills: int
    guests: int
    amount: Decimal
    average_bill: Decimal


def area_figures(period: Period) -> list[AreaRow]:
    """The table rows summed per area (a few dozen tables: summed here, not in SQL)."""
    areas: dict[str, list[TableRow]] = {}
    for row in table_figures(period):
        areas.setdefault(row.area, []).append(row)
    result = []
    for area, rows in sorted(areas.items()):
        count = sum(row.bills for row in rows)
        amount = money(sum((row.amount for row in rows), Decimal(0)))
        result.append(
            AreaRow(
                area=area,
                tables=len(rows),
                bills=count,
                guests=sum(row.guests for row in rows),
                amount=amount,
                average_bill=money(amount / count) if count else money(0),
            )
        )
    return result


@dataclass(frozen=True)
class MemberRow:
    what: str  # a Move kind, "coupon:<name>", "balance_owed" or "points_owed"
    count: int
    amount: Decimal | None  # stored value (principal + bonus), signed as the statement signs it
    points: int | None


def member_figures(period: Period) -> list[MemberRow]:
    """Members in the period, from their statements (流水): top-ups and their refunds, bonus
    given, balance spent and given back, points earned, used, expired; coupons used (a coupon
    given back when its bill came to nothing is not counted); and what is owed now: stored
    value (principal + bonus) and points."""
    moves = (
        Move.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .values("kind")
        .annotate(
            n=Count("id"),
            principal_sum=Coalesce(Sum("principal"), ZERO),
            bonus_sum=Coalesce(Sum("bonus"), ZERO),
            points_sum=Coalesce(Sum("points"), 0),
        )
    )
    by_kind = {row["kind"]: row for row in moves}
    rows = []
    money_kinds = (Move.Kind.TOP_UP, Move.Kind.TOP_UP_REFUND, Move.Kind.TOP_UP_UNREFUND,
                   Move.Kind.SPEND, Move.Kind.REFUND, Move.Kind.ADJUST)  # fmt: skip
    point_kinds = (Move.Kind.POINTS_EARN, Move.Kind.POINTS_SPEND, Move.Kind.POINTS_REVERSE,
                   Move.Kind.POINTS_RETURN, Move.Kind.POINTS_EXPIRE)  # fmt: skip
    for kind in money_kinds:
        row = by_kind.get(kind)
        if row:
            rows.append(MemberRow(str(kind), row["n"],
                                  money(row["principal_sum"] + row["bonus_sum"]), None))  # fmt: skip
    top_up = by_kind.get(Move.Kind.TOP_UP)
    if top_up and top_up["bonus_sum"]:
        rows.append(MemberRow("bonus", top_up["n"], money(top_up["bonus_sum"]), None))
    for kind in point_kinds:
        row = by_kind.get(kind)
        if row:
            rows.append(MemberRow(str(kind), row["n"], None, row["points_sum"]))
    coupons = (
        CouponCode.objects.filter(
            status=CouponCode.Status.REDEEMED,
            redeemed_at__gte=period.start,
            redeemed_at__lt=period.end,
        )
        .values("coupon__name")
        .annotate(n=Count("id"))
        .order_by("-n", "coupon__name")
    )
    rows += [MemberRow(f"coupon:{row['coupon__name']}", row["n"], None, None) for row in coupons]
    owed = Member.objects.aggregate(
        n=Count("id", filter=Q(principal__gt=0) | Q(bonus__gt=0)),
        value=Coalesce(Sum("principal"), ZERO) + Coalesce(Sum("bonus"), ZERO),
        holders=Count("id", filter=Q(points__gt=0)),
        points=Coalesce(Sum("points"), 0),
    )
    rows.append(MemberRow("balance_owed", owed["n"], money(owed["value"]), None))
    rows.append(MemberRow("points_owed", owed["holders"], None, owed["points"]))
    return rows
