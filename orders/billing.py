"""The settlement: what a tab owes, in the `settlement/v1` shape that is the contract between
ordering and payment (DESIGN.md). The payment side reads it here and reports payments back here.
"""

from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money, money_str

from . import controls, realtime, services, signals
from .models import Order, OrderLine, Tab, TabEvent, Table, TabPayment

SCHEMA = "settlement/v1"
SUCCEEDED = "succeeded"


def _rounding(amount):
    step = {"jiao": Decimal("0.1"), "yuan": Decimal("1")}.get(settings.BILL_ROUNDING)
    if step is None:
        return money(0)
    return money(amount.quantize(step, rounding=ROUND_DOWN) - amount)


def settlement_figures(tab, lines, payments):
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


def build_settlement(tab_id):
    """The tab's settlement as a JSON-ready dict: amounts as strings with two decimals."""
    tab = Tab.objects.select_related("table").get(pk=tab_id)
    orders = Order.objects.filter(tab=tab).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )
    lines = [line for order in orders for line in order.lines.all()]
    payments = list(TabPayment.objects.filter(tab=tab))
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


def record_payment(*, tab_id, payment, method, amount, status, refunded=Decimal(0)):
    """The payment side reports a payment (new or changed); the tab's version grows.

    Called inside the payment side's transaction; pushes go out after it commits.
    """
    TabPayment.objects.update_or_create(
        payment=str(payment),
        defaults={
            "tab_id": tab_id,
            "method": method,
            "amount": amount,
            "status": status,
            "refunded": refunded,
        },
    )
    Tab.objects.filter(pk=tab_id).update(version=F("version") + 1)
    realtime.push_tab(tab_id)


def lock_tab(tab_id):
    """The tab row, locked until the caller's transaction ends (call inside one)."""
    return Tab.objects.select_for_update().select_related("table").get(pk=tab_id)


# Writes of the ordering side that billing needs (the payment side calls these) ----------------


def _reason(reason, *, required):
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason) > 200 or (required and not reason):
        raise Refused(Code.REASON_REQUIRED)
    return reason


def _total_changed(tab_id):
    """The payment side refunds a paid tab whose total went down (after commit)."""
    transaction.on_commit(
        lambda: signals.tab_total_changed.send(sender=None, tab_id=tab_id), robust=True
    )


def _require_billable(tab):
    if tab.status == Tab.Status.CLOSED:
        raise Refused(Code.TAB_CLOSED)


def _discount(amount, maximum):
    amount = money(amount)
    if amount < 0 or amount > maximum:
        raise Refused(Code.BAD_DISCOUNT, max=money_str(maximum))
    return amount


def line_discount_set(*, line_id, amount, reason, user=None, approval=None):
    """A discount on one line in yuan (0 takes it off), with a reason; the line keeps its price.

    The bill's discounts together stay within a cashier's limit unless a manager approves
    (orders/controls.py)."""
    line = OrderLine.objects.select_related("order").filter(pk=line_id).first()
    if line is None:
        raise Refused(Code.UNKNOWN_LINE)
    with (
        controls.refusals_recorded(
            tab_id=line.order.tab_id,
            action="line.discount",
            user=user,
            approval=approval,
            line=line,
        ),
        transaction.atomic(),
    ):
        tab = lock_tab(line.order.tab_id)
        _require_billable(tab)
        if line.status == OrderLine.Status.VOIDED:
            raise Refused(Code.LINE_VOIDED)
        gross = money(line.unit_price * line.quantity)
        amount = _discount(amount, gross)
        reason = _reason(reason, required=amount > 0)
        before = controls.discounts(tab.pk)
        # `amount` is what the line costs after its discount, as in the settlement.
        OrderLine.objects.filter(pk=line.pk).update(
            discount=amount, discount_reason=reason, amount=gross - amount
        )
        approver = controls.check_discounts(
            tab_id=tab.pk, before=before, user=user, approval=approval
        )
        Tab.objects.filter(pk=tab.pk).update(version=F("version") + 1)
        TabEvent.objects.create(
            tab=tab, line=line, kind="line.discount", user=user, approved_by=approver,
            reason=f"{money_str(amount)} {reason}",
        )  # fmt: skip
        realtime.push_tab(tab.pk)
        _total_changed(tab.pk)
    return tab


def tab_discount_set(*, tab_id, amount, reason, user=None, approval=None):
    """A discount on the whole bill in yuan (0 takes it off), with a reason.

    The bill's discounts together stay within a cashier's limit unless a manager approves
    (orders/controls.py)."""
    with (
        controls.refusals_recorded(
            tab_id=tab_id, action="tab.discount", user=user, approval=approval
        ),
        transaction.atomic(),
    ):
        tab = lock_tab(tab_id)
        _require_billable(tab)
        lines = list(OrderLine.objects.filter(order__tab=tab))
        figures = settlement_figures(tab, lines, [])
        line_discounts = sum(
            (line.discount for line in lines if line.status != OrderLine.Status.VOIDED),
            start=Decimal(0),
        )
        amount = _discount(amount, figures["subtotal"] - line_discounts)
        reason = _reason(reason, required=amount > 0)
        before = controls.discounts(tab.pk)
        Tab.objects.filter(pk=tab.pk).update(
            discount=amount, discount_reason=reason, version=F("version") + 1
        )
        approver = controls.check_discounts(
            tab_id=tab.pk, before=before, user=user, approval=approval
        )
        TabEvent.objects.create(
            tab=tab, kind="tab.discount", user=user, approved_by=approver,
            reason=f"{money_str(amount)} {reason}",
        )  # fmt: skip
        realtime.push_tab(tab.pk)
        _total_changed(tab.pk)
    return tab


@transaction.atomic
def bill_request(*, tab_id, diner=None):
    """买单 / "pay at the counter": the diners ask for the bill; the first ask counts."""
    tab = lock_tab(tab_id)
    _require_billable(tab)
    if tab.bill_requested_at is None:
        tab.bill_requested_at = timezone.now()
        tab.save(update_fields=["bill_requested_at"])
        TabEvent.objects.create(tab=tab, kind="bill.requested", diner=diner)
        realtime.push_tab(tab.pk)
    return tab


def _live_lines():
    return OrderLine.objects.filter(order=OuterRef("pk")).exclude(status=OrderLine.Status.VOIDED)


def _unpaid_orders(tab_id):
    return Order.objects.filter(tab_id=tab_id, awaiting_payment=True).filter(Exists(_live_lines()))


@transaction.atomic
def orders_release(*, tab_id, user=None):
    """Pay first (先付后吃): the tab is paid, so its waiting orders go to the kitchen now."""
    lock_tab(tab_id)
    released = list(_unpaid_orders(tab_id))
    if not released:
        return []
    Order.objects.filter(pk__in=[o.pk for o in released]).update(
        awaiting_payment=False, expires_at=None
    )
    for order in released:
        TabEvent.objects.create(
            tab_id=tab_id, kind="order.released", user=user, reason=f"#{order.number}"
        )
        realtime.push_new_order(order.pk, tab_id)
    return released


def unpaid_order_count(tab_id):
    return _unpaid_orders(tab_id).count()


def orders_expire_unpaid(*, now=None, tab_id=None):
    """Pay first: orders not paid in time are taken off (their stock goes back). Returns the ids
    of the tabs changed. Safe in several processes at once: each order expires under its tab's
    lock, and an order another process expired (or a payment released) is skipped."""
    now = now or timezone.now()
    due = Order.objects.filter(awaiting_payment=True, expires_at__lt=now)
    if tab_id is not None:
        due = due.filter(tab_id=tab_id)
    tab_ids = []
    for order_id, order_tab_id in due.filter(Exists(_live_lines())).values_list("pk", "tab_id"):
        with transaction.atomic():
            lock_tab(order_tab_id)
            live = OrderLine.objects.filter(
                order_id=order_id, order__awaiting_payment=True, order__expires_at__lt=now
            ).exclude(status=OrderLine.Status.VOIDED)
            line_ids = list(live.values_list("pk", flat=True))
            for line_id in line_ids:
                services.line_void(line_id=line_id, reason=_("Not paid in time"), system=True)
        if line_ids:
            tab_ids.append(order_tab_id)
    return tab_ids


@transaction.atomic
def tab_close(*, tab_id, user=None, rotate_token=False, reason=""):
    """Close the tab (the table is free again); optionally give the table a new QR token, so an
    old photo of its code cannot order."""
    tab = services.tab_set_status(tab_id=tab_id, status=Tab.Status.CLOSED, user=user, reason=reason)
    if rotate_token:
        table = Table.objects.select_for_update().get(pk=tab.table_id)
        table.rotate_token()
        TabEvent.objects.create(tab=tab, kind="table.token_rotated", user=user)
    return tab


def diner_share(tab_id, diner_key):
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
