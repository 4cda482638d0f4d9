"""Pushes to screens, always after the transaction commits, as HTML fragments swapped by id.

Groups: `kitchen` (every kitchen screen) and `tab.<id>` (the phones at one table's tab). The
fragments are rendered once per event from the same template partials the pages use.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from . import selectors

logger = logging.getLogger(__name__)

KITCHEN = "kitchen"


def tab_group(tab_id):
    return f"tab.{tab_id}"


def lang_group(group, language):
    """Each screen joins its group in its page's language; a push is rendered once per language."""
    return f"{group}.{language}"


def send_html(group, html):
    async_to_sync(get_channel_layer().group_send)(group, {"type": "html.push", "html": html})


def after_commit(group, render):
    """Render and send once the surrounding transaction has committed (at once outside one)."""

    def send():
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                html = render()
            if html:
                send_html(lang_group(group, language), html)

    transaction.on_commit(send, robust=True)


# What each event sends ------------------------------------------------------------------------


def render_cart(tab_id):
    context = selectors.cart_view(tab_id)
    return render_to_string("orders/diner.html#cart-bar", context) + render_to_string(
        "orders/diner.html#cart", context
    )


def render_tab(tab_id):
    return render_to_string("orders/diner.html#tab", selectors.tab_view(tab_id))


def render_board():
    return render_to_string("orders/kitchen.html#board", {"orders": selectors.open_tickets()})


def render_ticket_added(order_id):
    order = selectors.ticket(order_id)
    if order is None:
        return ""
    return render_to_string("orders/kitchen.html#ticket-added", {"order": order})


def render_ticket_changed(order_id):
    order = selectors.ticket(order_id)
    if order is None:
        return render_to_string("orders/kitchen.html#ticket-gone", {"order_id": order_id})
    return render_to_string("orders/kitchen.html#ticket", {"order": order, "oob": True})


def push_cart(tab_id):
    after_commit(tab_group(tab_id), lambda: render_cart(tab_id))


def push_tab(tab_id):
    after_commit(tab_group(tab_id), lambda: render_tab(tab_id))


def push_new_order(order_id, tab_id):
    after_commit(KITCHEN, lambda: render_ticket_added(order_id))
    after_commit(tab_group(tab_id), lambda: render_tab(tab_id))


def push_order_changed(order_id, tab_id):
    after_commit(KITCHEN, lambda: render_ticket_changed(order_id))
    after_commit(tab_group(tab_id), lambda: render_tab(tab_id))
