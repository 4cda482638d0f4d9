"""The settlement: what a tab owes, in the `settlement/v1` shape that is the contract between
ordering and payment (DESIGN.md). Read-only and pure: it imports only the models and money.
The payment side reads a tab's bill here and reports its payments through `orders.services`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from restaurant.lib.money import money, money_str, yuan

from .models import OrderLine, Tab, TabAdjustment, TabPayment

SCHEMA = "settlement/v1"
SUCCEEDED = "succeeded"

# The values of a settlement's "status" (a tab's) and of its lines' "status": the payment side
# names them from here.
TabStatus = Tab.Status
LineStatus = OrderLine.Status


def _rounding(amount: Decimal) -> Decimal:
    step = {"jiao": Decimal("0.1"), "yuan": Decimal("1")}.get(settings.BILL_ROUNDING)
    if step is None:
        return money(0)
    return money(amount.quantize(step, rounding=ROUND_DOWN) - amount)


# The price rules ------------------------------------------------------------------------------
#
# THE ORDER IN WHICH A BILL IS PRICED (payments/README.md, "Prices and discounts"); each step
# works on what the steps before it left, and each is a line of the settlement's `adjustments`:
#
#  1. subtotal: every dish not voided at its list price (unit price × quantity);
#  2. member_price: with a member on the tab, each dish at the lower of its 会员价 and its price
#     at the level's discount rate (never both);
#  3. line discounts: the cashier's money off single dishes (in the lines, with their reasons);
#  4. coupons, in the order they were redeemed, each against what its dishes now cost: its
#     minimum spend and its dishes are checked again on every change of the bill, and a coupon
#     that no longer applies is shown as dropped with the reason, taking nothing off;
#  5. points: money off for points, up to what is left;
#  6. discount: the cashier's discount on the whole bill, up to what is left;
#  7. seat_charge: 餐位费/茶位费, guests × the area's charge per guest;
#  8. minimum_spend: a private room's shortfall below its minimum (dishes after 2–6);
#  9. service_charge: SERVICE_CHARGE_PERCENT of the dishes after 2–3 (as before these rules);
# 10. rounding: 抹零 of the total (BILL_ROUNDING).
# Charges (7–9) apply only to a bill with at least one dish.

COUPON_TYPES = ("threshold", "voucher", "percent", "free_dish")


@dataclass
class Priced:
    """A bill priced by the rules above: the figures, each dish's money off, the adjustments."""

    figures: dict[str, Decimal]
    member_off: dict[int, Decimal]  # line id → 会员价 saving
    net: dict[int, Decimal]  # line id → what the dish costs after steps 2–4
    adjustments: list[dict[str, Any]]


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        number = Decimal(value)
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _ids(value: object) -> list[int] | None:
    if not isinstance(value, list) or len(value) > 500:
        return None
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in value):
        return None
    return value


def rule_problem(rule: object) -> str:
    """What is wrong with a coupon's rule ("" when nothing). A rule is a dict:
    `type` (threshold 满减, voucher 代金券, percent 折扣券, free_dish 赠菜券), `off` (yuan, for
    threshold and voucher), `rate` (the share paid, 0.88 = 八八折) and `cap` (yuan or null) for
    percent, `minimum` (yuan, default 0), `dishes` and `categories` (ids it covers; none: the
    whole bill; a free_dish coupon names its dishes), `combinable` (with other coupons)."""
    if not isinstance(rule, dict):
        return "the rule must be an object"
    kind = rule.get("type")
    if kind not in COUPON_TYPES:
        return "type must be one of " + ", ".join(COUPON_TYPES)
    minimum = _decimal(rule.get("minimum", "0"))
    if minimum is None or minimum < 0 or money(minimum) != minimum:
        return "minimum must be an amount of at least 0"
    for key in ("dishes", "categories"):
        if _ids(rule.get(key, [])) is None:
            return f"{key} must be a list of ids"
    if not isinstance(rule.get("combinable", False), bool):
        return "combinable must be true or false"
    if kind in ("threshold", "voucher"):
        off = _decimal(rule.get("off"))
        if off is None or off <= 0 or money(off) != off:
            return "off must be an amount above 0"
    if kind == "percent":
        rate = _decimal(rule.get("rate"))
        if rate is None or not 0 < rate < 1 or rate != rate.quantize(Decimal("0.001")):
            return "rate must be above 0 and below 1 (0.88 = 八八折)"
        cap = rule.get("cap")
        cap_value = _decimal(cap)
        if cap is not None and (
            cap_value is None or cap_value <= 0 or money(cap_value) != cap_value
        ):
            return "cap must be an amount above 0, or null"
    if kind == "free_dish" and not rule.get("dishes"):
        return "a free-dish coupon names its dishes"
    return ""


def _spread(amount: Decimal, line_ids: list[int], net: dict[int, Decimal]) -> None:
    """Take `amount` off these lines in proportion to what each costs now (the last one takes
    the cents left), so that what a phone's own dishes come to stays fair."""
    base = sum((net[i] for i in line_ids), start=Decimal(0))
    left = amount
    for n, line_id in enumerate(line_ids):
        share = left if n == len(line_ids) - 1 else money(amount * net[line_id] / base)
        share = min(share, net[line_id], left)
        net[line_id] -= share
        left -= share


def _coupon(
    adjustment: TabAdjustment,
    counted: list[OrderLine],
    net: dict[int, Decimal],
    categories: dict[int, int],
    applied_before: list[bool],
) -> tuple[Decimal, str]:
    """(money off, why it takes nothing) of one coupon against the bill as steps 1–4 left it."""
    rule = adjustment.rule or {}
    dishes, cats = set(rule.get("dishes", [])), set(rule.get("categories", []))
    combinable = rule.get("combinable", False)
    # With coupons already applied, it applies only when it and all of them combine.
    if applied_before and (not combinable or not all(applied_before)):
        return money(0), "not_combinable"
    scope = [
        line.pk
        for line in counted
        if (not dishes and not cats)
        or line.dish_id in dishes
        or categories.get(line.dish_id or 0) in cats
    ]
    eligible = sum((net[i] for i in scope), start=Decimal(0))
    if not scope or eligible <= 0:
        return money(0), "no_dishes"
    minimum = Decimal(rule.get("minimum", "0"))
    if eligible < minimum:
        return money(0), "minimum"
    kind = rule["type"]
    if kind == "percent":
        off = money(eligible * (1 - Decimal(rule["rate"])))
        if rule.get("cap") is not None:
            off = min(off, Decimal(rule["cap"]))
        _spread(off, scope, net)
    elif kind == "free_dish":
        # The dearest portion among its dishes is free.
        lines = {line.pk: line for line in counted}
        best = max(scope, key=lambda i: net[i] / lines[i].quantity)
        off = money(net[best] / lines[best].quantity)
        _spread(off, [best], net)
    else:
        off = min(Decimal(rule["off"]), eligible)
        _spread(off, scope, net)
    return off, ""


def price_bill(
    tab: Tab,
    lines: list[OrderLine],
    payments: list[TabPayment],
    adjustments: list[TabAdjustment] | None = None,
    categories: dict[int, int] | None = None,
) -> Priced:
    """The bill by THE ORDER above. `adjustments` and `categories` (dish id → category id) are
    read from the database when not given."""
    if adjustments is None:
        adjustments = list(TabAdjustment.objects.filter(tab_id=tab.pk).order_by("created_at", "id"))
    counted = [line for line in lines if line.status != OrderLine.Status.VOIDED]
    if categories is None:
        categories = _categories(adjustments, counted)
    rows: list[dict[str, Any]] = []
    # 1. subtotal
    subtotal = money(sum((line.unit_price * line.quantity for line in counted), start=Decimal(0)))
    # 2.–3. member price, then the cashier's line discounts
    member_off: dict[int, Decimal] = {}
    net: dict[int, Decimal] = {}
    for line in counted:
        gross = money(line.unit_price * line.quantity)
        member_off[line.pk] = min(_member_saving(tab, line), max(gross - line.discount, money(0)))
        net[line.pk] = max(gross - line.discount - member_off[line.pk], money(0))
    member_total = money(sum(member_off.values(), start=Decimal(0)))
    line_discounts = money(sum((line.discount for line in counted), start=Decimal(0)))
    if tab.member_ref:
        rows.append(_row("member_price", tab.member_label, -member_total, ref=tab.member_ref))
    # 4. coupons, 5. points
    applied: list[bool] = []  # whether each coupon applied so far combines
    adjustment_total = points = Decimal(0)
    for adjustment in adjustments:
        if adjustment.kind == TabAdjustment.Kind.COUPON:
            off, why = _coupon(adjustment, counted, net, categories, applied)
            if not why:
                applied.append((adjustment.rule or {}).get("combinable", False))
        else:
            # Points and the bill discount are not spread over the dishes: they are the whole
            # bill's, and `diner_share` spreads them with the total.
            left = sum(net.values(), start=Decimal(0)) - points
            off = min(money(adjustment.amount or 0), left)
            why = "" if off > 0 else "nothing_left"
            points += off
        adjustment_total += off
        rows.append(
            _row(
                adjustment.kind,
                adjustment.reason,
                -off,
                ref=adjustment.ref,
                why=why,
                rule=adjustment.rule,
            )
        )
    # 6. the bill discount
    left = sum(net.values(), start=Decimal(0)) - points
    bill_discount = min(tab.discount, left)
    if tab.discount:
        rows.append(_row("discount", tab.discount_reason, -bill_discount))
    discount_total = money(line_discounts + member_total + adjustment_total + bill_discount)
    goods = subtotal - discount_total
    # 7.–9. charges
    seat_charge = minimum_shortfall = service_charge = money(0)
    if counted:
        seat_charge = money(tab.seat_charge * (tab.guests or 0))
        minimum_shortfall = max(money(tab.minimum_spend) - goods, money(0))
        service_charge = money(
            (subtotal - line_discounts - member_total)
            * Decimal(settings.SERVICE_CHARGE_PERCENT)
            / 100
        )
    if seat_charge:
        rows.append(
            _row(
                "seat_charge",
                tab.seat_charge_name,
                seat_charge,
                guests=tab.guests,
                each=tab.seat_charge,
            )
        )
    if minimum_shortfall:
        rows.append(_row("minimum_spend", "", minimum_shortfall, minimum=tab.minimum_spend))
    if service_charge:
        rows.append(
            _row("service_charge", "", service_charge, percent=str(settings.SERVICE_CHARGE_PERCENT))
        )
    # 10. rounding
    before_rounding = goods + seat_charge + minimum_shortfall + service_charge
    rounding = _rounding(before_rounding)
    if rounding:
        rows.append(_row("rounding", "", rounding))
    total = money(before_rounding + rounding)
    paid = money(sum((p.amount for p in payments if p.status == SUCCEEDED), start=Decimal(0)))
    refunded = money(sum((p.refunded for p in payments), start=Decimal(0)))
    figures = {
        "subtotal": subtotal,
        "discount_total": discount_total,
        "charges_total": money(seat_charge + minimum_shortfall),
        "service_charge": service_charge,
        "rounding": rounding,
        "total": total,
        "paid": paid,
        "refunded": refunded,
        "balance_due": money(total - paid + refunded),
    }
    return Priced(figures=figures, member_off=member_off, net=net, adjustments=rows)


def _member_saving(tab: Tab, line: OrderLine) -> Decimal:
    """What a member saves on the line: the lower of its member price and its price at the
    level's rate, never both."""
    if not tab.member_ref:
        return money(0)
    unit = line.unit_price
    if line.member_price is not None:
        unit = min(unit, line.member_price)
    if tab.member_rate is not None:
        unit = min(unit, money(line.unit_price * tab.member_rate))
    return money((line.unit_price - unit) * line.quantity)


def _categories(adjustments: list[TabAdjustment], lines: list[OrderLine]) -> dict[int, int]:
    """dish id → category id, read only when a coupon covers categories."""
    if not any((a.rule or {}).get("categories") for a in adjustments):
        return {}
    line_ids = [line.pk for line in lines if line.dish_id]
    return dict(
        OrderLine.objects.filter(pk__in=line_ids).values_list("dish_id", "dish__category_id")
    )


def _row(
    kind: str, reason: str, amount: Decimal, *, ref: str = "", why: str = "", **more: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "kind": kind,
        "reason": reason,
        "ref": ref,
        "amount": money_str(amount),
        "applied": not why,
        "why": why,
    }
    for key, value in more.items():
        if isinstance(value, Decimal):
            value = money_str(value)
        row[key] = value
    return row


def adjustment_label(row: dict[str, Any]) -> str:
    """What a person reads for one of a settlement's `adjustments` (in the active language)."""
    names = {
        "member_price": _("Member price"),
        "coupon": _("Coupon"),
        "points": _("Points"),
        "discount": _("Bill discount"),
        "seat_charge": _("Seat charge"),
        "minimum_spend": _("Minimum spend shortfall"),
        "service_charge": _("Service charge"),
        "rounding": _("Rounding"),
    }
    name = names.get(row["kind"], row["kind"])
    if row["kind"] == "seat_charge":
        name = row["reason"] or name
        return f"{name} ({row['guests']} × {yuan(row['each'])})"
    if row["kind"] == "minimum_spend":
        return f"{name} ({_('minimum %(amount)s') % {'amount': yuan(row['minimum'])}})"
    if row["kind"] == "service_charge":
        return f"{name} ({row['percent']}%)"
    if row["reason"]:
        return f"{name} · {row['reason']}"
    return str(name)


def adjustment_why(row: dict[str, Any]) -> str:
    """Why an adjustment takes nothing off now ("" when it applies)."""
    why = row["why"]
    if why == "minimum":
        minimum = (row.get("rule") or {}).get("minimum", "0")
        return _("it needs a spend of at least %(amount)s on what it covers") % {
            "amount": yuan(minimum)
        }
    if why == "no_dishes":
        return _("nothing on the bill is covered by it")
    if why == "not_combinable":
        return _("it does not combine with another coupon on the bill")
    if why == "nothing_left":
        return _("nothing is left to take off")
    return ""


def bill_rows(settlement: dict[str, Any]) -> list[dict[str, Any]]:
    """What a bill shows between its subtotal and its total, in the order of application: the
    dishes' own discounts, then each adjustment, with its label, its signed amount as people
    read it ("−¥20", "¥12") and, for one that takes nothing off now, why."""
    rows: list[dict[str, Any]] = []
    line_discounts = sum(
        (Decimal(line["discount"]) for line in settlement["lines"] if line["status"] != "voided"),
        start=Decimal(0),
    )
    if line_discounts:
        rows.append(
            {
                "kind": "line_discount",
                "label": _("Dish discounts"),
                "amount": -line_discounts,
                "why": "",
                "ref": "",
                "applied": True,
            }
        )
    for row in settlement["adjustments"]:
        rows.append(
            {
                "kind": row["kind"],
                "label": adjustment_label(row),
                "amount": Decimal(row["amount"]),
                "why": adjustment_why(row),
                "ref": row["ref"],
                "applied": row["applied"],
            }
        )
    for row in rows:
        amount = row["amount"]
        row["text"] = ("−" if amount < 0 else "") + yuan(abs(amount))
    return rows


def settlement_figures(
    tab: Tab, lines: list[OrderLine], payments: list[TabPayment]
) -> dict[str, Decimal]:
    """The money of a settlement as Decimals: subtotal, discounts, charges, service, rounding,
    total, paid, refunded, balance due."""
    return price_bill(tab, lines, payments).figures


def build_settlement(tab_id: int) -> dict[str, Any]:
    """The tab's settlement as a JSON-ready dict: amounts as strings with two decimals."""
    settlements = build_settlements([tab_id])
    if tab_id not in settlements:
        raise Tab.DoesNotExist(f"No tab {tab_id}")
    return settlements[tab_id]


def build_settlements(tab_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{tab id: its settlement} for many tabs in a few queries, not a few per tab (the cashier's
    floor plan reads every open tab at once)."""
    tabs = Tab.objects.select_related("table").filter(pk__in=tab_ids)
    return {pk: parts.settlement() for pk, parts in _read(list(tabs)).items()}


@dataclass
class SettlementParts:
    """What a settlement is computed from, read once (`read_parts`) with the tab locked. The
    ordering side's services apply their own changes to it in memory (`record_payment`), so a
    payment's transaction knows the settlement before and after the payment from one read."""

    tab: Tab
    lines: list[OrderLine]
    payments: list[TabPayment]
    adjustments: list[TabAdjustment]
    categories: dict[int, int]

    def settlement(self) -> dict[str, Any]:
        return _settlement(self.tab, self.lines, self.payments, self.adjustments, self.categories)


def read_parts(tab: Tab) -> SettlementParts:
    """The parts of a tab read with its table (`orders.services.lock_tab`), in three queries.
    Call it with the tab locked; the tab changes then only through services that keep it true."""
    return _read([tab])[tab.pk]


# A settlement shows these of a payment: a tab's payments are read on every payment and for
# every tile of the cashier's floor, and their timestamps were a good part of reading them.
PAYMENT_FIELDS = ("id", "tab_id", "payment", "method", "amount", "refunded", "status")


def _read(tabs: list[Tab]) -> dict[int, SettlementParts]:
    parts = {tab.pk: SettlementParts(tab, [], [], [], {}) for tab in tabs}
    for line in (
        OrderLine.objects.filter(order__tab__in=tabs)
        .annotate(tab_id=F("order__tab_id"))
        .order_by("id")
    ):
        parts[line.tab_id].lines.append(line)
    for payment in TabPayment.objects.filter(tab__in=tabs).only(*PAYMENT_FIELDS).order_by("id"):
        parts[payment.tab_id].payments.append(payment)
    for adjustment in TabAdjustment.objects.filter(tab__in=tabs).order_by("created_at", "id"):
        parts[adjustment.tab_id].adjustments.append(adjustment)
    every_line = [line for part in parts.values() for line in part.lines]
    every_adjustment = [a for part in parts.values() for a in part.adjustments]
    categories = _categories(every_adjustment, every_line)
    for part in parts.values():
        part.categories = categories
    return parts


def _settlement(
    tab: Tab,
    lines: list[OrderLine],
    payments: list[TabPayment],
    adjustments: list[TabAdjustment],
    categories: dict[int, int],
) -> dict[str, Any]:
    priced = price_bill(tab, lines, payments, adjustments, categories)
    return {
        "schema": SCHEMA,
        "tab": str(tab.pk),
        "version": tab.version,
        "table": {"code": tab.table.code, "name": tab.table.display_name},
        "currency": settings.CURRENCY,
        "status": tab.status,
        "opened_at": timezone.localtime(tab.opened_at).isoformat(timespec="seconds"),
        "guests": tab.guests,
        "member": {
            "ref": tab.member_ref,
            "label": tab.member_label,
            "discount_rate": str(tab.member_rate) if tab.member_rate is not None else None,
        }
        if tab.member_ref
        else None,
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
                "member_price": money_str(line.member_price)
                if line.member_price is not None
                else None,
                "member_discount": money_str(priced.member_off.get(line.pk, 0)),
                "discount": money_str(line.discount),
                "discount_reason": line.discount_reason,
                "amount": money_str(line.unit_price * line.quantity - line.discount),
                "status": line.status,
            }
            for line in lines
        ],
        "adjustments": priced.adjustments,
        **{name: money_str(value) for name, value in priced.figures.items()},
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
    """What the lines this phone ordered come to after every price rule, with the bill's charges
    and rounding spread over the lines in proportion. Zero for a phone that ordered nothing."""
    tab = Tab.objects.get(pk=tab_id)
    lines = [
        line
        for line in OrderLine.objects.filter(order__tab=tab).select_related("diner")
        if line.status != OrderLine.Status.VOIDED
    ]
    priced = price_bill(tab, lines, [])
    net = sum(priced.net.values(), start=Decimal(0))
    mine = sum(
        (
            priced.net[line.pk]
            for line in lines
            if line.diner is not None and line.diner.key == diner_key
        ),
        start=Decimal(0),
    )
    if net <= 0 or mine <= 0:
        return money(0)
    return money(mine * priced.figures["total"] / net)
