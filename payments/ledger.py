"""The ledger's hash chain: each entry carries the SHA-256 of its own content and of the entry
before it, so that an entry changed, removed or slipped in afterwards (by SQL, a restore, a
hand in the database) breaks the chain at that point and `manage.py check_ledger` names it.

On PostgreSQL a trigger (migration 0003) also refuses every UPDATE and DELETE of a ledger row;
the chain is what still catches someone who switched the trigger off first.
"""

import hashlib
from datetime import UTC
from decimal import Decimal

from django.db import connection
from django.dispatch import Signal

GENESIS = "0" * 64
# Any fixed number: the key of the PostgreSQL advisory lock that orders appends to the chain.
APPEND_LOCK = 0x4C45444745  # "LEDGE"

# Sent with new entries (`entries`) in their transaction just BEFORE the append lock is taken:
# what a receiver reads or locks for them here (the books: the shift's row and the business day)
# is not done while every payment of the restaurant queues behind the append lock. Row locks
# taken here come before the append lock in the one lock order (payments/books/services.py).
appending = Signal()


def entry_digest(entry, previous_hash):
    """The hash of one entry: its fields in a fixed order and the previous entry's hash.

    Fields added later (a member, a top-up) count only when set, so entries written before
    them still verify."""
    fields = [
        previous_hash,
        entry.account,
        entry.kind,
        str(Decimal(entry.amount).quantize(Decimal("0.01"))),
        str(entry.tab_id),
        str(entry.payment_id),
        str(entry.refund_id or ""),
        str(entry.user_id or ""),
        entry.note,
        entry.created_at.astimezone(UTC).isoformat(),
    ]
    if entry.member_id is not None:
        fields.append(f"member={entry.member_id}")
    if entry.top_up_id is not None:
        fields.append(f"top_up={entry.top_up_id}")
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def lock_and_read_head() -> str | None:
    """Take the append lock (held until the transaction ends, so two payments at once never
    both link to the same last entry: a fork) and read the last entry's hash after it, in one
    round trip (migration 0016: the read must come after the lock is granted); GENESIS for an
    empty ledger. Taken after every row lock of the transaction (the ledger is written last),
    so it adds no lock-order cycle. None when the database is not PostgreSQL: SQLite's
    IMMEDIATE transactions serialise writers already, and the caller reads the hash itself."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT payments_ledger_lock_head(%s)", [APPEND_LOCK])
        head = cursor.fetchone()[0]
    return head or GENESIS


def chain_problems(entries):
    """Walk entries in id order; yield (entry id, what is wrong) wherever the chain breaks."""
    previous = GENESIS
    for entry in entries:
        if entry.previous_hash != previous:
            yield entry.pk, "does not follow the entry before it (one was removed or inserted)"
        if entry.hash != entry_digest(entry, entry.previous_hash):
            yield entry.pk, "was changed after it was written"
        previous = entry.hash
