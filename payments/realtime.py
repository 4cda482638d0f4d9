"""The payment side's events, and how its screens render them (restaurant.lib.realtime).

Streams: `cashier` (the floor plan: one tile per table), `cashier.tab.<id>` (the bill open on a
cashier's screen), `pay.<id>` (the phones on a tab's pay page). A transaction's events leave
once after it commits, however many changes it made; the screens render them.
"""

from django.template.loader import render_to_string

from restaurant.lib.realtime import publish, publish_on_commit

from . import selectors

CASHIER = "cashier"


def bill_group(tab_id):
    return f"cashier.tab.{tab_id}"


def pay_group(tab_id):
    return f"pay.{tab_id}"


# Pushes: called by the services and receivers, inside their transaction -----------------------


def push_tab_changed(tab_id):
    """Every screen that shows this tab's money, once, after the transaction commits."""
    publish_on_commit(CASHIER, kind="tab", tab=tab_id)
    publish_on_commit(bill_group(tab_id), kind="bill")
    publish_on_commit(pay_group(tab_id), kind="pay")


def push_tile_now(tab_id):
    """The tab's tile, now (its transaction is about to roll back)."""
    publish([(CASHIER, {"kind": "tab", "tab": tab_id})])


def push_table(table_id):
    publish_on_commit(CASHIER, kind="table", table=table_id)


# Rendering: in the process that holds the socket ----------------------------------------------


def render_tile(table_id, tile=None):
    tile = tile or selectors.tile_for_table(table_id)
    return render_to_string("payments/cashier.html#tile", {"tile": tile, "oob": True})


def render_floor():
    """Every tile of the floor, each swapped in by its id: one template render, not one a tile."""
    return render_to_string(
        "payments/cashier.html#tiles", {"tiles": selectors.floor(), "oob": True}
    )


def render_floor_event(event):
    """The tile of the table an event is about (a closed tab's table may have a new tab)."""
    if event["kind"] == "table":
        return render_tile(event["table"])
    tile = selectors.tile_for_tab(event["tab"])
    return render_tile(tile["table"].pk, tile)


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
