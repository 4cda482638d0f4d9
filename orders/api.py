"""Ordering over JSON: the same services as the diner's pages, reached with the table's token.

Prices, names and options of an order come from the database; a price in the body is ignored.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import StrictInt

from restaurant.money import money_str

from . import selectors, services

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
    dish: StrictInt
    quantity: StrictInt = 1
    options: list[StrictInt] = []
    note: str | None = ""


class OrderIn(Schema):
    key: str
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
            dish=line.dish, quantity=line.quantity, options=line.options, note=line.note
        )
        for line in payload.lines
    ]
    # One transaction, so a refused first order does not leave an empty tab open at the table.
    with transaction.atomic():
        tab = services.tab_for_table(table)
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
    tab = services.tab_for_table(table, create=False)
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
