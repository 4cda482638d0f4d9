"""The ledger's append lock and its last hash in one round trip (README, Performance).

A PL/pgSQL function, not one statement: in READ COMMITTED a statement reads with a snapshot
taken when it starts, before `pg_advisory_xact_lock` inside it waits for the previous holder
to commit, so `SELECT pg_advisory_xact_lock(k), (SELECT hash …)` would read the hash from
before that commit and fork the chain. Inside a VOLATILE function every statement takes a new
snapshot: the SELECT after the PERFORM sees what the previous holder committed
(tests/payments/test_ledger_races.py). Nothing on SQLite, whose writers are serialised anyway."""

from django.db import migrations

CREATE = """
CREATE FUNCTION payments_ledger_lock_head(lock_key bigint) RETURNS varchar
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT hash INTO head FROM payments_ledgerentry ORDER BY id DESC LIMIT 1;
    RETURN head;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS payments_ledger_lock_head(bigint);"


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payments", "0015_report_rollup_per_day")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
