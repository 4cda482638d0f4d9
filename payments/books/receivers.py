"""Where money and bills belong, decided as they happen.

A new ledger entry is posted to its shift and business day in its own transaction (post_save of
the entry: every writer of the ledger, the payment side's and the members', is covered without
calling the books). A bill is given its business day when it is first settled or closed, which
orders tells after commit (`tab_status_changed`)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.settlement import TabStatus
from orders.signals import tab_status_changed

from ..models import LedgerEntry
from . import services


@receiver(post_save, sender=LedgerEntry)
def post_entry(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        services.entry_post(entry=instance)


@receiver(tab_status_changed)
def give_bill_its_day(sender, tab_id, new, **kwargs):
    if new in (TabStatus.SETTLED, TabStatus.CLOSED):
        services.tab_day_set(tab_id=tab_id)
