"""Pushes to screens, always after the transaction commits, as HTML fragments swapped by id.

Groups (each joined per language, `<group>.<language>`):
- `kitchen`: the all-stations board; `kitchen.<station slug>`: one station's board;
- `pass`: the runners' screen of ready dishes;
- `tab.<id>`: the phones at one table's tab; `menu`: every open diner menu (sold-out news).
Fragments are rendered once per event and language from the partials the pages use.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from . import selectors

KITCHEN = "kitchen"
PASS = "pass"
MENU = "menu"


def tab_group(tab_id):
    return f"tab.{tab_id}"


def station_group(slug):
    return f"{KITCHEN}.{slug}"


def lang_group(group, language):
    """Each screen joins its group in its page's language; a push is rendered once per language."""
    return f"{group}.{language}"


def send_html(group, html):
    async_to_sync(get_channel_layer().group_send)(group, {"type": "html.push", "html": html})


def send_rendered(group, render):
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            html = render()
        if html:
            send_html(lang_group(group, language), html)


def after_commit(group, render):
    """Render and send once the surrounding transaction has committed (at once outside one)."""
    transaction.on_commit(lambda: send_rendered(group, render), robust=True)


# What each event sends ------------------------------------------------------------------------


def render_cart(tab_id):
    context = selectors.cart_view(tab_id)
    return render_to_string("orders/diner.html#cart-bar", context) + render_to_string(
        "orders/diner.html#cart", context
    )


def render_tab(tab_id):
    return render_to_string("orders/diner.html#tab", selectors.tab_view(tab_id))


def render_board(station=None):
    return render_to_string("orders/kitchen.html#board", selectors.board_view(station))


def render_ticket(order_id, order, station=None, added=False):
    """A ticket (`order`, read for this board) for one board: appended when new, replaced when
    changed, removed when the board has nothing left to do on it."""
    if order is None:
        return (
            ""
            if added
            else render_to_string("orders/kitchen.html#ticket-gone", {"order_id": order_id})
        )
    context = {"order": order, "station": station, **selectors.kitchen_thresholds()}
    if added:
        return render_to_string("orders/kitchen.html#ticket-added", context)
    return render_to_string("orders/kitchen.html#ticket", {**context, "oob": True})


def render_pass():
    return render_to_string("orders/pass.html#pass-board", {"tables": selectors.pass_tables()})


def render_dish(dish_id):
    from menu.selectors import dish_card

    dish = dish_card(dish_id)
    return render_to_string("orders/diner.html#dish", {"dish": dish, "oob": True}) if dish else ""


def _push_kitchen(order_id, added):
    """One message per board: the ticket as that board shows it, and the new counts. The data
    is read once per event; only the rendering is done per language."""
    stations = selectors.stations()
    touched = {station.pk for station in selectors.order_stations(order_id)}
    stats = selectors.kitchen_stats(stations)
    boards = [None, *stations]
    tickets = {
        board: selectors.ticket(order_id, board)
        for board in boards
        if board is None or board.pk in touched
    }
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            counts = render_to_string("orders/kitchen.html#stats", {"stats": stats})
            for board in boards:
                ticket = (
                    render_ticket(order_id, tickets[board], board, added)
                    if board in tickets
                    else ""
                )
                group = station_group(board.slug) if board else KITCHEN
                send_html(lang_group(group, language), ticket + counts)


def push_cart(tab_id):
    after_commit(tab_group(tab_id), lambda: render_cart(tab_id))


def push_tab(tab_id):
    after_commit(tab_group(tab_id), lambda: render_tab(tab_id))


def push_new_order(order_id, tab_id):
    transaction.on_commit(lambda: _push_kitchen(order_id, added=True), robust=True)
    push_tab(tab_id)


def push_order_changed(order_id, tab_id, *, pass_changed=True):
    """A dish moved: its boards, the phones at its table, and the pass when a dish became
    ready or stopped being ready."""
    transaction.on_commit(lambda: _push_kitchen(order_id, added=False), robust=True)
    if pass_changed:
        after_commit(PASS, render_pass)
    push_tab(tab_id)


def push_dish(dish_id):
    """A dish became available or not: every open menu, and the carts that hold it."""
    send_rendered(MENU, lambda: render_dish(dish_id))
    for tab_id in selectors.tabs_with_dish_in_cart(dish_id):
        send_rendered(tab_group(tab_id), lambda tab_id=tab_id: render_cart(tab_id))
