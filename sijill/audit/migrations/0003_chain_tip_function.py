"""On PostgreSQL, one round trip to lock the chain and read its tip.

`audit_chain_tip(key)` takes the transaction-scoped advisory lock that serialises appends, then
reads the last entry. Inside a VOLATILE PL/pgSQL function each statement takes a fresh snapshot
(READ COMMITTED), so the read sees the entry committed by the previous lock holder: the same
guarantee as two separate statements, one round trip fewer.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_chain_tip(lock_key bigint)
RETURNS TABLE (tip_seq bigint, tip_hash varchar) AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY SELECT e.seq, e.hash FROM audit_auditentry e ORDER BY e.seq DESC LIMIT 1;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
BACKWARD = "DROP FUNCTION IF EXISTS audit_chain_tip(bigint);"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [migrations.RunPython(forward, backward)]
