"""The books' figures: a shift's expected money per method, and a business day's Z report.

Computed with database aggregates (a handful of queries whatever the day's size); the only
per-bill work is the service charge and rounding, taken from the bills' own settlements
(`orders.settlement.build_settlements`, three queries for all of them) so that the Z report
agrees with every printed bill to the fen. The reports pages ("reports", payments/reports/)
had no day figures on main when this was written: these are the books' own.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from orders import selectors as order_selectors
from orders.settlement import build_settlements
from restaurant.lib.money import money, money_str

from ..models import LedgerEntry
from .models import BusinessDay, CashMovement, Posting, Shift, TabDay

# Accounts whose money is the restaurant's, in the order a slip lists them. `member` (stored
# value) is what is owed to members: spending it is a way of paying, topping it up is not sales.
MONEY_ACCOUNTS = ("cash", "card", "qr")
RECEIVED = ("payment", "top_up")
REFUNDED = ("refund", "top_up_ref")
ZERO = Decimal(0)


def _by_account(entries: Any) -> dict[str, dict[str, Decimal]]:
    """{account: {received, change, refunded, net}} of these ledger entries, one query."""
    figures: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"received": ZERO, "change": ZERO, "refunded": ZERO, "net": ZERO}
    )
    for row in entries.values("account", "kind").annotate(total=Sum("amount")):
        account = figures[row["account"]]
        if row["kind"] in RECEIVED:
            account["received"] += row["total"]
        elif row["kind"] == "change":
            account["change"] += row["total"]
        elif row["kind"] in REFUNDED:
            account["refunded"] += row["total"]
        account["net"] += row["total"]
    return figures


def _member(entries: Any) -> dict[str, Decimal]:
    """Stored value: topped up (with bonuses) and spent (paying bills), as positive amounts."""
    rows = entries.filter(account="member").aggregate(
        top_ups=Sum("amount", filter=Q(kind="top_up")),
        bonus=Sum("amount", filter=Q(kind="bonus")),
        spent=Sum("amount", filter=Q(kind="payment")),
        refunded_to_balance=Sum("amount", filter=Q(kind="refund")),
    )
    return {
        "top_ups": rows["top_ups"] or ZERO,
        "bonus": rows["bonus"] or ZERO,
        "spent": -(rows["spent"] or ZERO),
        "refunded_to_balance": rows["refunded_to_balance"] or ZERO,
    }


def _methods(accounts: dict[str, dict[str, Decimal]]) -> list[dict[str, Any]]:
    return [{"account": name, **accounts[name]} for name in MONEY_ACCOUNTS]


def _total(methods: list[dict[str, Any]], field: str) -> Decimal:
    return money(sum((Decimal(m[field]) for m in methods), start=ZERO))


def shift_figures(shift: Shift) -> dict[str, Any]:
    """What the till should hold now: per method what came in, change given, refunds, net; cash
    paid in and out; and the cash expected in the drawer (float + cash net + in − out)."""
    entries = LedgerEntry.objects.filter(posting__shift=shift)
    accounts = _by_account(entries)
    moved = CashMovement.objects.filter(shift=shift).aggregate(
        paid_in=Sum("amount", filter=Q(direction="in")),
        paid_out=Sum("amount", filter=Q(direction="out")),
    )
    paid_in, paid_out = moved["paid_in"] or ZERO, moved["paid_out"] or ZERO
    methods = _methods(accounts)
    return {
        "float": shift.float_amount,
        "methods": methods,
        "member": _member(entries),
        "paid_in": paid_in,
        "paid_out": paid_out,
        "cash_expected": money(shift.float_amount + accounts["cash"]["net"] + paid_in - paid_out),
        "takings": _total(methods, "net"),
    }


def as_json(value: Any) -> Any:
    """Decimals as strings with two places, dates as ISO: how figures are kept and sent."""
    if isinstance(value, Decimal):
        return money_str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value


# The settlement's price steps (orders/settlement.py, payments/README.md "Prices and
# discounts"): what each took off or added, summed over the day's bills. `line` is the
# cashier's discounts on single dishes, which are on the lines rather than in `adjustments`.
DISCOUNTS = ("member_price", "line", "coupon", "points", "discount")
CHARGES = ("seat_charge", "minimum_spend")
TOTALS = ("subtotal", "discount_total", "charges_total", "service_charge", "rounding", "total")


def _sales(settlements: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The day's bills summed as their settlements priced them, to the fen of each printed bill:
    totals, each kind of discount (positive: what it took off) and of charge."""
    totals = dict.fromkeys(TOTALS, ZERO)
    steps: dict[str, Decimal] = dict.fromkeys(DISCOUNTS + CHARGES, ZERO)
    for settlement in settlements:
        for name in TOTALS:
            totals[name] += Decimal(settlement.get(name) or 0)
        for row in settlement.get("adjustments", []):
            if row["kind"] in steps:
                steps[row["kind"]] += Decimal(row["amount"])
        steps["line"] -= sum(
            (Decimal(line["discount"]) for line in settlement["lines"]
             if line["status"] != "voided"),
            start=ZERO,
        )  # fmt: skip
    return {
        **{name: money(value) for name, value in totals.items()},
        "discounts": {name: money(-steps[name]) for name in DISCOUNTS},
        "charges": {name: money(steps[name]) for name in CHARGES},
    }


def z_report(day: date) -> dict[str, Any]:
    """The Z report of a business day: as kept at its close, or as it stands (an open day)."""
    closed = BusinessDay.objects.filter(day=day).first()
    if closed is not None:
        return {**closed.report, "closed": True}
    return {**z_report_live(day), "closed": False}


def z_report_live(day: date) -> dict[str, Any]:
    """The day's figures now, JSON-ready (amounts as strings)."""
    tab_ids = list(TabDay.objects.filter(day=day).values_list("tab_id", flat=True))
    sales = _sales(build_settlements(tab_ids).values())
    counts = order_selectors.tab_totals(tab_ids)
    guests = counts["guests"]
    tables = order_selectors.table_count()

    entries = LedgerEntry.objects.filter(posting__day=day)
    accounts = _by_account(entries)
    methods = _methods(accounts)
    member = _member(entries)
    # Money moved today on bills that count in another day's sales (a refund after that day was
    # closed, a carried-over bill's payment): the adjustments.
    adjustments = list(
        entries.filter(tab__isnull=False)
        .exclude(tab_id__in=tab_ids)
        .values("tab_id", "account", "kind")
        .annotate(amount=Sum("amount"))
        .order_by("tab_id", "account", "kind")
    )
    shifts = list(
        Shift.objects.filter(day=day)
        .order_by("opened_at", "id")
        .values("pk", "till", "cashier__username", "closed_at", "expected_cash", "counted",
                "difference", "difference_reason")
    )  # fmt: skip
    over_short = money(sum((s["difference"] or ZERO for s in shifts), start=ZERO))
    moved = CashMovement.objects.filter(day=day).aggregate(
        paid_in=Sum("amount", filter=Q(direction="in")),
        paid_out=Sum("amount", filter=Q(direction="out")),
    )
    report = {
        "day": day,
        "bills": counts["tabs"],
        "sales": sales,
        "categories": order_selectors.sales_by_category(tab_ids),
        "voids": order_selectors.void_totals(tab_ids),
        "methods": methods,
        "takings": _total(methods, "net"),
        "refunds": -_total(methods, "refunded"),
        "member": member,
        "guests": guests,
        "per_guest": money(sales["total"] / guests) if guests else ZERO,
        "tables": tables,
        "turns": money(Decimal(counts["tabs"]) / tables) if tables else ZERO,
        "adjustments": adjustments,
        "shifts": shifts,
        "over_short": over_short,
        "paid_in": moved["paid_in"] or ZERO,
        "paid_out": moved["paid_out"] or ZERO,
        "postings": Posting.objects.filter(day=day).aggregate(n=Count("pk"))["n"],
    }  # fmt: skip
    return as_json(report)
