"""What printing does when the ordering side tells it something (after commit).

Each receiver only queues rows (no printer is reached in a request) and never lets a failure
reach the sender: an order is taken whether or not its ticket could be queued.
"""

import logging

from django.dispatch import receiver

from orders.signals import line_fired, line_urged, line_voided, order_submitted, orders_released

from . import services
from .models import PrintJob

logger = logging.getLogger("printing")


def _quietly(function, **kwargs):
    try:
        function(**kwargs)
    except Exception:
        logger.exception("printing: could not queue %s %s", function.__name__, kwargs)


@receiver(order_submitted)
def print_new_order(sender, order_id, **kwargs):
    _quietly(services.order_tickets_queue, order_id=order_id)


@receiver(orders_released)
def print_paid_orders(sender, order_ids, **kwargs):
    for order_id in order_ids:
        _quietly(services.order_tickets_queue, order_id=order_id)


@receiver(line_urged)
def print_urge(sender, line_id, **kwargs):
    _quietly(services.line_slip_queue, line_id=line_id, kind=PrintJob.Kind.URGE)


@receiver(line_fired)
def print_fire(sender, line_id, **kwargs):
    _quietly(services.line_slip_queue, line_id=line_id, kind=PrintJob.Kind.FIRE)


@receiver(line_voided)
def print_void(sender, line_id, old, reason, **kwargs):
    """退菜 of a dish the kitchen has not served yet: the station must stop or put it aside."""
    if old != "served":
        _quietly(
            services.line_slip_queue,
            line_id=line_id,
            kind=PrintJob.Kind.VOID,
            old=str(old),
            reason=reason,
        )
