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

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
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
from . import rollup

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


def bills_of(period: Period) -> QuerySet[TabDay, Any]:
    """The tab ids of the bills whose business day is in the period."""
    return TabDay.objects.filter(day__gte=period.first, day__lte=period.last).values("tab_id")


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


def method_figures(period: Period) -> list[MethodRow]:
    """Takings per method and gateway: payments that succeeded in the period, refunds that
    succeeded in it (of any payment), net, largest first."""
    paid = {
        (row["method"], row["provider"]): row
        for row in Payment.objects.filter(
            status=PAID, completed_at__gte=period.start, completed_at__lt=period.end
        )
        .values("method", "provider")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    }
    back = {
        (row["payment__method"], row["payment__provider"]): row
        for row in Refund.objects.filter(
            status=REFUNDED, completed_at__gte=period.start, completed_at__lt=period.end
        )
        .values("payment__method", "payment__provider")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    }
    keys = set(paid) | set(back)
    net = {
        key: money(
            (paid[key]["amount"] if key in paid else 0)
            - (back[key]["amount"] if key in back else 0)
        )
        for key in keys
    }
    whole = sum(net.values(), Decimal(0))
    rows = [
        MethodRow(
            method=method,
            provider=provider,
            payments=paid[(method, provider)]["n"] if (method, provider) in paid else 0,
            amount=money(paid[(method, provider)]["amount"] if (method, provider) in paid else 0),
            refunds=back[(method, provider)]["n"] if (method, provider) in back else 0,
            refunded=money(back[(method, provider)]["amount"] if (method, provider) in back else 0),
            net=net[(method, provider)],
            share=(net[(method, provider)] * 100 / whole).quantize(Decimal("0.1"))
            if whole
            else Decimal(0),
        )
        for method, provider in keys
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


def staff_figures(period: Period) -> list[StaffRow]:
    """Per staff member: orders entered, voids, discounts given, refunds made by hand."""
    done = bills.staff_figures(period.start, period.end)
    refunds = {
        row["user"]: row
        for row in Refund.objects.filter(
            status=REFUNDED,
            automatic=False,
            user__isnull=False,
            completed_at__gte=period.start,
            completed_at__lt=period.end,
        )
        .values("user")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    }
    names = {user.pk: user for user in User.objects.filter(pk__in=set(refunds) - set(done))}
    rows = []
    for user in sorted(set(done) | set(refunds)):
        did = done.get(user)
        person = names.get(user)
        rows.append(
            StaffRow(
                user=user,
                username=did.username if did else person.username if person else "",
                name=did.name
                if did
                else (person.get_full_name() or person.username)
                if person
                else "",
                orders=did.orders if did else 0,
                voids=did.voids if did else 0,
                voided_amount=did.voided_amount if did else Decimal("0.00"),
                discounts=did.discounts if did else 0,
                refunds=refunds[user]["n"] if user in refunds else 0,
                refunded=money(refunds[user]["amount"] if user in refunds else 0),
            )
        )
    return rows


@dataclass(frozen=True)
class MoneyTotals:
    payments: int
    paid: Decimal
    refunds: int
    refunded: Decimal
    received: Decimal  # paid − refunded (实收)


def money_totals(period: Period) -> MoneyTotals:
    paid = Payment.objects.filter(
        status=PAID, completed_at__gte=period.start, completed_at__lt=period.end
    ).aggregate(n=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    back = Refund.objects.filter(
        status=REFUNDED, completed_at__gte=period.start, completed_at__lt=period.end
    ).aggregate(
        n=Count("id"),
        amount=Coalesce(Sum("amount"), ZERO),
        automatic=Count("id", filter=Q(automatic=True)),
    )
    return MoneyTotals(
        payments=paid["n"],
        paid=money(paid["amount"]),
        refunds=back["n"],
        refunded=money(back["amount"]),
        received=money(paid["amount"] - back["amount"]),
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


def bill_totals(period: Period) -> BillTotals:
    """The period's bills summed: the closed days' dishes from their roll-up, the rest live."""
    groups, service, live_days = rollup.period_groups(period.first, period.last)
    if live_days:
        service += bills.service_charge(TabDay.objects.filter(day__in=live_days).values("tab_id"))
    return bills.bill_totals(bills_of(period), groups=groups, service_before_rules=money(service))


def day_figures(day: date) -> DayFigures:
    """The Z report's figures of one business day."""
    return summary(Period.days(day))


def dish_sales(period: Period) -> list[DishRow]:
    return bills.dish_sales_of(rollup.period_groups(period.first, period.last)[0])


def category_sales(period: Period) -> list[CategoryRow]:
    return bills.category_sales_of(rollup.period_groups(period.first, period.last)[0])


def sales_by_hour(period: Period) -> list[HourRow]:
    return bills.sales_by_hour(period.start, period.end)


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
    """Sales per business day, week or month of the period's bills, each on its books' day.

    The one figure grouped by the books' day: it joins `TabDay` to the bills' rows through the
    ORM's relations (two grouped queries), since asking each dish for its bill's day took
    seconds over a month (bench/bench_reports.py)."""
    days = TabDay.objects.filter(day__gte=period.first, day__lte=period.last).annotate(
        bucket=Trunc("day", unit, output_field=DateField())
    )
    counted = {
        row["bucket"]: row
        for row in days.values("bucket").annotate(
            bills=Count("tab_id"),
            people=Coalesce(Sum("tab__guests"), 0),
            discounts=Coalesce(Sum("tab__discount"), ZERO),
        )
    }
    kept, live_days = rollup.day_takings(period.first, period.last)
    amounts: dict[date, Decimal] = {}
    for day, kept_takings in kept.items():
        bucket = _bucket(day, unit)
        amounts[bucket] = amounts.get(bucket, Decimal(0)) + kept_takings
    # A positive condition on each joined dish (a negated one would exclude whole bills).
    sold = Case(
        When(tab__orders__lines__status=VOIDED, then=ZERO),
        default=F("tab__orders__lines__amount"),
        output_field=MONEY,
    )
    live = dict(
        days.filter(day__in=live_days)
        .values("bucket")
        .annotate(takings=Coalesce(Sum(sold), ZERO))
        .values_list("bucket", "takings")
    )
    for bucket, live_takings in live.items():
        amounts[bucket] = amounts.get(bucket, Decimal(0)) + live_takings
    return [
        PeriodRow(
            day=day,
            bills=counted[day]["bills"],
            guests=counted[day]["people"],
            amount=money(amounts.get(day, 0)),
            bill_discounts=money(counted[day]["discounts"]),
        )
        for day in sorted(counted)
    ]


def table_figures(period: Period) -> list[TableRow]:
    return bills.table_figures(bills_of(period))


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
    money_kinds = (Move.Kind.TOP_UP, Move.Kind.TOP_UP_REFUND, Move.Kind.SPEND, Move.Kind.REFUND,
                   Move.Kind.ADJUST)  # fmt: skip
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
