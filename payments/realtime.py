"""Pushes of the payment side, after commit, rendered once per language (orders.realtime).

Groups: `cashier` (the floor plan: one tile per table), `cashier.tab.<id>` (the bill open on a
cashier's screen), `pay.<id>` (the phones on a tab's pay page). One push per tab and
transaction, however many changes the transaction made.
"""

from django.db import transaction
from django.template.loader import render_to_string

from orders.realtime import send_rendered

from . import selectors

CASHIER = "cashier"


def bill_group(tab_id):
    return f"cashier.tab.{tab_id}"


def pay_group(tab_id):
    return f"pay.{tab_id}"


def render_tile(table_id, tile=None):
    tile = tile or selectors.tile_for_table(table_id)
    return render_to_string("payments/cashier.html#tile", {"tile": tile, "oob": True})


def render_bill(tab_id, bill=None):
    bill = bill or selectors.bill_view(tab_id)
    return render_to_string("payments/cashier.html#bill", {**bill, "oob": True})


def render_pay(tab_id, context=None):
    context = context or selectors.pay_view(tab_id)
    html = render_to_string("payments/pay.html#pay-bill", {**context, "oob": True})
    for payment in context["payments"]:
        html += render_to_string(
            "payments/pay.html#payment", {**context, "payment": payment, "oob": True}
        )
    return html


def _send(tab_id):
    # Read once, render once per language: the data does not depend on the language.
    bill = selectors.bill_view(tab_id)
    tile = selectors.tile_from_bill(bill)
    if tile["tab"] is None:
        tile = selectors.tile_for_table(bill["tab"].table_id)  # closed: a new tab may be there
    pay = selectors.pay_view(tab_id, bill)
    send_rendered(CASHIER, lambda: render_tile(tile["table"].pk, tile))
    send_rendered(bill_group(tab_id), lambda: render_bill(tab_id, bill))
    send_rendered(pay_group(tab_id), lambda: render_pay(tab_id, pay))


def push_tab_changed(tab_id):
    """Every screen that shows this tab's money, once, after the transaction commits."""
    _once_on_commit(("payments.tab", tab_id), lambda: _send(tab_id))


def push_table(table_id):
    _once_on_commit(
        ("payments.table", table_id),
        lambda: send_rendered(CASHIER, lambda: render_tile(table_id)),
    )


def _once_on_commit(key, func):
    """on_commit, unless the same push is already queued in this transaction. Django drops the
    queue on rollback, so a rolled-back push never blocks a later one."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _savepoints, queued, _robust in connection.run_on_commit:
            if getattr(queued, "push_key", None) == key:
                return
    func.push_key = key
    transaction.on_commit(func, robust=True)
