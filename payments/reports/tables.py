"""Each report as one table (title, filters, columns, rows) and, where people look rather than
read, one chart: the page, the CSV and the .xlsx are drawn from the same table, so they never
disagree. Values stay typed (Decimal amounts, ints, dates) until a page or a file formats them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from restaurant.lib.money import money

from ..models import Method
from . import figures
from .charts import Chart, bars, columns
from .figures import Period

Kind = Literal["text", "int", "money", "percent", "date"]
Text = str | Promise

PROVIDERS: dict[str, Text] = {
    "cash": _("cash"),
    "card": _("card"),
    "wechatpay": _("WeChat Pay"),
    "alipay": _("Alipay"),
    "sandbox": _("sandbox"),
}
UNITS: dict[str, Text] = {"day": _("day"), "week": _("week"), "month": _("month")}


@dataclass(frozen=True)
class Column:
    header: Text
    kind: Kind = "text"


@dataclass
class Report:
    name: str
    title: Text
    period: Period
    columns: list[Column]
    rows: list[list[Any]]
    filters: list[tuple[Text, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    note: Text = ""

    @property
    def lines(self) -> list[list[tuple[Any, Kind]]]:
        """The rows with each value's kind, for the page to format."""
        kinds = [column.kind for column in self.columns]
        return [list(zip(row, kinds, strict=True)) for row in self.rows]


def period_text(period: Period) -> str:
    if period.first == period.last:
        return period.first.isoformat()
    return f"{period.first.isoformat()} – {period.last.isoformat()}"


def method_label(method: str, provider: str) -> str:
    if provider in PROVIDERS and provider not in ("cash", "card"):
        return str(PROVIDERS[provider])
    return str(Method(method).label) if method in Method.values else method


def _sales(period: Period, unit: str) -> Report:
    rows = figures.sales_by(period, unit)  # type: ignore[arg-type]
    return Report(
        name="sales",
        title=_("Sales"),
        period=period,
        filters=[(_("by"), str(UNITS[unit]))],
        columns=[
            Column(pgettext_lazy("report column", "Day"), "date"),
            Column(_("Bills"), "int"),
            Column(_("Guests"), "int"),
            Column(_("Dish sales"), "money"),
            Column(_("Bill discounts"), "money"),
            Column(_("Net"), "money"),
        ],
        rows=[
            [r.day, r.bills, r.guests, r.amount, r.bill_discounts, r.amount - r.bill_discounts]
            for r in rows
        ],
        charts=[
            columns(
                _("Sales by %(unit)s") % {"unit": UNITS[unit]},
                [(_day_label(r.day, unit), r.amount - r.bill_discounts) for r in rows],
            )
        ],
        note=_("A bill counts on the business day it was settled (the day ends at the cut-off)."),
    )


def _day_label(day: date, unit: str) -> str:
    if unit == "month":
        return day.strftime("%Y-%m")
    return day.strftime("%m-%d")


def _hours(period: Period, unit: str) -> Report:
    rows = figures.sales_by_hour(period)
    return Report(
        name="hours",
        title=_("Sales by hour of day"),
        period=period,
        columns=[
            Column(_("Hour"), "text"),
            Column(_("Orders"), "int"),
            Column(_("Portions"), "int"),
            Column(_("Dish sales"), "money"),
        ],
        rows=[[f"{r.hour:02d}:00", r.orders, r.quantity, r.amount] for r in rows],
        charts=[columns(_("Sales by hour of day"), [(f"{r.hour}", r.amount) for r in rows])],
        note=_("A dish counts in the hour it was ordered."),
    )


def _dishes(period: Period, unit: str) -> Report:
    rows = figures.dish_sales(period)
    sold = [r for r in rows if r.quantity]
    return Report(
        name="dishes",
        title=_("Dishes"),
        period=period,
        columns=[
            Column(_("Rank"), "int"),
            Column(_("Dish"), "text"),
            Column(_("Category"), "text"),
            Column(_("Portions"), "int"),
            Column(_("Sales amount"), "money"),
            Column(_("Share %"), "percent"),
            Column(_("Voided portions"), "int"),
            Column(_("Voided amount"), "money"),
        ],
        rows=[
            [
                i,
                r.name,
                r.category,
                r.quantity,
                r.amount,
                r.share,
                r.voided_quantity,
                r.voided_amount,
            ]
            for i, r in enumerate(rows, 1)
        ],  # fmt: skip
        charts=[
            bars(_("Best sellers"), [(r.name, r.amount) for r in sold[:10]]),
            # The least sold (dishes nobody ordered included) beside more than ten dishes.
            *(
                [bars(_("Least sold"), [(r.name, r.amount) for r in rows[::-1][:5]])]
                if len(rows) > 10
                else []
            ),
        ]
        if sold
        else [],
    )


def _categories(period: Period, unit: str) -> Report:
    rows = figures.category_sales(period)
    return Report(
        name="categories",
        title=_("Categories"),
        period=period,
        columns=[
            Column(_("Category"), "text"),
            Column(_("Portions"), "int"),
            Column(_("Sales amount"), "money"),
            Column(_("Share %"), "percent"),
            Column(_("Voided portions"), "int"),
            Column(_("Voided amount"), "money"),
        ],
        rows=[
            [
                r.category or str(_("(no longer on the menu)")),
                r.quantity,
                r.amount,
                r.share,
                r.voided_quantity,
                r.voided_amount,
            ]
            for r in rows
        ],  # fmt: skip
        charts=[bars(_("Sales by category"), [(r.category or "—", r.amount) for r in rows])],
    )


def _methods(period: Period, unit: str) -> Report:
    rows = figures.method_figures(period)
    return Report(
        name="methods",
        title=_("Payment methods"),
        period=period,
        columns=[
            Column(_("Method"), "text"),
            Column(_("Payments"), "int"),
            Column(_("Paid"), "money"),
            Column(_("Refunds"), "int"),
            Column(_("Refunded"), "money"),
            Column(_("Net"), "money"),
            Column(_("Share %"), "percent"),
        ],
        rows=[
            [
                method_label(r.method, r.provider),
                r.payments,
                r.amount,
                r.refunds,
                r.refunded,
                r.net,
                r.share,
            ]
            for r in rows
        ],  # fmt: skip
        charts=[
            bars(
                _("Share of takings"),
                [(method_label(r.method, r.provider), r.net) for r in rows],
                shares=True,
            )
        ],
        note=_("A payment counts when it succeeded, a refund when it was made."),
    )


def _tables(period: Period, unit: str) -> Report:
    rows = figures.table_figures(period)
    return Report(
        name="tables",
        title=_("Tables"),
        period=period,
        columns=[
            Column(_("Area"), "text"),
            Column(_("Table"), "text"),
            Column(_("Name"), "text"),
            Column(_("Seats"), "int"),
            Column(_("Turns"), "int"),
            Column(_("Guests"), "int"),
            Column(_("Dish sales"), "money"),
            Column(_("Average bill"), "money"),
            Column(_("Minutes seated"), "int"),
        ],
        rows=[
            [
                r.area,
                r.table,
                r.name,
                r.seats,
                r.bills,
                r.guests,
                r.amount,
                r.average_bill,
                r.minutes_seated,
            ]
            for r in rows
        ],  # fmt: skip
    )


def _areas(period: Period, unit: str) -> Report:
    rows = figures.area_figures(period)
    return Report(
        name="areas",
        title=_("Areas"),
        period=period,
        columns=[
            Column(_("Area"), "text"),
            Column(_("Tables"), "int"),
            Column(_("Turns"), "int"),
            Column(_("Guests"), "int"),
            Column(_("Dish sales"), "money"),
            Column(_("Average bill"), "money"),
        ],
        rows=[[r.area, r.tables, r.bills, r.guests, r.amount, r.average_bill] for r in rows],
    )


def _staff(period: Period, unit: str) -> Report:
    rows = figures.staff_figures(period)
    return Report(
        name="staff",
        title=_("Staff"),
        period=period,
        columns=[
            Column(_("Staff member"), "text"),
            Column(_("Orders taken"), "int"),
            Column(_("Voids"), "int"),
            Column(_("Voided amount"), "money"),
            Column(_("Discounts"), "int"),
            Column(_("Refunds"), "int"),
            Column(_("Refunded"), "money"),
        ],
        rows=[
            [r.name, r.orders, r.voids, r.voided_amount, r.discounts, r.refunds, r.refunded]
            for r in rows
        ],
        note=_("Refunds made by hand; automatic ones (a void after paying) are not counted."),
    )


MEMBER_ROWS: dict[str, Text] = {
    "top_up": _("Top-ups (paid in)"),
    "top_up_refund": _("Top-ups refunded"),
    "refund_failed": _("Top-up refunds refused by the gateway (back in the wallet)"),
    "spend": _("Paid by balance"),
    "refund": _("Refunded to balance"),
    "adjust": _("Manager adjustments"),
    "bonus": _("Bonus given with top-ups"),
    "points_earn": _("Points earned"),
    "points_spend": _("Points used"),
    "points_reverse": _("Points taken back"),
    "points_return": _("Points given back"),
    "points_expire": _("Points expired"),
    "balance_owed": _("Stored value owed now"),
    "points_owed": _("Points owed now"),
}


def _members(period: Period, unit: str) -> Report:
    rows = figures.member_figures(period)

    def label(what: str) -> str:
        if what.startswith("coupon:"):
            return str(_("Coupon used: %(name)s") % {"name": what[7:]})
        return str(MEMBER_ROWS.get(what, what))

    return Report(
        name="members",
        title=_("Members"),
        period=period,
        columns=[
            Column(_("Item"), "text"),
            Column(_("Count"), "int"),
            Column(_("Stored value"), "money"),
            Column(_("Points"), "int"),
        ],
        rows=[[label(r.what), r.count, r.amount, r.points] for r in rows],
        note=_(
            "From the members' statements: amounts as the statement signs them (paid in +, "
            "spent −); stored value includes the bonus. What is owed is as of now."
        ),
    )


REPORTS: dict[str, tuple[Text, Callable[[Period, str], Report]]] = {
    "sales": (_("Sales"), _sales),
    "hours": (_("By hour"), _hours),
    "dishes": (_("Dishes"), _dishes),
    "categories": (_("Categories"), _categories),
    "methods": (_("Payment methods"), _methods),
    "tables": (_("Tables"), _tables),
    "areas": (_("Areas"), _areas),
    "staff": (_("Staff"), _staff),
    "members": (_("Members"), _members),
}


def build(name: str, period: Period, unit: str = "day") -> Report:
    """The report `name` over `period` (`unit`: day, week or month, for sales)."""
    report = REPORTS[name][1](period, unit)
    report.filters.insert(0, (_("Period"), period_text(period)))
    return report


def summary_cards(period: Period) -> list[tuple[Text, Decimal | int | None, Kind]]:
    """The headline figures of a period, for the top of the sales page and the today page: the
    bills' totals and the money, nothing more (two of `figures.summary`'s six reads)."""
    b, m = figures.bill_totals(period), figures.money_totals(period)
    per_guest = money(b.sales / b.guests) if b.guests else None
    return [
        (_("Sales"), b.sales, "money"),
        (_("Received"), m.received, "money"),
        (_("Bills"), b.bills, "int"),
        (_("Guests"), b.guests, "int"),
        (_("Average per guest"), per_guest, "money"),
        # Every discount: the cashier's, and member prices, coupons and points (issue 9).
        (
            _("Discounts"),
            b.line_discounts + b.bill_discounts - b.member_prices - b.coupons - b.points,
            "money",
        ),
        (_("Voids"), b.voided_amount, "money"),
        (_("Refunds"), m.refunded, "money"),
    ]
