"""Printing's events (restaurant.lib.realtime): the stream `printers` carries "a printer started
or stopped failing" to the alert on the kitchen and cashier screens (printing/alert.html)."""

from django.template.loader import render_to_string

from restaurant.lib.realtime import publish_on_commit

from . import selectors

PRINTERS = "printers"


def push_printers():
    """A printer's state changed (after commit; at once outside a transaction, as in the
    worker)."""
    publish_on_commit(PRINTERS, kind="printers")


def render_alert():
    return render_to_string(
        "printing/alert.html#printer-alert", {"failing": selectors.failing_printers(), "oob": True}
    )
