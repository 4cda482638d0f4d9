"""What the payment side does when the ordering side tells it something (after commit)."""

from django.dispatch import receiver

from orders.settlement import TabStatus
from orders.signals import (
    limit_hit,
    order_submitted,
    tab_opened,
    tab_status_changed,
    tab_total_changed,
)

from . import realtime, services
from .members import services as members


@receiver(tab_total_changed)
def refund_when_total_goes_down(sender, tab_id, **kwargs):
    """退菜 or a discount on a paid tab: the difference goes back, newest payment first."""
    services.refund_overpayment(tab_id=tab_id)
    # Points spent on it that buy nothing now (every dish voided, or the bill below them) come
    # back; the coupons' own receiver gives theirs back.
    members.points_give_back(tab_id=tab_id)


@receiver(tab_status_changed)
def show_tab_status(sender, tab_id, new="", **kwargs):
    if new == TabStatus.CLOSED:  # a bill closed empty: its points come back
        members.points_give_back(tab_id=tab_id)
    realtime.push_tab_changed(tab_id)


@receiver(tab_opened)
def show_new_tab(sender, table_id, **kwargs):
    realtime.push_table(table_id)


@receiver(order_submitted)
def show_new_order(sender, tab_id, **kwargs):
    realtime.push_tab_changed(tab_id)


@receiver(limit_hit)
def flag_tab_at_limit(sender, tab_id, **kwargs):
    """The cashier's floor flags the tab at once (its refusal rolls back: no commit to wait for)."""
    realtime.push_tile_now(tab_id)
