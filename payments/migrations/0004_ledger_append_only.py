"""The chain's links are unique (it cannot fork), and on PostgreSQL the database itself refuses
UPDATE and DELETE of ledger rows, whoever asks (the ORM, raw SQL, a console). Nothing on SQLite,
the embedded default, which has no such guard; the hash chain catches changes there."""

from django.db import migrations, models

FORBID = """
CREATE FUNCTION payments_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % refused; write a correcting entry', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER payments_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON payments_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION payments_ledger_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS payments_ledgerentry_append_only ON payments_ledgerentry;
DROP FUNCTION IF EXISTS payments_ledger_append_only();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payments", "0003_ledger_chain")]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="previous_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.RunPython(on_postgresql(FORBID), on_postgresql(ALLOW)),
    ]
