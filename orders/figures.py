"""The ordering side's figures for the books: database aggregates over bills and dishes.

Read-only, for `payments.reports` (the manager's reports and the Z report). Every function takes
a period `[start, end)` of aware datetimes and answers with a few grouped rows, never one row per
bill: a year of 300 bills a day stays a handful of queries (bench/reports.py).

Which moment puts a figure in a period:
- a **bill** (its dishes, voids, discounts, service charge, guests, time seated) counts when it
  was opened (开台), so that a bill is never split between two days; with the business day's
  cut-off (04:00) a late supper paid after midnight stays in its evening;
- **hours of the day** count when each dish was ordered (for staffing the kitchen and floor);
- a **staff member's actions** (orders taken, voids, discounts) count when they were done.

Sales (`amount`) are what the dishes cost after their own discounts (OrderLine.amount), voided
dishes left out; bill discounts and the service charge are given beside them, not spread.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import (
    Avg,
    Count,
    DateField,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractHour, Round, Trunc
from django.utils import timezone

from restaurant.lib.business_day import cutoff
from restaurant.lib.money import money

from .models import Order, OrderLine, Tab, TabEvent

Unit = Literal["day", "week", "month"]
MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal(0), output_field=MONEY)
VOIDED = OrderLine.Status.VOIDED
SOLD = ~Q(status=VOIDED)
GROSS = ExpressionWrapper(F("unit_price") * F("quantity"), output_field=MONEY)


def _sum(expression: Any, **extra: Any) -> Coalesce:
    return Coalesce(Sum(expression, output_field=MONEY, **extra), ZERO, output_field=MONEY)


def _bills(start: datetime, end: datetime) -> QuerySet[Tab]:
    return Tab.objects.filter(opened_at__gte=start, opened_at__lt=end)


def _lines(start: datetime, end: datetime) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order__tab__opened_at__gte=start, order__tab__opened_at__lt=end)


def _business_day_of(field: str) -> ExpressionWrapper:
    """The moment shifted back by the cut-off: its local date is then its business day."""
    shift = timedelta(hours=cutoff().hour, minutes=cutoff().minute)
    return ExpressionWrapper(
        F(field) - Value(shift, output_field=DurationField()), output_field=DateTimeField()
    )


@dataclass(frozen=True)
class BillTotals:
    """The bills opened in a period, summed."""

    bills: int
    guests: int
    gross: Decimal  # dishes at their menu price × quantity, voided ones left out
    line_discounts: Decimal
    bill_discounts: Decimal
    service_charge: Decimal
    sales: Decimal  # gross − discounts + service charge (before 抹零 rounding)
    voided_lines: int
    voided_quantity: int
    voided_amount: Decimal
    open_bills: int  # not yet closed (still at the table or not cleared)


def bill_totals(start: datetime, end: datetime) -> BillTotals:
    lines = _lines(start, end).aggregate(
        gross=_sum(GROSS, filter=SOLD),
        line_discounts=_sum("discount", filter=SOLD),
        voided_lines=Count("id", filter=Q(status=VOIDED)),
        voided_quantity=Coalesce(Sum("quantity", filter=Q(status=VOIDED)), 0),
        voided_amount=_sum(GROSS, filter=Q(status=VOIDED)),
    )
    bills = _bills(start, end).aggregate(
        bills=Count("id"),
        people=Coalesce(Sum("guests"), 0),
        bill_discounts=_sum("discount"),
        open_bills=Count("id", filter=~Q(status=Tab.Status.CLOSED)),
    )
    service = service_charge(start, end)
    gross, line_discounts = money(lines["gross"]), money(lines["line_discounts"])
    # A bill's discount never takes it below zero (as in the settlement).
    bill_discounts = min(money(bills["bill_discounts"]), gross - line_discounts)
    return BillTotals(
        bills=bills["bills"],
        guests=bills["people"],
        gross=gross,
        line_discounts=line_discounts,
        bill_discounts=bill_discounts,
        service_charge=service,
        sales=money(gross - line_discounts - bill_discounts + service),
        voided_lines=lines["voided_lines"],
        voided_quantity=lines["voided_quantity"],
        voided_amount=money(lines["voided_amount"]),
        open_bills=bills["open_bills"],
    )


def service_charge(start: datetime, end: datetime) -> Decimal:
    """Σ over the period's bills of each bill's service charge, rounded per bill to the fen as
    the settlement rounds it, at today's `SERVICE_CHARGE_PERCENT` (the charge is not stored)."""
    percent = Decimal(settings.SERVICE_CHARGE_PERCENT)
    if not percent:
        return money(0)
    per_bill = (
        OrderLine.objects.filter(SOLD, order__tab=OuterRef("pk"))
        .values("order__tab")
        .annotate(base=Sum(F("amount"), output_field=MONEY))
        .values("base")
    )
    total = (
        _bills(start, end)
        .annotate(base=Coalesce(Subquery(per_bill, output_field=MONEY), ZERO))
        .aggregate(service=_sum(Round(F("base") * percent / 100, 2, output_field=MONEY)))
    )
    return money(total["service"])


@dataclass(frozen=True)
class DishRow:
    dish: int | None
    name: str
    category: str
    quantity: int
    amount: Decimal
    voided_quantity: int
    voided_amount: Decimal
    share: Decimal  # of the period's dish sales, in %


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else Decimal(0)


def dish_sales(start: datetime, end: datetime) -> list[DishRow]:
    """Every dish sold or voided in the period's bills, best seller (by amount) first. A dish is
    its snapshot name: a renamed dish shows under the name it was ordered by."""
    rows = list(
        _lines(start, end)
        .values("dish_id", "name")
        .annotate(
            category=F("dish__category__name"),
            sold=Coalesce(Sum("quantity", filter=SOLD), 0),
            takings=_sum("amount", filter=SOLD),
            void_count=Coalesce(Sum("quantity", filter=Q(status=VOIDED)), 0),
            void_amount=_sum(GROSS, filter=Q(status=VOIDED)),
        )
        .order_by("-takings", "-sold", "name")
    )
    whole = sum((row["takings"] for row in rows), Decimal(0))
    return [
        DishRow(
            dish=row["dish_id"],
            name=row["name"],
            category=row["category"] or "",
            quantity=row["sold"],
            amount=money(row["takings"]),
            voided_quantity=row["void_count"],
            voided_amount=money(row["void_amount"]),
            share=_share(row["takings"], whole),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CategoryRow:
    category: str  # empty: dishes since deleted from the menu
    quantity: int
    amount: Decimal
    voided_quantity: int
    voided_amount: Decimal
    share: Decimal


def category_sales(start: datetime, end: datetime) -> list[CategoryRow]:
    rows = list(
        _lines(start, end)
        .values(category=F("dish__category__name"))
        .annotate(
            sold=Coalesce(Sum("quantity", filter=SOLD), 0),
            takings=_sum("amount", filter=SOLD),
            void_count=Coalesce(Sum("quantity", filter=Q(status=VOIDED)), 0),
            void_amount=_sum(GROSS, filter=Q(status=VOIDED)),
        )
        .order_by("-takings", "category")
    )
    whole = sum((row["takings"] for row in rows), Decimal(0))
    return [
        CategoryRow(
            category=row["category"] or "",
            quantity=row["sold"],
            amount=money(row["takings"]),
            voided_quantity=row["void_count"],
            voided_amount=money(row["void_amount"]),
            share=_share(row["takings"], whole),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class HourRow:
    hour: int  # 0–23, local time
    quantity: int
    amount: Decimal
    orders: int


def sales_by_hour(start: datetime, end: datetime) -> list[HourRow]:
    """Dish sales by the local hour they were ordered in, all 24 hours (empty ones as zero)."""
    zone = timezone.get_default_timezone()
    found = {
        row["hour"]: row
        for row in OrderLine.objects.filter(
            SOLD, order__created_at__gte=start, order__created_at__lt=end
        )
        .annotate(hour=ExtractHour("order__created_at", tzinfo=zone))
        .values("hour")
        .annotate(
            sold=Sum("quantity"), takings=_sum("amount"), orders=Count("order", distinct=True)
        )
    }
    return [
        HourRow(
            hour=hour,
            quantity=found[hour]["sold"] if hour in found else 0,
            amount=money(found[hour]["takings"] if hour in found else 0),
            orders=found[hour]["orders"] if hour in found else 0,
        )
        for hour in range(24)
    ]


@dataclass(frozen=True)
class PeriodRow:
    day: date  # the business day the bucket starts on (a Monday for weeks, the 1st for months)
    bills: int
    guests: int
    amount: Decimal  # dish sales after their own discounts
    bill_discounts: Decimal


def sales_by(start: datetime, end: datetime, unit: Unit) -> list[PeriodRow]:
    """Sales per business day, week or month of the bills opened in the period."""
    zone = timezone.get_default_timezone()
    bucket = Trunc(_business_day_of("opened_at"), unit, output_field=DateField(), tzinfo=zone)
    line_bucket = Trunc(
        _business_day_of("order__tab__opened_at"), unit, output_field=DateField(), tzinfo=zone
    )
    bills = {
        row["bucket"]: row
        for row in _bills(start, end)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(bills=Count("id"), people=Coalesce(Sum("guests"), 0), discounts=_sum("discount"))
    }
    amounts = dict(
        _lines(start, end)
        .filter(SOLD)
        .annotate(bucket=line_bucket)
        .values("bucket")
        .annotate(takings=_sum("amount"))
        .values_list("bucket", "takings")
    )
    return [
        PeriodRow(
            day=day,
            bills=bills[day]["bills"],
            guests=bills[day]["people"],
            amount=money(amounts.get(day, 0)),
            bill_discounts=money(bills[day]["discounts"]),
        )
        for day in sorted(bills)
    ]


@dataclass(frozen=True)
class TableRow:
    table: str  # its code
    name: str
    area: str
    seats: int
    bills: int  # turns (翻台)
    guests: int
    amount: Decimal  # dish sales after their own discounts
    average_bill: Decimal
    minutes_seated: int | None  # average, of the bills closed


def table_figures(start: datetime, end: datetime) -> list[TableRow]:
    """Per table: turns, guests, sales, average bill, average time seated (opened → closed)."""
    per_bill = (
        OrderLine.objects.filter(SOLD, order__tab=OuterRef("pk"))
        .values("order__tab")
        .annotate(bill_amount=Sum("amount", output_field=MONEY))
        .values("bill_amount")
    )
    seated = ExpressionWrapper(F("closed_at") - F("opened_at"), output_field=DurationField())
    rows = (
        _bills(start, end)
        .annotate(bill_amount=Coalesce(Subquery(per_bill, output_field=MONEY), ZERO))
        .values("table__code", "table__name", "table__area", "table__seats")
        .annotate(
            bills=Count("id"),
            people=Coalesce(Sum("guests"), 0),
            total=_sum("bill_amount"),
            seated=Avg(seated, filter=Q(closed_at__isnull=False)),
        )
        .order_by("table__area", "table__code")
    )
    return [
        TableRow(
            table=row["table__code"],
            name=row["table__name"],
            area=row["table__area"],
            seats=row["table__seats"],
            bills=row["bills"],
            guests=row["people"],
            amount=money(row["total"]),
            average_bill=money(row["total"] / row["bills"]),
            minutes_seated=round(row["seated"].total_seconds() / 60) if row["seated"] else None,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class StaffRow:
    user: int
    username: str
    name: str
    orders: int  # rounds entered for diners (点菜)
    voids: int
    voided_amount: Decimal
    discounts: int  # discounts given or changed (dish or bill)


def staff_figures(start: datetime, end: datetime) -> dict[int, StaffRow]:
    """Per staff member, what they did in the period: {user id: row}. Refunds are money and are
    counted on the payment side."""
    orders = dict(
        Order.objects.filter(created_at__gte=start, created_at__lt=end, user__isnull=False)
        .values("user")
        .annotate(n=Count("id"))
        .values_list("user", "n")
    )
    events = TabEvent.objects.filter(created_at__gte=start, created_at__lt=end, user__isnull=False)
    voids = {
        row["user"]: row
        for row in events.filter(kind="line.voided")
        .values("user")
        .annotate(
            n=Count("id"),
            amount=_sum(
                ExpressionWrapper(F("line__unit_price") * F("line__quantity"), output_field=MONEY)
            ),
        )
    }
    discounts = dict(
        events.filter(kind__in=("line.discount", "tab.discount"))
        .values("user")
        .annotate(n=Count("id"))
        .values_list("user", "n")
    )
    ids = set(orders) | set(voids) | set(discounts)
    names = {
        row["id"]: row
        for row in User.objects.filter(pk__in=ids).values(
            "id", "username", "first_name", "last_name"
        )
    }
    return {
        user: StaffRow(
            user=user,
            username=names[user]["username"],
            name=f"{names[user]['last_name']}{names[user]['first_name']}".strip()
            or names[user]["username"],
            orders=orders.get(user, 0),
            voids=voids[user]["n"] if user in voids else 0,
            voided_amount=money(voids[user]["amount"] if user in voids else 0),
            discounts=discounts.get(user, 0),
        )
        for user in sorted(ids)
    }


def kitchen_minutes_to_ready(start: datetime, end: datetime) -> int | None:
    """The average minutes from order to ready of the dishes made ready in the period."""
    wait = ExpressionWrapper(
        F("created_at") - F("line__order__created_at"), output_field=DurationField()
    )
    average = TabEvent.objects.filter(
        kind="line.status",
        to_status=OrderLine.Status.READY,
        created_at__gte=start,
        created_at__lt=end,
    ).aggregate(wait=Avg(wait))["wait"]
    return round(average.total_seconds() / 60) if average is not None else None


def seated_now() -> tuple[int, int]:
    """(bills at the tables now, their guests): what the floor holds."""
    now = Tab.objects.filter(status__in=(Tab.Status.OPEN, Tab.Status.SETTLING)).aggregate(
        bills=Count("id"), people=Coalesce(Sum("guests"), 0)
    )
    return now["bills"], now["people"]


def bills_open_before(moment: datetime) -> int:
    """Bills opened before `moment` and not closed yet (left open from an earlier day)."""
    return Tab.objects.filter(opened_at__lt=moment).exclude(status=Tab.Status.CLOSED).count()
