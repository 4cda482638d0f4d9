"""Reads of the books that pages, sockets and the printer share."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from orders import selectors as order_selectors
from restaurant.lib.audit import AuditEntry
from restaurant.lib.business_day import business_day, day_bounds

from ..models import Payment
from . import reports
from .models import BusinessDay, CashMovement, Posting, Shift, TabDay

DENOMINATIONS = ("100", "50", "20", "10", "5", "1", "0.5", "0.1")  # renminbi notes and coins
AUDIT_PAGE = 100


def open_day(now: datetime | None = None) -> date:
    """The business day that money moving now belongs to: the day of the clock (its cut-off
    hour, restaurant.lib.business_day), or, once that day is closed, the first day after it not
    closed (a day closed at 23:00 sends a refund at 23:30 to the next day)."""
    day = business_day(now or timezone.now())
    closed = set(BusinessDay.objects.filter(day__gte=day).values_list("day", flat=True))
    while day in closed:
        day += timedelta(days=1)
    return day


def last_left_in_drawer(till: str) -> Decimal:
    last = (
        Shift.objects.filter(till=till, closed_at__isnull=False)
        .order_by("-closed_at", "-id")
        .values_list("left_in_drawer", flat=True)
        .first()
    )
    return last if last is not None else Decimal(0)


def tills() -> list[str]:
    """Tills shifts were opened at, most recent first (the open-shift form offers them)."""
    names = Shift.objects.order_by("-opened_at").values_list("till", flat=True)[:200]
    return list(dict.fromkeys(names))[:8]


def shift_view(user_id: int) -> dict[str, Any]:
    """The cashier's shift screen: their open shift and its figures, or the form to open one."""
    shift = Shift.objects.filter(cashier_id=user_id, closed_at__isnull=True).first()
    last = (
        Shift.objects.filter(cashier_id=user_id, closed_at__isnull=False)
        .order_by("-closed_at")
        .first()
    )
    known = tills()
    till = known[0] if known else "1"
    return {
        "shift": shift,
        "figures": reports.shift_figures(shift) if shift else None,
        "movements": list(CashMovement.objects.filter(shift=shift)) if shift else [],
        "last_shift": last,
        "tills": known,
        "till": till,
        "float_default": last_left_in_drawer(till),
        "denominations": DENOMINATIONS,
        "taken_by": Shift.objects.filter(till=shift.till, closed_at__isnull=True).first()
        if shift
        else None,
    }


def handover_slip(shift_id: int) -> dict[str, Any] | None:
    """A handed-over shift as its slip shows it (the figures kept at the handover)."""
    shift = Shift.objects.select_related("cashier").filter(pk=shift_id).first()
    if shift is None or shift.is_open:
        return None
    return {
        "shift": shift,
        "expected": shift.expected,
        "movements": list(CashMovement.objects.filter(shift=shift)),
        "denominations": sorted(shift.denominations.items(), key=lambda item: -Decimal(item[0])),
    }


def day_to_close() -> date:
    """The day the manager's screen offers to close: the earliest day with money, bills or
    shifts that is not closed yet (a day forgotten yesterday comes first), else the open day."""
    closed = BusinessDay.objects.values("day")
    earliest = [
        model.objects.exclude(day__in=closed).aggregate(first=Min("day"))["first"]
        for model in (Posting, TabDay, Shift)
    ]
    return min([d for d in earliest if d is not None], default=open_day())


def unsettled_before_end_of(day: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What stands in the way of closing `day`: tables opened before its end whose money is
    not done, and payments started before its end still under way."""
    end = day_bounds(day)[1]
    return order_selectors.unsettled_tabs(opened_before=end), list(
        Payment.objects.under_way()
        .filter(created_at__lt=end)
        .values("pk", "tab_id", "amount", "method")
    )


def day_view(day: date | None = None) -> dict[str, Any]:
    """The manager's day-close screen: what stands in the way, and the Z report so far."""
    day = day or day_to_close()
    tabs, pending = unsettled_before_end_of(day)
    return {
        "day": day,
        "report": reports.z_report(day),
        "open_tabs": tabs,
        "pending": pending,
        "open_shifts": list(
            Shift.objects.filter(closed_at__isnull=True, day__lte=day).select_related("cashier")
        ),
        "closed_days": list(BusinessDay.objects.select_related("closed_by")[:14]),
    }


def audit_search(
    *,
    kind: str = "",
    who: str = "",
    table: str = "",
    text: str = "",
    first: date | None = None,
    last: date | None = None,
) -> QuerySet[AuditEntry]:
    """The audit trail, newest first, filtered by what, who, table, words, business days."""
    entries = AuditEntry.objects.all()
    if kind:
        entries = entries.filter(kind=kind)
    if who:
        entries = entries.filter(actor__icontains=who)
    if table:
        entries = entries.filter(table__iexact=table)
    if text:
        entries = entries.filter(
            Q(subject__icontains=text) | Q(reason__icontains=text) | Q(approved_by__icontains=text)
        )
    if first:
        entries = entries.filter(at__gte=day_bounds(first)[0])
    if last:
        entries = entries.filter(at__lt=day_bounds(last)[1])
    return entries


def closed_day(day: date) -> BusinessDay | None:
    return BusinessDay.objects.select_related("closed_by").filter(day=day).first()
