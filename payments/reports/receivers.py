"""What marks a closed day's roll-up stale, in the transaction of the change
(payments/reports/rollup.py): a bill's change that orders records in its trail, and a payment or
refund that succeeds."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.signals import bill_changed

from ..models import PaymentEvent
from . import rollup

SUCCEEDED = "succeeded"  # Payment.Status.SUCCEEDED and Refund.Status.SUCCEEDED, as stored


@receiver(bill_changed)
def bill_days_changed(sender: Any, tab_id: int, moments: list[Any], **kwargs: Any) -> None:
    rollup.moments_changed(moments=moments, tab_id=tab_id)


@receiver(post_save, sender=PaymentEvent)
def money_day_changed(
    sender: Any, instance: PaymentEvent, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Money counts on the day it succeeded (`completed_at`, which the event's own time may
    follow across the cut-off by a moment)."""
    if not created or raw or instance.to_status != SUCCEEDED:
        return
    done = instance.refund if instance.refund is not None else instance.payment
    rollup.moments_changed(moments=[done.completed_at or instance.created_at])
