"""A migration operation that makes PostgreSQL itself refuse UPDATE and DELETE on a table.

Used for records that must never change once written (audit entries, scores). Other databases
rely on the models' own refusal.

Encrypted columns of such records (`rewritable`) may be rewritten in place only by a key
rotation (`manage.py rotate_field_keys`), which marks its transactions with `rekeying()`: an
UPDATE passes when that mark is set and nothing but those columns changes.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

REKEY_SETTING = "sijill.rekey"


def _function_sql(name: str, message: str, rewritable: tuple[str, ...], *,
                  rekey_only: bool) -> str:
    if rewritable:
        minus = " - ".join(f"'{c}'" for c in rewritable)
        marked = f"current_setting('{REKEY_SETTING}', true) = 'on' AND " if rekey_only else ""
        body = f"""
    IF TG_OP = 'UPDATE' AND {marked}(to_jsonb(NEW) - {minus}) = (to_jsonb(OLD) - {minus}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{message}', TG_OP;"""
    else:
        body = f"""
    RAISE EXCEPTION '{message}', TG_OP;"""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN{body}
END;
$$ LANGUAGE plpgsql;
"""


def _on_postgresql(sql: str) -> Any:
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


def refuse_update_and_delete(*, table: str, name: str, message: str,
                             rewritable: tuple[str, ...] = ()) -> migrations.RunPython:
    """A RunPython installing trigger `name` on `table` that raises `message` (% = operation).

    `rewritable` columns may still be rewritten in place by any UPDATE that changes nothing
    else (the first behaviour, kept for the migrations that used it; `allow_rekeying` then
    narrows it to key rotations)."""
    forward_sql = _function_sql(name, message, rewritable, rekey_only=False) + f"""
CREATE TRIGGER {name}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    backward_sql = f"""
DROP TRIGGER IF EXISTS {name} ON {table};
DROP FUNCTION IF EXISTS {name}();
"""
    return migrations.RunPython(_on_postgresql(forward_sql), _on_postgresql(backward_sql))


def allow_rekeying(*, name: str, message: str, rewritable: tuple[str, ...],
                   before: tuple[str, ...] = ()) -> migrations.RunPython:
    """A RunPython replacing the function of the existing trigger `name`: only a key rotation
    (`rekeying`) may rewrite `rewritable`, and nothing else. Reversed: the function as
    `refuse_update_and_delete` wrote it with `before` rewritable."""
    return migrations.RunPython(
        _on_postgresql(_function_sql(name, message, rewritable, rekey_only=True)),
        _on_postgresql(_function_sql(name, message, before, rekey_only=False)))


def rekeying(connection: Any) -> None:
    """Mark the current transaction as a key rotation (PostgreSQL): the immutability triggers
    then let it rewrite their encrypted columns, and nothing else."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [REKEY_SETTING])
