"""A migration operation that makes PostgreSQL itself refuse UPDATE and DELETE on a table.

Used for records that must never change once written (audit entries, scores). Other databases
rely on the models' own refusal.
"""

from __future__ import annotations

from django.db import migrations


def refuse_update_and_delete(*, table: str, name: str, message: str,
                             rewritable: tuple[str, ...] = ()) -> migrations.RunPython:
    """A RunPython installing trigger `name` on `table` that raises `message` (% = operation).

    `rewritable` columns may still be rewritten in place (ciphertext re-encrypted under a new
    key by `rotate_field_keys`): an UPDATE that changes nothing else passes."""
    if rewritable:
        minus = " - ".join(f"'{c}'" for c in rewritable)
        body = f"""
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - {minus}) = (to_jsonb(OLD) - {minus}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{message}', TG_OP;"""
    else:
        body = f"""
    RAISE EXCEPTION '{message}', TG_OP;"""
    forward_sql = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN{body}
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {name}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    backward_sql = f"""
DROP TRIGGER IF EXISTS {name} ON {table};
DROP FUNCTION IF EXISTS {name}();
"""

    def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(forward_sql, params=None)

    def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(backward_sql, params=None)

    return migrations.RunPython(forward, backward)
