"""Writes of the books: open a shift, pay cash in or out, hand over, close the business day.

Lock order (a handover racing a payment): a payment's transaction locks its tab and payment,
then (books.receivers, placing the entry before it is appended) the open shift's row, the
business day's lock (shared; a day close takes it exclusive), then the ledger's append lock;
a handover locks only the shift row. So a payment waits for a handover in progress and then posts to whichever shift is open after it, never to a shift whose figures
were already taken. Every writer of the ledger appends once per transaction, last, so no shift
row is ever asked for while the append lock is held.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from restaurant.lib.audit import AuditEntry, audit_record
from restaurant.lib.business_day import business_day
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money, money_str, yuan
from restaurant.lib.roles import MANAGER, has_role

from ..models import LedgerEntry
from ..reports.rollup import days_changed
from . import realtime, reports, selectors
from .models import BusinessDay, CashMovement, Posting, Shift, TabDay
from .selectors import last_left_in_drawer, open_day

MAX_CASH = Decimal("9999999")
# The advisory lock class of a business day's books ("book"); the day's ordinal is its key.
DAY_LOCK = 0x626F6F6B


def _lock_day(day: date, *, shared: bool) -> None:
    """A business day's books lock until the transaction ends: shared by money placed in the
    day, exclusive for its close."""
    if connection.vendor != "postgresql":  # SQLite: one writer at a time already
        return
    how = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {how}(%s, %s)", [DAY_LOCK, day.toordinal()])


def placing_day() -> date:
    """The open day, its lock shared until the transaction ends. The race: money placed in a
    day whose close computed its Z report before that money committed was in no Z report (the
    closed day's is kept, the next day's does not count it). Now the close waits for it, and
    money placed after a close reads the day closed (the read follows the lock: a fresh
    snapshot). The clock's day first: one lock and one read, unless the day was closed early."""
    day = business_day(timezone.now())
    while True:
        _lock_day(day, shared=True)
        found = open_day()
        if found == day:
            return day
        day = found


# Where money belongs --------------------------------------------------------------------------


def _open_shift_for(user_id: int | None) -> Shift | None:
    """The shift money handled by this staff member belongs to: their own open shift; money
    nobody at a till handled (a phone's QR payment, an automatic refund, a waiter's void) goes
    to the shift open longest, the main till's in a one-till shop. Locked (see the module)."""
    open_shifts = Shift.objects.select_for_update().filter(closed_at__isnull=True)
    if user_id is not None:
        own = open_shifts.filter(cashier_id=user_id).first()
        if own is not None:
            return own
    return open_shifts.order_by("opened_at", "id").first()


def entries_place(*, entries: list[LedgerEntry]) -> None:
    """Where entries about to be appended belong: their shift, locked, and the business day.
    Called before the ledger's append lock (`ledger.appending`), so that every payment of the
    restaurant, queued behind that lock, does not also wait for these round trips (README,
    Performance). A day close takes no ledger lock: the day's own lock (`placing_day`)."""
    day = placing_day()
    shifts: dict[int | None, Shift | None] = {}
    for entry in entries:
        if entry.user_id not in shifts:
            shifts[entry.user_id] = _open_shift_for(entry.user_id)
        entry.books_shift, entry.books_day = shifts[entry.user_id], day


def entry_post(*, entry: LedgerEntry) -> Posting:
    """Post a new ledger entry to the shift and day placed for it (in the entry's transaction)."""
    if entry.books_day is None:  # not appended through LedgerEntry.append or save
        entries_place(entries=[entry])
    assert entry.books_day is not None
    posting = Posting.objects.create(entry=entry, shift=entry.books_shift, day=entry.books_day)
    realtime.push_books()
    return posting


def tab_day_set(*, tab_id: int) -> None:
    """A bill counts in the sales of the day it was first settled (or closed unpaid) on: the
    open day, its lock shared (`placing_day`), so a close of that day waits and counts the bill
    in its Z report, and a bill settled after the close goes to the next day."""
    with transaction.atomic():
        day = placing_day()
        tab_day, created = TabDay.objects.get_or_create(tab_id=tab_id, defaults={"day": day})
        if created:
            days_changed(days=[tab_day.day])
    realtime.push_books()


# Shifts ---------------------------------------------------------------------------------------


def shift_open(
    *, user: User, till: str, float_amount: Decimal | None = None, key: str = ""
) -> Shift:
    """Open a shift at a till. No float named: what the last handover at this till left in the
    drawer (the next cashier takes the drawer over as it is), or nothing. The same `key` again
    answers the shift it opened (`replayed`), also once handed over, and opens nothing."""
    till = till.strip()
    if not 1 <= len(till) <= 30:
        raise Refused(Code.BAD_TILL)
    if key:
        opened = Shift.objects.filter(cashier=user, open_key=key).first()
        if opened is not None:
            opened.replayed = True
            return opened
    if float_amount is None:
        float_amount = last_left_in_drawer(till)
    if not Decimal(0) <= float_amount <= MAX_CASH:
        raise Refused(Code.BAD_AMOUNT)
    mine = Shift.objects.filter(cashier=user, closed_at__isnull=True).first()
    if mine is not None and key and mine.open_key == key:  # the same key's first copy won
        mine.replayed = True  # (it committed between the key's lookup above and this one)
        return mine
    if mine is not None:
        raise Refused(Code.SHIFT_OPEN, till=mine.till)
    try:
        with transaction.atomic():
            shift = Shift.objects.create(
                till=till, cashier=user, float_amount=money(float_amount), day=open_day(),
                open_key=key,
            )  # fmt: skip
    except IntegrityError:  # the till's (or this cashier's) one open shift, taken meanwhile
        opened = Shift.objects.filter(cashier=user, open_key=key).first() if key else None
        if opened is not None:  # the same key, sent twice at once: the first opened it
            opened.replayed = True
            return opened
        busy = Shift.objects.filter(till=till, closed_at__isnull=True).first()
        if busy is None:
            mine = Shift.objects.filter(cashier=user, closed_at__isnull=True).first()
            raise Refused(Code.SHIFT_OPEN, till=mine.till if mine else till) from None
        raise Refused(Code.TILL_BUSY, cashier=busy.cashier.get_username(), till=till) from None
    realtime.push_books()
    return shift


def cash_move(
    *, user: User, direction: str, amount: Decimal, reason: str, key: str = ""
) -> CashMovement:
    """Pay cash into the drawer or out of it, in the cashier's open shift, with a reason. The
    same `key` again answers the movement it recorded (`replayed`) and records nothing."""
    if direction not in CashMovement.Direction.values:
        raise Refused(Code.INVALID, problems="direction")
    if not Decimal(0) < amount <= MAX_CASH:
        raise Refused(Code.BAD_AMOUNT)
    reason = reason.strip()
    if not 1 <= len(reason) <= 200:
        raise Refused(Code.REASON_REQUIRED)
    with transaction.atomic():
        shift = (
            Shift.objects.select_for_update().filter(cashier=user, closed_at__isnull=True).first()
        )
        # After the shift's lock: a replay sent while the first is being recorded waits for it.
        recorded = CashMovement.objects.filter(user=user, key=key).first() if key else None
        if recorded is not None:
            recorded.replayed = True
            return recorded
        if shift is None:
            raise Refused(Code.NO_SHIFT)
        movement = CashMovement.objects.create(
            shift=shift, day=open_day(), direction=direction, amount=money(amount),
            reason=reason, user=user, key=key,
        )  # fmt: skip
        audit_record(
            kind=AuditEntry.Kind.CASH,
            user=user,
            subject=f"{shift.till} #{shift.pk}",
            amount=movement.signed,
            reason=reason,
            detail={"shift": shift.pk, "direction": direction},
        )
        realtime.push_books()
    return movement


def _count(counted: Decimal | None, denominations: dict[str, int] | None) -> Decimal:
    if denominations:
        if set(denominations) - set(selectors.DENOMINATIONS) or any(
            not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 100000
            for n in denominations.values()
        ):
            raise Refused(Code.BAD_COUNT)
        total = sum((Decimal(face) * n for face, n in denominations.items()), start=Decimal(0))
        if counted is not None and money(counted) != money(total):
            raise Refused(Code.BAD_COUNT)
        return money(total)
    if counted is None or not Decimal(0) <= counted <= MAX_CASH:
        raise Refused(Code.BAD_COUNT)
    return money(counted)


def shift_hand_over(
    *,
    user: User,
    shift_id: int,
    counted: Decimal | None = None,
    denominations: dict[str, int] | None = None,
    reason: str = "",
    left_in_drawer: Decimal | None = None,
    key: str = "",
) -> Shift:
    """交班: the cashier counts the drawer (a total, or how many of each note and coin); what
    was expected per method is kept with the count, the cash over (+) or short (−) needs a
    reason, and what stays in the drawer is the next shift's float (the rest was taken out).
    The same `key` again answers the shift as that handover left it (`replayed`)."""
    counted = _count(counted, denominations)
    reason = reason.strip()[:200]
    with transaction.atomic():
        shift = Shift.objects.select_for_update().filter(pk=shift_id).first()
        if shift is None:
            raise Refused(Code.NOT_FOUND)
        if shift.cashier_id != user.pk and not has_role(user, MANAGER):
            raise Refused(Code.NOT_YOUR_SHIFT)
        if not shift.is_open:
            if key and key == shift.handover_key:
                shift.replayed = True
                return shift
            raise Refused(Code.SHIFT_HANDED_OVER)
        figures = reports.shift_figures(shift)
        difference = counted - figures["cash_expected"]
        if difference and not reason:
            raise Refused(Code.DIFFERENCE_NEEDS_REASON, difference=_signed_yuan(difference))
        left = counted if left_in_drawer is None else money(left_in_drawer)
        if not Decimal(0) <= left <= counted:
            raise Refused(Code.BAD_LEFT, counted=yuan(counted))
        shift.closed_at = timezone.now()
        shift.expected = reports.as_json(figures)
        shift.expected_cash = figures["cash_expected"]
        shift.counted = counted
        shift.denominations = {face: n for face, n in (denominations or {}).items() if n}
        shift.difference = difference
        shift.difference_reason = reason
        shift.left_in_drawer = left
        shift.handover_key = key
        shift.save()
        audit_record(
            kind=AuditEntry.Kind.SHIFT,
            user=user,
            subject=f"{shift.till} #{shift.pk} {shift.cashier.get_username()}",
            amount=difference,
            reason=reason,
            detail={
                "shift": shift.pk,
                "expected": money_str(figures["cash_expected"]),
                "counted": money_str(counted),
                "left_in_drawer": money_str(left),
            },
        )
        realtime.push_books()
    return shift


def _signed_yuan(amount: Decimal) -> str:
    return ("+" if amount > 0 else "−") + yuan(abs(amount))


# The day close (日结) --------------------------------------------------------------------------


def day_close(*, user: User, day: date, carry_reason: str = "", key: str = "") -> BusinessDay:
    """Close a business day: refused while a shift is open; refused while a table is open or a
    payment under way, unless the manager carries them over with a reason (they count in the day
    they are settled on). The Z report is computed now and kept with the day, never recomputed:
    money moving after this belongs to the next open day (`open_day`). The same `key` again
    answers the day it closed (`replayed`)."""
    carry_reason = carry_reason.strip()[:200]
    if day > open_day():
        raise Refused(Code.DAY_NOT_OVER, day=day.isoformat())
    closed = BusinessDay.objects.filter(day=day).first()
    if closed is not None:
        if key and key == closed.close_key:
            closed.replayed = True
            return closed
        raise Refused(Code.DAY_CLOSED, day=day.isoformat())
    open_shifts = list(Shift.objects.filter(closed_at__isnull=True, day__lte=day))
    if open_shifts:
        raise Refused(Code.SHIFTS_STILL_OPEN, tills=", ".join(s.till for s in open_shifts))
    tabs, pending = selectors.unsettled_before_end_of(day)
    if (tabs or pending) and not carry_reason:
        raise Refused(Code.DAY_HAS_OPEN_BILLS, tables=len(tabs), payments=len(pending))
    carried: list[dict[str, Any]] = [
        {"tab": t["tab"], "table": t["table"], "status": t["status"]} for t in tabs
    ] + [
        {"payment": p["pk"], "tab": p["tab_id"], "amount": money_str(p["amount"]),
         "method": p["method"]}
        for p in pending
    ]  # fmt: skip
    try:
        with transaction.atomic():
            # After money placed in the day commits (`placing_day`), so the report counts it.
            _lock_day(day, shared=False)
            closed = BusinessDay.objects.create(
                day=day,
                closed_by=user,
                carried_over=carried,
                carry_reason=carry_reason if carried else "",
                report=reports.z_report_live(day),
                close_key=key,
            )
            audit_record(
                kind=AuditEntry.Kind.DAY_CLOSE,
                user=user,
                subject=day.isoformat(),
                amount=Decimal(closed.report["sales"]["total"]),
                detail={"day": day.isoformat()},
            )
            for item in carried:
                audit_record(
                    kind=AuditEntry.Kind.CARRY_OVER,
                    user=user,
                    table=item.get("table", ""),
                    subject=f"{day.isoformat()} #{item.get('payment') or item['tab']}",
                    reason=carry_reason,
                    detail=item,
                )
            realtime.push_books()
    except IntegrityError:  # two managers (or one key sent twice) closing at once: one closes it
        first = BusinessDay.objects.filter(day=day).first()
        if key and first is not None and first.close_key == key:
            first.replayed = True
            return first
        raise Refused(Code.DAY_CLOSED, day=day.isoformat()) from None
    return closed
