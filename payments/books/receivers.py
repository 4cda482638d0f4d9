"""Where money and bills belong, decided as they happen; and members' adjustments in the audit.

A new ledger entry is posted to its shift and business day in its own transaction (post_save of
the entry: every writer of the ledger, the payment side's and the members', is covered without
calling the books). A bill is given its business day when it is first settled or closed, which
orders tells after commit (`tab_status_changed`)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.settlement import TabStatus
from orders.signals import tab_status_changed
from restaurant.lib.audit import AuditEntry, audit_record

from .. import ledger
from ..members.models import Move
from ..models import LedgerEntry
from . import services

# A member's statement lines that are someone's decision, not a sale: the audit trail has them.
MEMBER_DECISIONS = {
    Move.Kind.ADJUST,
    Move.Kind.TOP_UP_REFUND,
    Move.Kind.FROZEN,
    Move.Kind.UNFROZEN,
    Move.Kind.ERASED,
}


@receiver(ledger.appending)
def place_entries(sender, entries, **kwargs):
    """Before the ledger's append lock: the shift (locked) and day the entries belong to."""
    services.entries_place(entries=entries)


@receiver(post_save, sender=LedgerEntry)
def post_entry(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        services.entry_post(entry=instance)


@receiver(tab_status_changed)
def give_bill_its_day(sender, tab_id, new, **kwargs):
    if new in (TabStatus.SETTLED, TabStatus.CLOSED):
        services.tab_day_set(tab_id=tab_id)


@receiver(post_save, sender=Move)
def audit_member_decision(sender, instance, created, raw=False, **kwargs):
    """A manager's balance or points adjustment, a top-up given back, a card frozen or thawed,
    personal data erased: in the audit trail, in the transaction of the statement line."""
    if created and not raw and instance.kind in MEMBER_DECISIONS:
        audit_record(
            kind=AuditEntry.Kind.MEMBER,
            user=instance.user,
            subject=instance.member.number,
            amount=instance.amount or None,
            reason=instance.reason,
            detail={"member": instance.member_id, "move": instance.kind,
                    "points": instance.points},
        )  # fmt: skip
