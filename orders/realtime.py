"""The ordering side's events, and how its screens render them (restaurant.lib.realtime).

Streams (each a channel-layer group with its own sequence number):
- `kitchen`: every kitchen board (all stations and each station's). One stream for all of them,
  because every ticket event changes every board: each shows every station's counts;
- `pass`: the runners' screen of ready dishes;
- `tab.<id>`: the phones at one table's tab (its cart and its rounds);
- `table.<id>`: the phones at a table nobody has opened yet: told when a tab opens, they follow it
  (a page or socket never opens one itself);
- `menu`: every open diner menu (a dish sold out or back).
The push_* functions run in the request and only publish, after commit; the render_* functions
run in the process holding the screen's socket, in the screen's language.
"""

import logging
import threading
import time
from collections import OrderedDict
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from menu.selectors import dish_card, menu_categories
from restaurant.lib.realtime import current_seqs, publish, publish_on_commit

from . import selectors
from .models import Tab

logger = logging.getLogger("orders")

KITCHEN = "kitchen"
PASS = "pass"
MENU = "menu"


def tab_group(tab_id):
    return f"tab.{tab_id}"


def table_group(table_id):
    return f"table.{table_id}"


# Pushes: called by the services, inside their transaction -------------------------------------


def push_cart(tab_id):
    publish_on_commit(tab_group(tab_id), kind="cart")
    transaction.on_commit(lambda: forget_tab_parts(tab_id))


def push_tab(tab_id):
    publish_on_commit(tab_group(tab_id), kind="tab")
    transaction.on_commit(lambda: forget_tab_parts(tab_id))


def push_tab_opened(table_id, tab_id):
    """A visit began at the table: the phones already looking at its page join it."""
    publish_on_commit(table_group(table_id), kind="opened", tab=tab_id)


def push_visit_ended(tab_id):
    """The tab's visit ended (closed, or its table's code replaced): its phones are told."""
    publish_on_commit(tab_group(tab_id), kind="ended")
    transaction.on_commit(lambda: forget_tab_parts(tab_id))


def push_new_order(order_id, tab_id):
    publish_on_commit(KITCHEN, kind="ticket", order=order_id, added=True)
    push_tab(tab_id)


def push_order_changed(order_id, tab_id, *, pass_changed=True):
    """A dish moved: the boards, the phones at its table, and the pass when a dish became
    ready or stopped being ready."""
    publish_on_commit(KITCHEN, kind="ticket", order=order_id, added=False)
    if pass_changed:
        publish_on_commit(PASS, kind="pass")
    push_tab(tab_id)


def push_ticket_changed(order_id):
    """Only the kitchen boards see it (a voided dish cleared off its ticket)."""
    publish_on_commit(KITCHEN, kind="ticket", order=order_id, added=False)


def push_dish(dish_id):
    """A dish became available or not (after commit): every open menu, the carts holding it."""
    carts = selectors.tabs_with_dish_in_cart(dish_id)
    publish([(MENU, {"kind": "dish", "dish": dish_id})])
    publish([(tab_group(tab_id), {"kind": "cart"}) for tab_id in carts])
    for tab_id in carts:
        forget_tab_parts(tab_id)


# Rendering: in the process that holds the socket ----------------------------------------------


def render_cart(tab_id):
    context = selectors.cart_view(tab_id)
    return render_to_string("orders/diner.html#cart-bar", context) + render_to_string(
        "orders/diner.html#cart", context
    )


def render_tab(tab_id):
    return render_to_string("orders/diner.html#tab", selectors.tab_view(tab_id))


def render_visit(tab_id):
    """Which visit the page's POSTs name (a page opened before its table was)."""
    return render_to_string("orders/diner.html#tab-id", {"tab_id": tab_id, "oob": True})


def render_tab_event(tab_id, event):
    return render_cart(tab_id) if event["kind"] == "cart" else render_tab(tab_id)


def render_visit_ended():
    return render_to_string("orders/diner.html#visit-ended", {"oob": True})


# The diner page's parts ----------------------------------------------------------------------

# The tab's rendered parts per language (its rounds and bill, the cart bar, the cart), kept in this process per
# tab: reading the cart and the bill was 6 of an open tab's 7 queries and most of its page. Every
# change they show publishes an event on the tab's stream (orders.realtime: cart, tab, a dish sold
# out in a cart; a payment reaches the tab through record_payment), which moves its sequence
# number, so the number read *before* the rows is the key: a part kept under it was rendered from
# rows at least that new. The number moves only once the change's answer has gone out
# (HoldEventsUntilAnswered), so the tab's version and cart version (in the page's one query) are
# in the key too, and a change forgets this process's part at commit (forget_tab_parts): the
# phone that made it sees it on its next page. The menu's version (a dish sold out, a price) and
# the language complete the key. Nothing in the parts depends on the time of day (催菜 shows
# while a dish is being made; the interval between two is checked when it is posted), and a part
# lives at most TAB_PARTS_SECONDS, in case Redis lost its numbers and counts again from 0.
TAB_PARTS_SECONDS = 60.0
TAB_PARTS_KEPT = 512
_tab_parts: OrderedDict[tuple[int, str], tuple[tuple, float, dict[str, str]]] = OrderedDict()
_tab_parts_lock = threading.Lock()


def forget_tab_parts(tab_id: int) -> None:
    with _tab_parts_lock:
        for language, _name in settings.LANGUAGES:
            _tab_parts.pop((tab_id, language), None)


def render_tab_parts(views: dict) -> dict[str, str]:
    return {
        "tab_html": render_to_string("orders/diner.html#tab", views),
        "cart_bar_html": render_to_string("orders/diner.html#cart-bar", views),
        "cart_html": render_to_string("orders/diner.html#cart", views),
    }


def tab_parts(tab: Tab, version: str, language: str) -> dict[str, str]:
    """The tab's parts in this language, rendered once per change (see above)."""
    stream = tab_group(tab.pk)
    try:
        seq = current_seqs([stream])[stream]
    except Exception:  # Redis away: the phone still gets its page, rendered fresh, not kept
        logger.warning("tab %s: no stream number (Redis away); its parts rendered fresh", tab.pk)
        return render_tab_parts({**selectors.cart_view(tab), **selectors.tab_view(tab)})
    key = (seq, tab.version, tab.cart_version, version)
    now, slot = time.monotonic(), (tab.pk, language)
    with _tab_parts_lock:
        kept = _tab_parts.get(slot)
        if kept is not None and kept[0] == key and now - kept[1] < TAB_PARTS_SECONDS:
            _tab_parts.move_to_end(slot)
            return kept[2]
    parts = render_tab_parts({**selectors.cart_view(tab), **selectors.tab_view(tab)})
    with _tab_parts_lock:
        _tab_parts[slot] = (key, now, parts)
        _tab_parts.move_to_end(slot)
        while len(_tab_parts) > TAB_PARTS_KEPT:
            _tab_parts.popitem(last=False)
    return parts


@lru_cache(maxsize=8)
def no_tab_parts(language: str) -> dict[str, str]:
    """The parts at a table nobody has opened: the same for every such table."""
    with translation.override(language):
        return render_tab_parts(selectors.no_tab_view())


PIECE_BYTES = 256 * 1024  # a WebSocket message carries at most 1 MiB (daphne, browsers)


def render_board(station=None):
    return render_to_string("orders/kitchen.html#board", selectors.board_view(station))


def render_board_pieces(station=None):
    """The board as a socket's first state: one message, or, when its tickets come to more than
    PIECE_BYTES, the board without tickets and then its tickets in order, in messages of at most
    about PIECE_BYTES, so that no tab however large stops a kitchen screen from connecting."""
    view = selectors.board_view(station)
    html = render_to_string("orders/kitchen.html#board", view)
    if len(html.encode()) <= PIECE_BYTES:
        return [html]
    pieces: list[str] = [render_to_string("orders/kitchen.html#board", {**view, "orders": []})]
    chunk: list[str] = []
    size = 0
    for order in view["orders"]:
        ticket = render_to_string("orders/kitchen.html#ticket-added", {**view, "order": order})
        if chunk and size + len(ticket.encode()) > PIECE_BYTES:
            pieces.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(ticket)
        size += len(ticket.encode())
    return [*pieces, "".join(chunk)] if chunk else pieces


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


def render_kitchen_event(event, station=None):
    """A ticket event on one board: the ticket if it has dishes of this board, and the counts."""
    order_id = event["order"]
    html = ""
    if station is None or station in selectors.order_stations(order_id):
        html = render_ticket(order_id, selectors.ticket(order_id, station), station, event["added"])
    stats = selectors.kitchen_stats(selectors.stations())
    return html + render_to_string("orders/kitchen.html#stats", {"stats": stats})


def render_pass():
    return render_to_string("orders/pass.html#pass-board", {"tables": selectors.pass_tables()})


def render_dish(dish_id):
    dish = dish_card(dish_id)
    return render_to_string("orders/diner.html#dish", {"dish": dish, "oob": True}) if dish else ""


def render_menu():
    """Every dish card (a phone that missed a sold-out event gets them all): 5 queries."""
    return "".join(
        render_to_string("orders/diner.html#dish", {"dish": dish, "oob": True})
        for category in menu_categories()
        for dish in category.dishes.all()
    )
