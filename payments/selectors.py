"""Reads shared by the cashier's screen, the pay page, the API and the pushes.

Money comes from `orders.settlement.build_settlement` (the settlement/v1 contract); tables and
tabs are read through `orders.selectors`.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from orders import selectors as order_selectors
from orders.settlement import TabStatus, build_settlement, build_settlements, read_parts

from .books import selectors as books_selectors
from .coupons.models import CouponEvent
from .members.models import GIVEN_BACK_WHY, Move
from .models import Payment, Refund

STATES = ("free", "ordering", "eating", "bill", "paying", "settled")


def _state(tab: Any, settlement: dict[str, Any] | None, pending: bool) -> str:
    if tab is None or settlement is None:  # a free table has no settlement
        return "free"
    total, due = Decimal(settlement["total"]), Decimal(settlement["balance_due"])
    paid = Decimal(settlement["paid"]) - Decimal(settlement["refunded"])
    lines = [line for line in settlement["lines"] if line["status"] != "voided"]
    if tab.status == TabStatus.SETTLED or (lines and total > 0 and due <= 0 and not pending):
        return "settled"
    if pending or (paid > 0 and due > 0):
        return "paying"
    if tab.bill_requested_at:
        return "bill"
    if lines:
        return "eating"
    return "ordering"


def bill_undone(settlement: dict[str, Any]) -> bool:
    """A bill wholly voided (every dish taken off: nothing is owed for it) or wholly refunded
    (money was paid, all of it has come back, and the bill still comes to something: nobody
    has paid for it, as after 反结账): its coupons and the points spent on it go back to their
    holders (payments/README.md, "Giving back"). A bill whose dishes now cost no more than
    its coupons and points take off is not undone by the refund of what was paid above it."""
    if all(line["status"] == "voided" for line in settlement["lines"]):
        return True
    paid = Decimal(settlement["paid"])
    refunded_all = paid > 0 and Decimal(settlement["refunded"]) >= paid
    return refunded_all and Decimal(settlement["total"]) > 0


def _tile(
    table: Any,
    tab: Any,
    pending_tabs: set[int],
    alerts: dict[int, str],
    settlement: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if tab and settlement is None:
        settlement = build_settlement(tab.pk)
    pending = tab is not None and tab.pk in pending_tabs
    return {
        "table": table,
        "tab": tab,
        "settlement": settlement,
        "state": _state(tab, settlement, pending),
        "limit": alerts.get(tab.pk) if tab else None,  # the code of a limit the tab reached
    }


def _pending_tabs(tabs: Iterable[Any]) -> set[int]:
    return set(Payment.objects.filter(tab__in=tabs).under_way().values_list("tab_id", flat=True))


def floor() -> list[dict[str, Any]]:
    """Every table in use with its current tab, state and amounts, in floor order."""
    tables = order_selectors.active_tables()
    tabs = order_selectors.current_tabs(tables)
    pending = _pending_tabs(list(tabs.values()))
    alerts = order_selectors.limit_alerts([tab.pk for tab in tabs.values()])
    settlements = build_settlements([tab.pk for tab in tabs.values()])
    return [
        _tile(table, tab, pending, alerts, settlements.get(tab.pk) if tab else None)
        for table, tab in ((table, tabs.get(table.pk)) for table in tables)
    ]


def tile_for_table(table_id: int) -> dict[str, Any]:
    table = order_selectors.table_by_id(table_id)
    tab = order_selectors.current_tab(table)
    alerts = order_selectors.limit_alerts([tab.pk] if tab else [])
    return _tile(table, tab, _pending_tabs([tab] if tab else []), alerts)


def tile_for_tab(tab_id: int) -> dict[str, Any]:
    """The tile of the table a tab's event is about, in five queries (every payment brings
    one). A tab not closed is its table's current one (a table has one open tab at most)."""
    tab = order_selectors.tab_with_table(tab_id)
    if tab.status == TabStatus.CLOSED:  # the table may have a new tab by now
        return tile_for_table(tab.table_id)
    alerts = order_selectors.limit_alerts([tab.pk])
    return _tile(tab.table, tab, _pending_tabs([tab]), alerts, read_parts(tab).settlement())


def tab_payments(tab_id: int) -> list[Payment]:
    """The tab's payments as read now: an overdue one reads as expired (see Payment.as_read)."""
    now = timezone.now()
    payments = Payment.objects.filter(tab_id=tab_id).prefetch_related(
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id"))
    )
    return [payment.as_read(now) for payment in payments]


def bill_view(tab_id: int, settlement: dict[str, Any] | None = None) -> dict[str, Any]:
    """The bill on the cashier's screen: the settlement, payments with their refunds."""
    tab = order_selectors.tab_with_table(tab_id)
    settlement = settlement or build_settlement(tab_id)
    payments = tab_payments(tab_id)
    pending_refunds = sum(
        (r.amount for p in payments for r in p.refunds.all() if r.status == Refund.Status.PENDING),
        start=Decimal(0),
    )
    due = Decimal(settlement["balance_due"]) + pending_refunds
    return {
        "tab": tab,
        "settlement": settlement,
        "payments": payments,
        "due": max(due, Decimal(0)),
        "pending": any(p.status == Payment.Status.PENDING for p in payments),
        "unpaid_orders": order_selectors.unpaid_order_count(tab_id),
        "given_back": given_back(tab_id),
        "state": _state(tab, settlement, any(p.status == Payment.Status.PENDING for p in payments)),
    }


def given_back(tab_id: int) -> list[dict[str, Any]]:
    """What the bill gave back to its holders, oldest first: points spent on it (to the member,
    `points_return`) and coupons (usable again). Two queries."""
    points = Move.objects.filter(tab_id=tab_id, kind=Move.Kind.POINTS_RETURN).select_related(
        "member"
    )
    codes = CouponEvent.objects.filter(tab_id=tab_id, kind="given_back").select_related(
        "code__coupon"
    )
    rows = [
        {"kind": "points", "at": m.created_at, "points": m.points,
         "member": m.member.number[-4:], "why": m.reason_text}
        for m in points
    ] + [
        {"kind": "coupon", "at": e.created_at, "name": e.code.coupon.name, "code": e.code.code,
         "why": GIVEN_BACK_WHY.get(e.reason, e.reason)}
        for e in codes
    ]  # fmt: skip
    return sorted(rows, key=lambda row: row["at"])


def tile_from_bill(bill: dict[str, Any]) -> dict[str, Any]:
    """The floor-plan tile of a bill already read (no further queries)."""
    return {
        "table": bill["tab"].table,
        "tab": bill["tab"] if bill["tab"].status != TabStatus.CLOSED else None,
        "settlement": bill["settlement"] if bill["tab"].status != TabStatus.CLOSED else None,
        "state": bill["state"] if bill["tab"].status != TabStatus.CLOSED else "free",
    }


def pay_view(tab_id: int, bill: dict[str, Any] | None = None) -> dict[str, Any]:
    """What every phone on the pay page sees (the same for each; pushed to all)."""
    tab = bill["tab"] if bill else order_selectors.tab_with_table(tab_id)
    settlement = bill["settlement"] if bill else build_settlement(tab_id)
    all_payments = bill["payments"] if bill else tab_payments(tab_id)
    payments = [p for p in all_payments if p.method == "qr" or p.status == "succeeded"]
    due = Decimal(settlement["balance_due"])
    return {
        "tab": tab,
        "table": tab.table,
        "settlement": settlement,
        "payments": payments,
        "due": max(due, Decimal(0)),
        "paid_up": Decimal(settlement["total"]) > 0 and due <= 0,
        "people": tab.guests or 2,
    }


def handover_slip(shift_id: int) -> dict[str, Any] | None:
    """A handed-over shift's slip as plain data (the printer's payload): the books' figures kept
    at the handover. None: no such shift, or not handed over yet."""
    slip = books_selectors.handover_slip(shift_id)
    if slip is None:
        return None
    shift = slip["shift"]
    return {
        "till": shift.till,
        "cashier": shift.cashier.get_username(),
        "opened_at": timezone.localtime(shift.opened_at).isoformat(timespec="seconds"),
        "closed_at": timezone.localtime(shift.closed_at).isoformat(timespec="seconds"),
        "expected": slip["expected"],
        "movements": [
            {"direction": m.direction, "amount": str(m.amount), "reason": m.reason}
            for m in slip["movements"]
        ],
        "denominations": [[face, n] for face, n in slip["denominations"]],
        "expected_cash": str(shift.expected_cash),
        "counted": str(shift.counted),
        "difference": str(shift.difference),
        "difference_reason": shift.difference_reason,
        "left_in_drawer": str(shift.left_in_drawer),
        "taken_out": str(shift.taken_out),
    }
