"""The settlement: what a tab owes, in the `settlement/v1` shape that is the contract between
ordering and payment (DESIGN.md). Read-only and pure: it imports only the models and money.
The payment side reads a tab's bill here and reports its payments through `orders.services`.
"""

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from restaurant.lib.money import money, money_str

from .models import OrderLine, Tab, TabPayment

SCHEMA = "settlement/v1"
SUCCEEDED = "succeeded"

# The values of a settlement's "status" (a tab's): the payment side names them from here.
TabStatus = Tab.Status


def _rounding(amount: Decimal) -> Decimal:
    step = {"jiao": Decimal("0.1"), "yuan": Decimal("1")}.get(settings.BILL_ROUNDING)
    if step is None:
        return money(0)
    return money(amount.quantize(step, rounding=ROUND_DOWN) - amount)


def settlement_figures(
    tab: Tab, lines: list[OrderLine], payments: list[TabPayment]
) -> dict[str, Decimal]:
    """The money of a settlement as Decimals: subtotal, discounts, service, rounding, total, paid."""
    counted = [line for line in lines if line.status != OrderLine.Status.VOIDED]
    subtotal = money(sum((line.unit_price * line.quantity for line in counted), start=Decimal(0)))
    line_discounts = money(sum((line.discount for line in counted), start=Decimal(0)))
    discount_total = money(min(subtotal, line_discounts + tab.discount))
    after_discount = subtotal - discount_total
    service_charge = money(
        (subtotal - line_discounts) * Decimal(settings.SERVICE_CHARGE_PERCENT) / 100
        if counted
        else 0
    )
    before_rounding = after_discount + service_charge
    rounding = _rounding(before_rounding)
    total = money(before_rounding + rounding)
    paid = money(sum((p.amount for p in payments if p.status == SUCCEEDED), start=Decimal(0)))
    refunded = money(sum((p.refunded for p in payments), start=Decimal(0)))
    return {
        "subtotal": subtotal,
        "discount_total": discount_total,
        "service_charge": service_charge,
        "rounding": rounding,
        "total": total,
        "paid": paid,
        "refunded": refunded,
        "balance_due": money(total - paid + refunded),
    }


def build_settlement(tab_id: int) -> dict[str, Any]:
    """The tab's settlement as a JSON-ready dict: amounts as strings with two decimals."""
    settlements = build_settlements([tab_id])
    if tab_id not in settlements:
        raise Tab.DoesNotExist(f"No tab {tab_id}")
    return settlements[tab_id]


def build_settlements(tab_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{tab id: its settlement} for many tabs in three queries, not three per tab (the cashier's
    floor plan reads every open tab at once)."""
    tabs = {tab.pk: tab for tab in Tab.objects.select_related("table").filter(pk__in=tab_ids)}
    lines: dict[int, list[OrderLine]] = {tab_id: [] for tab_id in tabs}
    for line in (
        OrderLine.objects.filter(order__tab__in=tabs)
        .annotate(tab_id=F("order__tab_id"))
        .order_by("id")
    ):
        lines[line.tab_id].append(line)
    payments: dict[int, list[TabPayment]] = {tab_id: [] for tab_id in tabs}
    for payment in TabPayment.objects.filter(tab__in=tabs).order_by("id"):
        payments[payment.tab_id].append(payment)
    return {pk: _settlement(tab, lines[pk], payments[pk]) for pk, tab in tabs.items()}


def _settlement(tab: Tab, lines: list[OrderLine], payments: list[TabPayment]) -> dict[str, Any]:
    figures = settlement_figures(tab, lines, payments)
    return {
        "schema": SCHEMA,
        "tab": str(tab.pk),
        "version": tab.version,
        "table": {"code": tab.table.code, "name": tab.table.display_name},
        "currency": settings.CURRENCY,
        "status": tab.status,
        "opened_at": timezone.localtime(tab.opened_at).isoformat(timespec="seconds"),
        "guests": tab.guests,
        "lines": [
            {
                "line": str(line.pk),
                "dish": str(line.dish_id) if line.dish_id else None,
                "name": line.name,
                "options": line.options,
                "name_en": line.name_en,
                "options_en": line.options_en,
                "quantity": line.quantity,
                "unit_price": money_str(line.unit_price),
                "discount": money_str(line.discount),
                "amount": money_str(line.unit_price * line.quantity - line.discount),
                "status": line.status,
            }
            for line in lines
        ],
        **{name: money_str(value) for name, value in figures.items()},
        "payments": [
            {
                "payment": p.payment,
                "method": p.method,
                "amount": money_str(p.amount),
                "refunded": money_str(p.refunded),
                "status": p.status,
            }
            for p in payments
        ],
    }


def diner_share(tab_id: int, diner_key: str) -> Decimal:
    """What the lines this phone ordered come to, with the bill's discount and service charge
    spread over the lines in proportion. Zero for a phone that ordered nothing."""
    tab = Tab.objects.get(pk=tab_id)
    lines = [
        line
        for line in OrderLine.objects.filter(order__tab=tab).select_related("diner")
        if line.status != OrderLine.Status.VOIDED
    ]
    figures = settlement_figures(tab, lines, [])
    net = sum((line.unit_price * line.quantity - line.discount for line in lines), start=Decimal(0))
    mine = sum(
        (
            line.unit_price * line.quantity - line.discount
            for line in lines
            if line.diner is not None and line.diner.key == diner_key
        ),
        start=Decimal(0),
    )
    if net <= 0 or mine <= 0:
        return money(0)
    return money(mine * figures["total"] / net)
