"""The ordering side's figures for the books: database aggregates over bills and dishes.

Read-only, for `payments.reports` (the manager's reports). Every function answers with a few
grouped rows, never one row per bill: a year of 300 bills a day stays a handful of queries
(bench/bench_reports.py).

Which bills and moments a figure counts:
- **bills** (their dishes, voids, discounts, service charge, guests, time seated) are chosen by
  the caller as a query of tab ids (`tabs`): the payment side passes the bills whose business day
  (the open day when they were settled, payments/books `TabDay`) is in the period, so that the
  reports count the same bills as the Z report (sales per day, week and month are grouped by
  that day on the payment side, `payments.reports.figures.sales_by`);
- **hours of the day** count when each dish was ordered, in `[start, end)` (for staffing);
- a **staff member's actions** (orders taken, voids, discounts) count when they were done.

Sales (`amount`) are what the dishes cost after their own discounts (OrderLine.amount), voided
dishes left out; bill discounts and the service charge are given beside them, not spread, and
so are the price rules (member prices, coupons, points, table charges: `price_rule_totals`,
priced by the settlement for the bills that have any, so that a bill's total and the reports
agree).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import (
    Avg,
    Count,
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
from django.db.models.functions import Coalesce, ExtractHour, Floor, Round
from django.utils import timezone

from menu.models import Dish
from restaurant.lib.money import money

from .models import Order, OrderLine, Tab, TabEvent, Table
from .settlement import build_settlements

Unit = Literal["day", "week", "month"]
MONEY: DecimalField = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal(0), output_field=MONEY)
FEN: DecimalField = DecimalField(max_digits=16, decimal_places=0)  # a whole number of fen
VOIDED = OrderLine.Status.VOIDED
SOLD = ~Q(status=VOIDED)
GROSS = ExpressionWrapper(F("unit_price") * F("quantity"), output_field=MONEY)


def _sum(expression: Any, **extra: Any) -> Coalesce:
    return Coalesce(Sum(expression, output_field=MONEY, **extra), ZERO, output_field=MONEY)


Tabs = QuerySet[Any]  # a query of tab ids, such as `TabDay.objects.filter(…).values("tab_id")`


def _bills(tabs: Tabs) -> QuerySet[Tab]:
    return Tab.objects.filter(pk__in=tabs)


def _lines(tabs: Tabs) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order__tab__in=tabs)


@dataclass(frozen=True)
class BillTotals:
    """These bills, summed."""

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
    # The price rules (issue 9), as the settlements of these bills apply them: money off is
    # negative, charges positive; included in `sales`.
    member_prices: Decimal = Decimal(0)
    coupons: Decimal = Decimal(0)
    points: Decimal = Decimal(0)
    table_charges: Decimal = Decimal(0)  # 餐位费/茶位费 and minimum-spend shortfalls


RULE_CHUNK = 500


def price_rule_totals(tabs: Tabs) -> dict[str, Decimal]:
    """Σ of the price rules over the bills that have any (a member, a coupon or points, a seat
    charge, a minimum spend), priced by the settlement itself so that reports and bills agree;
    and how much their service charge differs from the aggregate's (a member's prices lower
    it). Plain bills are not read here."""
    ruled = list(
        _bills(tabs)
        .filter(
            Q(member_ref__gt="")
            | Q(adjustments__isnull=False)
            | Q(seat_charge__gt=0)
            | Q(minimum_spend__gt=0)
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    totals = {
        "member_price": Decimal(0),
        "coupon": Decimal(0),
        "points": Decimal(0),
        "charges": Decimal(0),
        "service_correction": Decimal(0),
    }
    percent = Decimal(settings.SERVICE_CHARGE_PERCENT)
    for start in range(0, len(ruled), RULE_CHUNK):
        for settlement in build_settlements(ruled[start : start + RULE_CHUNK]).values():
            for row in settlement["adjustments"]:
                kind = row["kind"]
                if kind in ("seat_charge", "minimum_spend"):
                    totals["charges"] += Decimal(row["amount"])
                elif kind in totals:
                    totals[kind] += Decimal(row["amount"])
            base = sum(
                (
                    Decimal(line["amount"])
                    for line in settlement["lines"]
                    if line["status"] != VOIDED
                ),
                start=Decimal(0),
            )
            aggregate_service = (base * percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
            totals["service_correction"] += (
                Decimal(settlement["service_charge"]) - aggregate_service
            )
    return {name: money(value) for name, value in totals.items()}


def dish_groups(tabs: Tabs) -> list[dict[str, Any]]:
    """These bills' dishes grouped by dish and the name they were ordered under: what the dish,
    category and headline figures are summed from (and what the reports' roll-up keeps per
    closed day)."""
    return list(
        _lines(tabs)
        .values("dish_id", "name")
        .annotate(
            sold=Coalesce(Sum("quantity", filter=SOLD), 0),
            takings=_sum("amount", filter=SOLD),
            gross=_sum(GROSS, filter=SOLD),
            discounts=_sum("discount", filter=SOLD),
            void_lines=Count("id", filter=Q(status=VOIDED)),
            void_quantity=Coalesce(Sum("quantity", filter=Q(status=VOIDED)), 0),
            void_amount=_sum(GROSS, filter=Q(status=VOIDED)),
        )
        .order_by()
    )


def bill_counts(tabs: Tabs) -> dict[str, Any]:
    """These bills counted: bills, guests, their discounts (before the cap), those not closed."""
    return _bills(tabs).aggregate(
        bills=Count("id"),
        people=Coalesce(Sum("guests"), 0),
        bill_discounts=_sum("discount"),
        open_bills=Count("id", filter=~Q(status=Tab.Status.CLOSED)),
    )


def bill_totals(
    tabs: Tabs,
    groups: list[dict[str, Any]] | None = None,
    service_before_rules: Decimal | None = None,
    counts: dict[str, Any] | None = None,
    rules: dict[str, Decimal] | None = None,
) -> BillTotals:
    """These bills, summed. `groups` (their `dish_groups`), `service_before_rules` (their
    `service_charge`), `counts` (their `bill_counts`) and `rules` (their `price_rule_totals`)
    may be given already summed, as the reports' roll-up gives them; what is not given is read
    from `tabs`."""
    if groups is None:
        lines = _lines(tabs).aggregate(
            gross=_sum(GROSS, filter=SOLD),
            line_discounts=_sum("discount", filter=SOLD),
            voided_lines=Count("id", filter=Q(status=VOIDED)),
            voided_quantity=Coalesce(Sum("quantity", filter=Q(status=VOIDED)), 0),
            voided_amount=_sum(GROSS, filter=Q(status=VOIDED)),
        )
    else:
        lines = {
            "gross": sum((g["gross"] for g in groups), Decimal(0)),
            "line_discounts": sum((g["discounts"] for g in groups), Decimal(0)),
            "voided_lines": sum(g["void_lines"] for g in groups),
            "voided_quantity": sum(g["void_quantity"] for g in groups),
            "voided_amount": sum((g["void_amount"] for g in groups), Decimal(0)),
        }
    bills = bill_counts(tabs) if counts is None else counts
    service = service_charge(tabs) if service_before_rules is None else service_before_rules
    gross, line_discounts = money(lines["gross"]), money(lines["line_discounts"])
    # A bill's discount never takes it below zero (as in the settlement).
    bill_discounts = min(money(bills["bill_discounts"]), gross - line_discounts)
    if rules is None:
        rules = price_rule_totals(tabs)
    service = money(service + rules["service_correction"])
    return BillTotals(
        bills=bills["bills"],
        guests=bills["people"],
        gross=gross,
        line_discounts=line_discounts,
        bill_discounts=bill_discounts,
        service_charge=service,
        sales=money(
            gross
            - line_discounts
            - bill_discounts
            + service
            + rules["member_price"]
            + rules["coupon"]
            + rules["points"]
            + rules["charges"]
        ),
        member_prices=rules["member_price"],
        coupons=rules["coupon"],
        points=rules["points"],
        table_charges=rules["charges"],
        voided_lines=lines["voided_lines"],
        voided_quantity=lines["voided_quantity"],
        voided_amount=money(lines["voided_amount"]),
        open_bills=bills["open_bills"],
    )


def service_charge(tabs: Tabs) -> Decimal:
    """Σ over the period's bills of each bill's service charge, rounded per bill to the fen as
    the settlement rounds it (half up), at today's `SERVICE_CHARGE_PERCENT` (the charge is not
    stored).

    Counted in whole fen with integers, `⌊(2 × fen × percent + 100) ÷ 200⌋` for a percent of
    whole numbers: SQLite keeps a whole amount (82.00) as the integer 82 and divides integers
    as integers, so `amount × 10 / 100` there was 8, not 8.20 (a day's 32.00 read as 31.00)."""
    percent = Decimal(settings.SERVICE_CHARGE_PERCENT)
    if not percent:
        return money(0)
    numerator, denominator = percent.as_integer_ratio()
    fen = Round(F("base") * 100, 0, output_field=FEN)
    per_bill = (
        OrderLine.objects.filter(SOLD, order__tab=OuterRef("pk"))
        .values("order__tab")
        .annotate(base=Sum(F("amount"), output_field=MONEY))
        .values("base")
    )
    total = (
        _bills(tabs)
        .annotate(base=Coalesce(Subquery(per_bill, output_field=MONEY), ZERO))
        .aggregate(
            fen=Coalesce(
                Sum(
                    Floor(
                        (fen * 2 * numerator + 100 * denominator) / (200 * denominator),
                        output_field=FEN,
                    ),
                    output_field=FEN,
                ),
                Value(0, output_field=FEN),
            )
        )
    )
    return money(Decimal(total["fen"]) / 100)


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


def dish_sales(tabs: Tabs) -> list[DishRow]:
    """Every dish sold or voided in the period's bills, best seller (by amount) first, then the
    dishes on the menu that nobody ordered (the worst sellers of all), at zero. A dish is its
    snapshot name: a renamed dish shows under the name it was ordered by."""
    rows = list(
        _lines(tabs)
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
    unsold = (
        Dish.objects.filter(active=True)
        .exclude(pk__in=_lines(tabs).exclude(dish=None).values("dish_id"))
        .order_by("category__position", "position", "name")
        .values_list("pk", "name", "category__name")
    )
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
    ] + [
        DishRow(dish=pk, name=name, category=category or "", quantity=0, amount=money(0),
                voided_quantity=0, voided_amount=money(0), share=Decimal(0))
        for pk, name, category in unsold
    ]  # fmt: skip


def _merged(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups of several days (or of the roll-up and the live days) summed per dish and name."""
    merged: dict[tuple[int | None, str], dict[str, Any]] = {}
    for group in groups:
        key = (group["dish_id"], group["name"])
        if key not in merged:
            merged[key] = dict(group)
        else:
            for field in ("sold", "takings", "gross", "discounts", "void_lines",
                          "void_quantity", "void_amount"):  # fmt: skip
                merged[key][field] += group[field]
    return list(merged.values())


def _categories(dish_ids: set[int]) -> dict[int, str]:
    return dict(Dish.objects.filter(pk__in=dish_ids).values_list("pk", "category__name"))


def dish_sales_of(groups: list[dict[str, Any]]) -> list[DishRow]:
    """`dish_sales` from already summed `dish_groups` (the roll-up's days and the live ones)."""
    merged = sorted(_merged(groups), key=lambda g: (-g["takings"], -g["sold"], g["name"]))
    ordered = {g["dish_id"] for g in merged if g["dish_id"] is not None}
    # One read of the menu for both the sold dishes' categories and the dishes nobody ordered.
    menu = list(
        Dish.objects.filter(Q(active=True) | Q(pk__in=ordered))
        .order_by("category__position", "position", "name")
        .values_list("pk", "name", "category__name", "active")
    )
    names = {pk: category for pk, _name, category, _active in menu if pk in ordered}
    unsold = [(pk, name, category) for pk, name, category, active in menu
              if active and pk not in ordered]  # fmt: skip
    whole = sum((g["takings"] for g in merged), Decimal(0))
    return [
        DishRow(
            dish=g["dish_id"],
            name=g["name"],
            category=names.get(g["dish_id"]) or "",
            quantity=g["sold"],
            amount=money(g["takings"]),
            voided_quantity=g["void_quantity"],
            voided_amount=money(g["void_amount"]),
            share=_share(g["takings"], whole),
        )
        for g in merged
    ] + [
        DishRow(dish=pk, name=name, category=category or "", quantity=0, amount=money(0),
                voided_quantity=0, voided_amount=money(0), share=Decimal(0))
        for pk, name, category in unsold
    ]  # fmt: skip


def category_sales_of(groups: list[dict[str, Any]]) -> list["CategoryRow"]:
    """`category_sales` from already summed `dish_groups`: each dish in its category now."""
    names = _categories({g["dish_id"] for g in groups if g["dish_id"] is not None})
    by: dict[str, list[Any]] = {}
    for g in groups:
        row = by.setdefault(names.get(g["dish_id"]) or "", [0, Decimal(0), 0, Decimal(0)])
        row[0] += g["sold"]
        row[1] += g["takings"]
        row[2] += g["void_quantity"]
        row[3] += g["void_amount"]
    whole = sum((row[1] for row in by.values()), Decimal(0))
    return [
        CategoryRow(
            category=category,
            quantity=row[0],
            amount=money(row[1]),
            voided_quantity=row[2],
            voided_amount=money(row[3]),
            share=_share(row[1], whole),
        )
        for category, row in sorted(by.items(), key=lambda item: (-item[1][1], item[0]))
    ]


@dataclass(frozen=True)
class CategoryRow:
    category: str  # empty: dishes since deleted from the menu
    quantity: int
    amount: Decimal
    voided_quantity: int
    voided_amount: Decimal
    share: Decimal


def category_sales(tabs: Tabs) -> list[CategoryRow]:
    rows = list(
        _lines(tabs)
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


def table_groups(tabs: Tabs) -> dict[int, dict[str, Any]]:
    """Per table id, these bills' turns, guests, dish sales and time seated (summed, of the
    bills closed, and how many): what `table_rows` makes the table rows of, and what the
    reports' roll-up keeps per closed day. Two grouped queries (the bills, their dishes)."""
    amounts = dict(
        _lines(tabs)
        .filter(SOLD)
        .values("order__tab__table_id")
        .annotate(takings=_sum("amount"))
        .values_list("order__tab__table_id", "takings")
    )
    seated = ExpressionWrapper(F("closed_at") - F("opened_at"), output_field=DurationField())
    closed = Q(closed_at__isnull=False)
    return {
        row["table_id"]: {
            "bills": row["bills"],
            "guests": row["people"],
            "amount": amounts.get(row["table_id"], Decimal(0)),
            "seated": row["seated"] or timedelta(0),
            "seated_bills": row["seated_bills"],
        }
        for row in _bills(tabs)
        .values("table_id")
        .annotate(
            bills=Count("id"),
            people=Coalesce(Sum("guests"), 0),
            seated=Sum(seated, filter=closed),
            seated_bills=Count("id", filter=closed),
        )
        .order_by()
    }


def table_rows(groups: dict[int, dict[str, Any]]) -> list[TableRow]:
    """The table rows of `table_groups` (of one period, or summed over several days), each
    table as it is now (its code, name, area, seats), by area and code."""
    tables = Table.objects.filter(pk__in=list(groups)).order_by("area", "code")
    rows = []
    for table in tables:
        group = groups[table.pk]
        seated = group["seated"] / group["seated_bills"] if group["seated_bills"] else None
        rows.append(
            TableRow(
                table=table.code,
                name=table.name,
                area=table.area,
                seats=table.seats,
                bills=group["bills"],
                guests=group["guests"],
                amount=money(group["amount"]),
                average_bill=money(group["amount"] / group["bills"]),
                minutes_seated=round(seated.total_seconds() / 60) if seated else None,
            )
        )
    return rows


def table_figures(tabs: Tabs) -> list[TableRow]:
    """Per table: turns, guests, sales, average bill, average time seated (opened → closed)."""
    return table_rows(table_groups(tabs))


@dataclass(frozen=True)
class StaffRow:
    user: int
    username: str
    name: str
    orders: int  # rounds entered for diners (点菜)
    voids: int
    voided_amount: Decimal
    discounts: int  # discounts given or changed (dish or bill)


def staff_counts(start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Per staff member's id, what they did in `[start, end)`: orders entered, voids (and
    their amount at menu price), discounts given or changed. Refunds are money and are counted
    on the payment side."""
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
    return {
        user: {
            "orders": orders.get(user, 0),
            "voids": voids[user]["n"] if user in voids else 0,
            "voided_amount": voids[user]["amount"] if user in voids else Decimal(0),
            "discounts": discounts.get(user, 0),
        }
        for user in set(orders) | set(voids) | set(discounts)
    }


def staff_rows(counts: dict[int, dict[str, Any]]) -> dict[int, StaffRow]:
    """{user id: row} of `staff_counts` (of one period, or summed over several days), each
    person named as they are now."""
    names = {
        row["id"]: row
        for row in User.objects.filter(pk__in=list(counts)).values(
            "id", "username", "first_name", "last_name"
        )
    }
    return {
        user: StaffRow(
            user=user,
            username=names[user]["username"],
            name=f"{names[user]['last_name']}{names[user]['first_name']}".strip()
            or names[user]["username"],
            orders=counts[user]["orders"],
            voids=counts[user]["voids"],
            voided_amount=money(counts[user]["voided_amount"]),
            discounts=counts[user]["discounts"],
        )
        for user in sorted(counts)
        if user in names
    }


def staff_figures(start: datetime, end: datetime) -> dict[int, StaffRow]:
    """Per staff member, what they did in the period: {user id: row}."""
    return staff_rows(staff_counts(start, end))


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


def seated_now() -> tuple[int, int, Decimal]:
    """(bills at the tables now, their guests, their dishes so far): what the floor holds."""
    seated = Tab.objects.filter(status__in=(Tab.Status.OPEN, Tab.Status.SETTLING))
    now = seated.aggregate(bills=Count("id"), people=Coalesce(Sum("guests"), 0))
    dishes = OrderLine.objects.filter(SOLD, order__tab__in=seated).aggregate(total=_sum("amount"))
    return now["bills"], now["people"], money(dishes["total"])


def bills_open_before(moment: datetime) -> int:
    """Bills opened before `moment` and not closed yet (left open from an earlier day)."""
    return Tab.objects.filter(opened_at__lt=moment).exclude(status=Tab.Status.CLOSED).count()
