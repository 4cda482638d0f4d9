"""Ordering over JSON: the same services as the diner's pages, reached with the table's token.

Prices, names and options of an order come from the database; a price in the body is ignored.
"""

from datetime import datetime
from typing import Annotated

from django.db import transaction
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import PlainValidator, StrictBool, StrictInt, WithJsonSchema

from restaurant.lib.api_auth import StaffAuth
from restaurant.lib.approvals import Approval, ApprovalIn
from restaurant.lib.errors import Code, Refused
from restaurant.lib.money import money_str
from restaurant.lib.roles import CASHIER, KITCHEN
from restaurant.lib.schemas import DishId, Key, refusing

from . import selectors, services
from .models import OrderLine

router = Router(tags=["orders"])


# Errors (the bodies restaurant/api.py answers with) -------------------------------------------


class Error(Schema):
    error: str
    message: str


class InvalidError(Error):
    detail: list[dict] = []


class DishShortage(Schema):
    dish: int
    name: str
    left: int


class OutOfStockError(Error):
    dishes: list[DishShortage] = []


# Requests -------------------------------------------------------------------------------------


class LineIn(Schema):
    dish: DishId
    quantity: StrictInt = 1
    options: list[StrictInt] = []
    note: str | None = ""
    hold: StrictBool = False


class OrderIn(Schema):
    key: Key
    # The visit (tab id) the client is ordering in, from its first order's answer or the tab
    # read: an ended visit is refused. Null: the client arrives (opens or joins the visit).
    tab: StrictInt | None = None
    guests: StrictInt | None = None
    lines: list[LineIn]


# Answers --------------------------------------------------------------------------------------


class LineOut(Schema):
    id: int
    dish: int | None
    name: str
    name_en: str
    options: list[str]
    quantity: int
    unit_price: str
    discount: str
    amount: str
    note: str
    status: str

    @staticmethod
    def resolve_dish(line):
        return line.dish_id

    @staticmethod
    def resolve_unit_price(line):
        return money_str(line.unit_price)

    @staticmethod
    def resolve_discount(line):
        return money_str(line.discount)

    @staticmethod
    def resolve_amount(line):
        return money_str(line.amount)


class OrderOut(Schema):
    id: int
    tab: int
    number: int
    key: str
    created_at: datetime
    # Pay first (先付后吃): the kitchen sees the order once it is paid.
    awaiting_payment: bool
    lines: list[LineOut]

    @staticmethod
    def resolve_tab(order):
        return order.tab_id

    @staticmethod
    def resolve_created_at(order):
        return timezone.localtime(order.created_at)


class TableOut(Schema):
    code: str
    name: str

    @staticmethod
    def resolve_name(table):
        return table.display_name


class TabOut(Schema):
    id: int
    status: str
    guests: int | None
    version: int
    opened_at: datetime
    orders: list[OrderOut]
    total: str


class TabAnswer(Schema):
    table: TableOut
    tab: TabOut | None


# Endpoints ------------------------------------------------------------------------------------


@router.post(
    "/tables/{token}/orders",
    response={
        201: OrderOut,
        200: OrderOut,
        400: InvalidError,
        404: Error,
        409: OutOfStockError,
        413: Error,
    },
    summary="Submit an order (idempotent by key)",
)
def order_create(request, token: str, payload: OrderIn):
    """Send lines to the kitchen for the table of this token. `201` with the new order; the same
    `key` again answers `200` with the first order and takes nothing more. The first order of a
    visit says how many `guests`. Too little stock: `409 out_of_stock` and nothing is ordered."""
    table = selectors.table_by_token(token)
    lines = [
        services.LineRequest(
            dish=line.dish,
            quantity=line.quantity,
            options=line.options,
            note=line.note or "",
            hold=line.hold,
        )
        for line in payload.lines
    ]
    # One transaction, so a refused first order does not leave an empty tab open at the table.
    with transaction.atomic():
        tab = services.tab_for_visit(table=table, shown=payload.tab)
        order, created = services.order_submit(
            tab=tab, key=payload.key, lines=lines, guests=payload.guests
        )
    return Status(201 if created else 200, order)


@router.get(
    "/tables/{token}/tab",
    response={200: TabAnswer, 404: Error},
    summary="The table's current tab: orders, dish statuses and total",
)
def tab_detail(request, token: str):
    """`tab` is null when nobody is seated at the table. The total leaves voided dishes out."""
    table = selectors.table_by_token(token)
    tab = selectors.current_tab(table)
    if tab is None:
        return {"table": table, "tab": None}
    orders = selectors.tab_orders(tab)
    return {
        "table": table,
        "tab": {
            "id": tab.pk,
            "status": tab.status,
            "guests": tab.guests,
            "version": tab.version,
            "opened_at": timezone.localtime(tab.opened_at),
            "orders": orders,
            "total": money_str(selectors.tab_total(orders)),
        },
    }


# Staff: kitchen devices and cashiers ----------------------------------------------------------


def _status(value: object) -> OrderLine.Status | None:
    if isinstance(value, str) and value in OrderLine.Status.values:
        return OrderLine.Status(value)
    return None


STATUS_SCHEMA = WithJsonSchema({"type": "string", "enum": OrderLine.Status.values})
# A dish's status: `400 bad_status` when there is no such status.
LineStatus = Annotated[
    OrderLine.Status,
    PlainValidator(refusing(_status, Code.BAD_STATUS, name="status")),
    STATUS_SCHEMA,
]
# The status the device showed: `409 line_moved` when the dish cannot have it.
ShownStatus = Annotated[
    OrderLine.Status, PlainValidator(refusing(_status, Code.LINE_MOVED)), STATUS_SCHEMA
]


class StatusIn(Schema):
    status: LineStatus
    expect: ShownStatus | None = None


class VoidIn(Schema):
    reason: str
    approval: ApprovalIn | None = None


class TicketLineOut(Schema):
    id: int
    name: str
    options: list[str]
    note: str
    quantity: int
    status: str
    station: str | None
    urge_count: int


class TicketOut(Schema):
    order: int
    table: str
    round: int
    created_at: datetime
    # Set when the ticket is on the board only for dishes voided while the kitchen had them:
    # when it leaves by itself (POST .../clear takes it off sooner).
    clear_at: datetime | None
    lines: list[TicketLineOut]


class ClearedOut(Schema):
    cleared: int


def _station_slugs():
    return {station.pk: station.slug for station in selectors.stations()}


def _line_out(line, slugs):
    return {
        "id": line.pk,
        "name": line.name,
        "options": line.options,
        "note": line.note,
        "quantity": line.quantity,
        "status": line.status,
        "station": slugs.get(line.station_id),
        "urge_count": line.urge_count,
    }


def _ticket(order, slugs):
    return {
        "order": order.pk,
        "table": order.tab.table.code,
        "round": order.number,
        "created_at": timezone.localtime(order.created_at),
        "clear_at": order.clear_at and timezone.localtime(order.clear_at),
        "lines": [_line_out(line, slugs) for line in order.kitchen_lines],
    }


def _staff_user(request):
    """The logged-in person, or None for a device token (the device is not a user)."""
    return None if getattr(request, "device", None) else request.auth


@router.get(
    "/kitchen/tickets",
    response={200: list[TicketOut], 401: Error, 404: Error},
    auth=StaffAuth(KITCHEN),
    summary="Open kitchen tickets, oldest first (optionally one station's)",
)
def kitchen_tickets(request, station: str | None = None):
    board = selectors.station_by_slug(station) if station else None
    slugs = _station_slugs()
    return [_ticket(order, slugs) for order in selectors.open_tickets(board)]


@router.post(
    "/kitchen/tickets/{order}/clear",
    response={200: ClearedOut, 401: Error, 404: Error},
    auth=StaffAuth(KITCHEN),
    summary="Clear a ticket's voided dishes off the boards (optionally one station's)",
)
def kitchen_ticket_clear(request, order: int, station: str | None = None):
    """The kitchen has seen the voids: the ticket leaves the boards if nothing is left to make."""
    board = selectors.station_by_slug(station) if station else None
    cleared = services.ticket_clear(order_id=order, station=board, user=_staff_user(request))
    return {"cleared": cleared}


@router.post(
    "/kitchen/lines/{line}/status",
    response={200: TicketLineOut, 400: Error, 401: Error, 404: Error, 409: Error},
    auth=StaffAuth(KITCHEN),
    summary="Move a dish along its lifecycle (same rules as the kitchen screen)",
)
def kitchen_line_status(request, line: int, payload: StatusIn):
    """`409` when the move is not allowed from the dish's status, or when `expect` (the status
    the device showed) is no longer the dish's status."""
    services.line_set_status(
        line_id=line, status=payload.status, expect=payload.expect, user=_staff_user(request)
    )
    return _line_out(OrderLine.objects.get(pk=line), _station_slugs())


@router.post(
    "/lines/{line}/void",
    response={200: TicketLineOut, 400: Error, 401: Error, 403: Error, 404: Error, 409: Error},
    auth=StaffAuth(CASHIER),
    summary="退菜: take a dish off its tab, with a reason (cashier or manager)",
)
def line_void(request, line: int, payload: VoidIn):
    """A served dish, or a void that leaves the bill's discounts above a cashier's limit,
    answers `403 void_needs_manager` or `403 discount_over_limit` unless `approval` names a
    manager (their login and password; never the caller's own)."""
    services.line_void(
        line_id=line,
        reason=payload.reason,
        user=_staff_user(request),
        approval=Approval.from_api(request, payload.approval),
    )
    return _line_out(OrderLine.objects.get(pk=line), _station_slugs())


@router.post(
    "/tables/{token}/lines/{line}/urge",
    response={200: TicketLineOut, 400: Error, 404: Error, 409: Error},
    summary="催菜: hurry a dish that is still being made",
)
def line_urge(request, token: str, line: int):
    """At most once per few minutes per dish (`400 urged_recently` otherwise)."""
    table = selectors.table_by_token(token)
    tab = selectors.current_tab(table)
    if tab is None:
        raise Refused(Code.UNKNOWN_LINE)
    urged = services.line_urge(tab=tab, line_id=line)
    return _line_out(OrderLine.objects.get(pk=urged.pk), _station_slugs())
