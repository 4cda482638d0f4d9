"""What the payment side does when the ordering side tells it something (after commit)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.models import Order, Tab
from orders.signals import tab_status_changed, tab_total_changed

from . import realtime, services


@receiver(tab_total_changed)
def refund_when_total_goes_down(sender, tab_id, **kwargs):
    """退菜 or a discount on a paid tab: the difference goes back, newest payment first."""
    services.refund_overpayment(tab_id=tab_id)


@receiver(tab_status_changed)
def show_tab_status(sender, tab_id, **kwargs):
    realtime.push_tab_changed(tab_id)


# The ordering side sends no signal when a tab opens or an order arrives; the floor plan needs
# both. These two narrow receivers only queue a push for after the commit (never inside it).
@receiver(post_save, sender=Tab)
def show_new_tab(sender, instance, created, **kwargs):
    if created:
        realtime.push_table(instance.table_id)


@receiver(post_save, sender=Order)
def show_new_order(sender, instance, created, **kwargs):
    if created:
        realtime.push_tab_changed(instance.tab_id)
