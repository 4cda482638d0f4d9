"""What the ordering side does when the menu tells it something (after commit), and what its
own changes write into the audit trail."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from menu.signals import dish_availability_changed
from restaurant.lib.audit import AuditEntry, audit_record
from restaurant.lib.money import money

from . import realtime, signals
from .models import Order, OrderLine, Tab, TabEvent


@receiver(dish_availability_changed)
def dish_availability_pushed(sender, dish_id, **kwargs):
    realtime.push_dish(dish_id)


# The audit trail (restaurant/lib/audit.py): voids and discounts, written in the transaction of
# the TabEvent that records them, so an entry exists exactly when the change committed.
AUDITED = {
    "line.voided": AuditEntry.Kind.VOID,
    "line.discount": AuditEntry.Kind.DISCOUNT,
    "tab.discount": AuditEntry.Kind.DISCOUNT,
}


@receiver(post_save, sender=TabEvent)
def audited(sender, instance, created, raw=False, **kwargs):
    kind = AUDITED.get(instance.kind)
    if not created or raw or kind is None:
        return
    tab = Tab.objects.select_related("table").get(pk=instance.tab_id)
    line = OrderLine.objects.get(pk=instance.line_id) if instance.line_id else None
    if line is None:  # a discount on the whole bill
        amount, reason = tab.discount, tab.discount_reason
    elif instance.kind == "line.voided":
        amount, reason = line.unit_price * line.quantity - line.discount, instance.reason
    else:
        amount, reason = line.discount, line.discount_reason
    audit_record(
        kind=kind,
        user=instance.user,
        approved_by=instance.approved_by,
        table=tab.table.code,
        subject=f"{line.quantity} × {line.name}" if line else "",  # none: the whole bill
        amount=money(amount),
        reason=reason,
        detail={"tab": tab.pk, "line": instance.line_id, "event": instance.pk},
    )


# What a tab's trail records that no figure of the bill shows: a dish moving through the kitchen
# (only a void changes what is sold), a diner hurrying a dish, a voided dish cleared off the
# boards, the bill asked for, a pay-first round released to the kitchen, a new QR code, a
# refusal. Any other kind (new ones included) tells the reports that the bill changed.
NOT_IN_FIGURES = {
    "line.status",
    "line.urged",
    "line.void_cleared",
    "bill.requested",
    "order.released",
    "table.token_rotated",
    "refused",  # an attempt refused (orders/controls.py): it changed nothing
}


@receiver(post_save, sender=TabEvent)
def bill_changed_told(sender, instance, created, raw=False, **kwargs):
    """In the transaction of the change: the reports' roll-up must hear of it before commit."""
    if not created or raw or instance.kind in NOT_IN_FIGURES:
        return
    ordered = Order.objects.filter(tab_id=instance.tab_id).values_list("created_at", flat=True)
    signals.bill_changed.send(
        sender=None, tab_id=instance.tab_id, moments=[instance.created_at, *ordered]
    )
