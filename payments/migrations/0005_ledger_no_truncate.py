"""TRUNCATE fires no row trigger, so 0004's guard let it empty the ledger: a statement trigger
refuses it too, with the same function (its message names the operation). Nothing on SQLite.

Django's `manage.py flush` truncates every table, so it is refused on a PostgreSQL database
with a ledger, which is the point; the test suite's flush runs with triggers off
(tests/conftest.py). The owner can still drop the trigger: see README, "The ledger in the
database"."""

from django.db import migrations

FORBID = """
CREATE TRIGGER payments_ledgerentry_no_truncate
    BEFORE TRUNCATE ON payments_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION payments_ledger_append_only();
"""
ALLOW = "DROP TRIGGER IF EXISTS payments_ledgerentry_no_truncate ON payments_ledgerentry;"


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payments", "0004_ledger_append_only")]

    operations = [migrations.RunPython(on_postgresql(FORBID), on_postgresql(ALLOW))]
