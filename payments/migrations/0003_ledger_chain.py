"""Chain the ledger by hash (payments/ledger.py): existing entries are linked in id order."""

from django.db import migrations, models

from payments.ledger import GENESIS, entry_digest


def link_existing(apps, schema_editor):
    LedgerEntry = apps.get_model("payments", "LedgerEntry")
    previous = GENESIS
    for entry in LedgerEntry.objects.order_by("id"):
        digest = entry_digest(entry, previous)
        LedgerEntry.objects.filter(pk=entry.pk).update(previous_hash=previous, hash=digest)
        previous = digest


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_payment_closing_claim")]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="previous_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(link_existing, migrations.RunPython.noop),
    ]
