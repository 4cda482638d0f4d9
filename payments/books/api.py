"""The books over JSON (API v1): shifts (交班) and the business day (日结), on the same services
as the cashier's `/cashier/shift/` and the manager's `/manager/day/` pages, with their rules,
their refusals and their roles.

Who may call: a cashier's or a manager's session (unsafe calls with the X-CSRFToken header), or a
device token with the role (restaurant/lib/api_auth.py). A shift and a day close belong to a
person, so opening a shift, paying cash in or out, handing over and closing the day need a
signed-in person: a device token answers `403 person_required`. Devices read: a till's current
shift, a shift, its slip, and (a manager's device) the day, its Z report and the closed days.
Every write takes an idempotency `key`: the same key again answers what the first did and
changes nothing. Amounts are strings in yuan with two decimals, as in `settlement/v1`.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Prefetch
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import PlainValidator, WithJsonSchema

from restaurant.lib import parse
from restaurant.lib.api_auth import StaffAuth
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money_str
from restaurant.lib.roles import CASHIER, MANAGER, has_role
from restaurant.lib.schemas import Key, Yuan, refusal, refusing

from ..reports.reconcile import z_reconciliation
from . import reports, selectors, services
from .models import BusinessDay, CashMovement, Shift

router = Router(tags=["books"])
staff = StaffAuth(CASHIER)


class Error(Schema):
    error: str
    message: str


ERRORS: dict[int, Any] = {status: Error for status in (400, 401, 403, 404, 409)}


# What clients send, read at the edge ---------------------------------------------------------


def _till(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if 1 <= len(value) <= 30 else None


def _direction(value: object) -> str:
    if value not in CashMovement.Direction.values:
        raise refusal(Code.INVALID, problems="direction")
    return str(value)


def _denominations(value: object) -> dict[str, int]:
    """How many of each note and coin: {"100": 2, "0.5": 3}; anything else is `bad_count`."""
    if not isinstance(value, dict) or any(
        face not in selectors.DENOMINATIONS
        or not isinstance(n, int)
        or isinstance(n, bool)
        or not 0 <= n <= 100000
        for face, n in value.items()
    ):
        raise refusal(Code.BAD_COUNT)
    return {face: n for face, n in value.items() if n}


# A till's name, 1 to 30 characters (spaces around dropped): `400 bad_till` otherwise.
Till = Annotated[
    str,
    PlainValidator(refusing(_till, Code.BAD_TILL)),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 30}),
]
Direction = Annotated[
    str,
    PlainValidator(_direction),
    WithJsonSchema({"type": "string", "enum": CashMovement.Direction.values}),
]
Denominations = Annotated[
    dict[str, int],
    PlainValidator(_denominations),
    WithJsonSchema(
        {
            "type": "object",
            "properties": {
                face: {"type": "integer", "minimum": 0, "maximum": 100000}
                for face in selectors.DENOMINATIONS
            },
            "additionalProperties": False,
        }
    ),
]


class ShiftOpenIn(Schema):
    till: Till
    float_: Yuan | None = Field(
        None,
        alias="float",
        description="备用金 in yuan; null: what the last handover at this till left in the drawer",
    )
    key: Key


class CashIn(Schema):
    direction: Direction = Field(description="`in` (paid in, 存入) or `out` (paid out, 支出)")
    amount: Yuan
    reason: str = Field(description="Why: 1 to 200 characters")
    key: Key


class HandoverIn(Schema):
    counted: Yuan | None = Field(None, description="The cash counted, as a total in yuan")
    denominations: Denominations | None = Field(
        None,
        description="…or how many of each note and coin (¥100 … ¥0.1); with both, they must agree",
    )
    reason: str = Field("", description="Why the drawer is over or short (needed then)")
    left_in_drawer: Yuan | None = Field(
        None, description="What stays in the drawer for the next cashier; null: all of it"
    )
    key: Key


class DayCloseIn(Schema):
    carry_reason: str = Field(
        "", description="Why open tables and payments under way are carried over (needed then)"
    )
    key: Key


# Answers ---------------------------------------------------------------------------------------


class MethodFigures(Schema):
    account: str = Field(description="cash, card or qr")
    received: str
    change: str = Field(description="Change given (negative)")
    refunded: str = Field(description="Refunds (negative)")
    net: str


class MemberFigures(Schema):
    top_ups: str
    bonus: str
    spent: str = Field(description="Member balance spent on bills")
    refunded_to_balance: str


class ShiftFigures(Schema):
    float_: str = Field(alias="float")
    methods: list[MethodFigures]
    member: MemberFigures | None = None
    paid_in: str
    paid_out: str
    cash_expected: str = Field(description="float + cash net + paid in − paid out")
    takings: str


class MovementOut(Schema):
    id: int
    direction: str
    amount: str
    reason: str
    by: str | None
    at: datetime


class HandoverOut(Schema):
    at: datetime
    counted: str
    denominations: dict[str, int]
    difference: str = Field(description="Over (+, 长款) or short (−, 短款)")
    reason: str
    left_in_drawer: str
    taken_out: str


class ShiftOut(Schema):
    id: int
    till: str
    cashier: str
    day: date = Field(description="The business day it was opened in")
    opened_at: datetime
    open: bool
    float_: str = Field(alias="float")
    figures: ShiftFigures = Field(
        description="Open: expected now, per method; handed over: as kept at the handover"
    )
    movements: list[MovementOut]
    handover: HandoverOut | None


class CurrentShiftOut(Schema):
    shift: ShiftOut | None
    till: str = Field(description="The till asked about, or the one the page would offer")
    float_default: str = Field(description="The float of a shift opened there without one")


class DenominationOut(Schema):
    face: str
    count: int
    amount: str


class SlipOut(Schema):
    """The handover slip (交班单) as it prints: the figures kept at the handover."""

    shift: int
    till: str
    cashier: str
    opened_at: datetime
    closed_at: datetime
    methods: list[MethodFigures]
    takings: str
    float_: str = Field(alias="float")
    paid_in: str
    paid_out: str
    movements: list[MovementOut]
    cash_expected: str
    denominations: list[DenominationOut]
    counted: str
    difference: str
    difference_reason: str
    left_in_drawer: str
    taken_out: str


class OpenShift(Schema):
    id: int
    till: str
    cashier: str
    opened_at: datetime


class OpenTable(Schema):
    tab: int
    table: str
    status: str
    opened_at: datetime


class PendingPayment(Schema):
    payment: int
    tab: int
    amount: str
    method: str


class DayStatusOut(Schema):
    day: date = Field(
        description="The day to close: the earliest not closed with money, bills or shifts"
    )
    open_day: date = Field(description="The business day money moving now belongs to")
    closed: bool
    shifts_open: list[OpenShift] = Field(description="Hand these over first")
    tables_open: list[OpenTable]
    payments_pending: list[PendingPayment]
    closable: bool = Field(description="Nothing stands in the way, no carry-over needed")
    needs_carry_reason: bool = Field(
        description="Tables open or payments under way: closing carries them over with a reason"
    )


class ClosedDayOut(Schema):
    day: date
    closed_at: datetime
    closed_by: str
    carried_over: list[dict[str, Any]]
    carry_reason: str
    sales: str
    takings: str
    over_short: str


class Sales(Schema):
    subtotal: str = Field(description="Dishes before discounts")
    discount_total: str
    charges_total: str = "0.00"
    service_charge: str
    rounding: str
    total: str = Field(description="Sales")
    discounts: dict[str, str] = Field(
        {}, description="member_price, line, coupon, points, discount: what each took off"
    )
    charges: dict[str, str] = Field({}, description="seat_charge, minimum_spend")


class CategoryRow(Schema):
    category: str | None
    portions: int
    gross: str
    discount: str


class Voids(Schema):
    lines: int
    portions: int
    amount: str


class AdjustmentRow(Schema):
    tab: int
    account: str
    kind: str
    amount: str


class ZShift(Schema):
    id: int
    till: str
    cashier: str
    closed_at: datetime | None
    expected_cash: str | None
    counted: str | None
    difference: str | None
    difference_reason: str


class ZReport(Schema):
    """The Z report (日结报表): the same figures as `/manager/day/<day>/z/`. A closed day's as kept
    at its close, never recomputed; an open day's as it stands (`closed` false)."""

    day: date
    closed: bool
    closed_at: datetime | None = None
    closed_by: str | None = None
    carried_over: list[dict[str, Any]] = []
    carry_reason: str = ""
    bills: int
    guests: int
    per_guest: str
    tables: int
    turns: str
    sales: Sales
    categories: list[CategoryRow]
    voids: Voids
    methods: list[MethodFigures]
    takings: str
    refunds: str
    member: MemberFigures | None = None
    adjustments: list[AdjustmentRow] = Field(description="Money moved on other days' bills")
    shifts: list[ZShift]
    over_short: str
    paid_in: str
    paid_out: str
    reconciliation: dict[str, Any] | None = Field(
        None,
        description="The day's reconciliation with the gateways, read now (reports/reconcile.py); "
        "null when nothing was paid through a gateway and no gateway's bill is in",
    )


# Who is calling -------------------------------------------------------------------------------


def _person(request: Any) -> Any:
    """The signed-in staff member: shifts and day closes are a person's, never a device's."""
    if request.device is not None:
        raise Refused(Code.PERSON_REQUIRED)
    return request.auth


def _is_manager(request: Any) -> bool:
    if request.device is not None:
        return bool(request.device.role == MANAGER)
    return has_role(request.auth, MANAGER)


def _manager(request: Any) -> None:
    """The day's endpoints are the manager's, as `/manager/day/` is."""
    if not _is_manager(request):
        raise Refused(Code.MANAGER_ONLY)


def _may_read(request: Any, shift: Shift) -> None:
    """A cashier reads their own shift and any handed-over one (its slip is on paper for both
    cashiers, as the slip page is); a manager, and a till's device, any shift."""
    if shift.is_open and request.device is None and not _is_manager(request):
        if shift.cashier_id != request.auth.pk:
            raise Refused(Code.FORBIDDEN)


def _day(raw: str) -> date:
    which = parse.day(raw)
    if which is None:
        raise Refused(Code.INVALID, problems="day")
    return which


def _shift(shift_id: int) -> Shift:
    found = (
        Shift.objects.select_related("cashier")
        .prefetch_related(Prefetch("movements", CashMovement.objects.select_related("user")))
        .filter(pk=shift_id)
        .first()
    )
    if found is None:
        raise Refused(Code.NOT_FOUND)
    return found


# The answers' bodies ---------------------------------------------------------------------------


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value) if value else None


def _movement(movement: CashMovement) -> dict[str, Any]:
    return {
        "id": movement.pk,
        "direction": movement.direction,
        "amount": money_str(movement.amount),
        "reason": movement.reason,
        "by": movement.user.get_username() if movement.user else None,
        "at": _local(movement.created_at),
    }


def _shift_out(shift: Shift) -> dict[str, Any]:
    figures = reports.as_json(reports.shift_figures(shift)) if shift.is_open else shift.expected
    handover = None
    if not shift.is_open:
        handover = {
            "at": _local(shift.closed_at),
            "counted": money_str(shift.counted),
            "denominations": shift.denominations,
            "difference": money_str(shift.difference),
            "reason": shift.difference_reason,
            "left_in_drawer": money_str(shift.left_in_drawer),
            "taken_out": money_str(shift.taken_out or 0),
        }
    return {
        "id": shift.pk,
        "till": shift.till,
        "cashier": shift.cashier.get_username(),
        "day": shift.day,
        "opened_at": _local(shift.opened_at),
        "open": shift.is_open,
        "float": money_str(shift.float_amount),
        "figures": figures,
        "movements": [_movement(m) for m in shift.movements.all()],
        "handover": handover,
    }


def _closed_day_out(closed: BusinessDay) -> dict[str, Any]:
    report = closed.report
    return {
        "day": closed.day,
        "closed_at": _local(closed.closed_at),
        "closed_by": closed.closed_by.get_username(),
        "carried_over": closed.carried_over,
        "carry_reason": closed.carry_reason,
        "sales": report["sales"]["total"],
        "takings": report["takings"],
        "over_short": report["over_short"],
    }


# Shifts ---------------------------------------------------------------------------------------


@router.post(
    "/shifts",
    auth=staff,
    response={201: ShiftOut, 200: ShiftOut, **ERRORS},
    by_alias=True,
    summary="开班: open a shift at a till with a float (cashier; idempotent by key)",
)
def shift_open(request, payload: ShiftOpenIn):
    """The caller's shift at `till`. One open shift per till and per cashier: `409 till_busy`,
    `409 shift_open`. The same `key` again answers `200` with the shift it opened. A device
    token answers `403 person_required`: a shift is a person's."""
    shift = services.shift_open(
        user=_person(request), till=payload.till, float_amount=payload.float_, key=payload.key
    )
    return Status(200 if shift.replayed else 201, _shift_out(_shift(shift.pk)))


@router.get(
    "/shifts/current",
    auth=staff,
    response={200: CurrentShiftOut, **ERRORS},
    by_alias=True,
    summary="The current shift and what is expected per method (cashier)",
)
def shift_current(request, till: str | None = None):
    """A person's own open shift; with `till`, the open shift at that till (a device names the
    till it stands at; a cashier reads only their own). `shift` is null when none is open."""
    if till is None and request.device is not None:
        raise Refused(Code.BAD_TILL)
    if till is not None:
        name = _till(till)
        if name is None:
            raise Refused(Code.BAD_TILL)
        found = Shift.objects.filter(till=name, closed_at__isnull=True).first()
    else:
        found = Shift.objects.filter(cashier=request.auth, closed_at__isnull=True).first()
        known = selectors.tills()
        name = found.till if found else (known[0] if known else "1")
    if found is not None:
        _may_read(request, found)
    return {
        "shift": _shift_out(_shift(found.pk)) if found else None,
        "till": name,
        "float_default": money_str(selectors.last_left_in_drawer(name)),
    }


@router.post(
    "/shifts/current/cash",
    auth=staff,
    response={201: MovementOut, 200: MovementOut, **ERRORS},
    summary="Cash paid in or out of the drawer, with a reason (cashier; idempotent by key)",
)
def shift_cash(request, payload: CashIn):
    """Into the caller's open shift (`409 no_shift` without one). A reason is needed
    (`400 reason_required`). The same `key` again answers `200` with the first movement."""
    movement = services.cash_move(
        user=_person(request),
        direction=payload.direction,
        amount=payload.amount,
        reason=payload.reason,
        key=payload.key,
    )
    return Status(200 if movement.replayed else 201, _movement(movement))


@router.post(
    "/shifts/{shift}/handover",
    auth=staff,
    response={200: ShiftOut, **ERRORS},
    by_alias=True,
    summary="交班: count the drawer and hand the shift over (its cashier or a manager)",
)
def shift_hand_over(request, shift: int, payload: HandoverIn):
    """The cash counted as a total (`counted`) or by note and coin (`denominations`); a drawer
    over or short needs a `reason` (`400 difference_needs_reason`, naming the difference). The
    expected figures are kept with the count. Someone else's shift: `403 not_your_shift`; one
    handed over: `409 shift_handed_over`, unless this is the same `key` again, which answers
    the shift as that handover left it."""
    done = services.shift_hand_over(
        user=_person(request),
        shift_id=shift,
        counted=payload.counted,
        denominations=payload.denominations or None,
        reason=payload.reason,
        left_in_drawer=payload.left_in_drawer,
        key=payload.key,
    )
    return _shift_out(_shift(done.pk))


@router.get(
    "/shifts/{shift}",
    auth=staff,
    response={200: ShiftOut, **ERRORS},
    by_alias=True,
    summary="A shift: live figures while open, as kept once handed over (cashier)",
)
def shift_detail(request, shift: int):
    found = _shift(shift)
    _may_read(request, found)
    return _shift_out(found)


@router.get(
    "/shifts/{shift}/slip",
    auth=staff,
    response={200: SlipOut, **ERRORS},
    by_alias=True,
    summary="The handover slip's data (交班单) of a handed-over shift (cashier)",
)
def shift_slip(request, shift: int):
    """What `/cashier/shift/<id>/slip/` prints; `404 not_found` for a shift still open."""
    slip = selectors.handover_slip(shift)
    if slip is None:
        raise Refused(Code.NOT_FOUND)
    found, expected = slip["shift"], slip["expected"]
    return {
        "shift": found.pk,
        "till": found.till,
        "cashier": found.cashier.get_username(),
        "opened_at": _local(found.opened_at),
        "closed_at": _local(found.closed_at),
        "methods": expected["methods"],
        "takings": expected["takings"],
        "float": expected["float"],
        "paid_in": expected["paid_in"],
        "paid_out": expected["paid_out"],
        "movements": [_movement(m) for m in slip["movements"]],
        "cash_expected": money_str(found.expected_cash),
        "denominations": [
            {"face": face, "count": n, "amount": money_str(Decimal(face) * n)}
            for face, n in slip["denominations"]
        ],
        "counted": money_str(found.counted),
        "difference": money_str(found.difference),
        "difference_reason": found.difference_reason,
        "left_in_drawer": money_str(found.left_in_drawer),
        "taken_out": money_str(found.taken_out or 0),
    }


@router.get(
    "/shifts",
    auth=staff,
    response={200: list[ShiftOut], **ERRORS},
    by_alias=True,
    summary="The shifts of a business day, in the order they opened (manager)",
)
def shift_list(request, day: str | None = None):
    """`day` as 2026-12-01; none: the open business day."""
    _manager(request)
    which = _day(day) if day is not None else selectors.open_day()
    shifts = (
        Shift.objects.filter(day=which)
        .select_related("cashier")
        .prefetch_related(Prefetch("movements", CashMovement.objects.select_related("user")))
        .order_by("opened_at", "id")
    )
    return [_shift_out(s) for s in shifts]


# The business day -----------------------------------------------------------------------------


@router.get(
    "/days/open",
    auth=staff,
    response={200: DayStatusOut, **ERRORS},
    summary="The day to close and what stands in the way (manager)",
)
def day_status(request, day: str | None = None):
    """The day `/manager/day/` offers (the earliest not closed), or `day`: open shifts (they
    are handed over first), open tables and payments under way (carried over with a reason)."""
    _manager(request)
    which = _day(day) if day is not None else selectors.day_to_close()
    tabs, pending = selectors.unsettled_before_end_of(which)
    shifts = Shift.objects.filter(closed_at__isnull=True, day__lte=which).select_related("cashier")
    return {
        "day": which,
        "open_day": selectors.open_day(),
        "closed": selectors.closed_day(which) is not None,
        "shifts_open": [
            {
                "id": s.pk,
                "till": s.till,
                "cashier": s.cashier.get_username(),
                "opened_at": _local(s.opened_at),
            }
            for s in shifts
        ],
        "tables_open": [{**t, "opened_at": _local(t["opened_at"])} for t in tabs],
        "payments_pending": [
            {
                "payment": p["pk"],
                "tab": p["tab_id"],
                "amount": money_str(p["amount"]),
                "method": p["method"],
            }
            for p in pending
        ],
        "closable": not (shifts or tabs or pending),
        "needs_carry_reason": bool(tabs or pending),
    }


@router.post(
    "/days/{day}/close",
    auth=staff,
    response={201: ClosedDayOut, 200: ClosedDayOut, **ERRORS},
    summary="日结: close a business day (manager; idempotent by key)",
)
def day_close(request, day: str, payload: DayCloseIn):
    """Refused while a shift is open (`409 shifts_still_open`), and while a table is open or a
    payment under way (`409 day_has_open_bills`) unless `carry_reason` carries them over. The Z
    report is kept as it is now. A closed day: `409 day_closed`, unless this is the same `key`
    again, which answers `200` with the day it closed."""
    _manager(request)
    closed = services.day_close(
        user=_person(request), day=_day(day), carry_reason=payload.carry_reason, key=payload.key
    )
    status = 200 if closed.replayed else 201
    closed = BusinessDay.objects.select_related("closed_by").get(pk=closed.pk)
    return Status(status, _closed_day_out(closed))


@router.get(
    "/days/{day}/z",
    auth=staff,
    response={200: ZReport, **ERRORS},
    summary="The Z report of a business day as JSON (manager)",
)
def day_z_report(request, day: str):
    _manager(request)
    which = _day(day)
    report = reports.z_report(which)
    closed = selectors.closed_day(which)
    return {
        **report,
        "closed_at": _local(closed.closed_at) if closed else None,
        "closed_by": closed.closed_by.get_username() if closed else None,
        "carried_over": closed.carried_over if closed else [],
        "carry_reason": closed.carry_reason if closed else "",
        "adjustments": [
            {"tab": a["tab_id"], "account": a["account"], "kind": a["kind"], "amount": a["amount"]}
            for a in report["adjustments"]
        ],
        "shifts": [
            {
                "id": s["pk"],
                "till": s["till"],
                "cashier": s["cashier__username"],
                "closed_at": s["closed_at"],
                "expected_cash": s["expected_cash"],
                "counted": s["counted"],
                "difference": s["difference"],
                "difference_reason": s["difference_reason"],
            }
            for s in report["shifts"]
        ],
        "reconciliation": z_reconciliation(which),
    }


class ClosedDaysQuery(Schema):
    before: str | None = Field(None, description="Days before this one (2026-12-01)")
    limit: int = Field(30, ge=1, le=100)


@router.get(
    "/days",
    auth=staff,
    response={200: list[ClosedDayOut], **ERRORS},
    summary="Closed business days, newest first (manager)",
)
def day_list(request, query: Query[ClosedDaysQuery]):
    _manager(request)
    days = BusinessDay.objects.select_related("closed_by").order_by("-day")
    if query.before is not None:
        days = days.filter(day__lt=_day(query.before))
    return [_closed_day_out(d) for d in days[: query.limit]]
