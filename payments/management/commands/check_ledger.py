"""`python manage.py check_ledger`: is the ledger as it was written?

Walks the hash chain (payments/ledger.py) and checks the books against the payments: every
paid payment's entries add up to what it took less what it refunded, and a payment that took
nothing has none. Prints the chain's last hash: written down each day (or sent elsewhere), it
also proves later that nobody rewrote the whole chain. Exits non-zero naming each problem.
"""

from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum

from payments import ledger
from payments.models import LedgerEntry, Payment


class Command(BaseCommand):
    help = "Check that no ledger entry was changed, removed or inserted, and that the books match the payments."

    def handle(self, *args, **options):
        problems = [
            f"ledger entry {pk} {what}"
            for pk, what in ledger.chain_problems(LedgerEntry.objects.order_by("id").iterator())
        ]
        booked = dict(
            LedgerEntry.objects.values("payment")
            .annotate(total=Sum("amount"))
            .values_list("payment", "total")
        )
        for payment in Payment.objects.all().iterator():
            taken = payment.amount - payment.refunded
            expected = taken if payment.status == Payment.Status.SUCCEEDED else Decimal(0)
            if booked.get(payment.pk, Decimal(0)) != expected:
                problems.append(
                    f"payment {payment.pk} ({payment.get_status_display()}, {expected}) has "
                    f"{booked.get(payment.pk, Decimal(0))} in the ledger"
                )
        if problems:
            raise CommandError("The ledger does not check out:\n  " + "\n  ".join(problems))
        last = LedgerEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        count = LedgerEntry.objects.count()
        self.stdout.write(
            f"The ledger checks out: {count} entries, last hash {last or ledger.GENESIS}."
        )
