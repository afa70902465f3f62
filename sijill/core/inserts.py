"""New rows of one model in one INSERT ... RETURNING, its statement kept per process.

What `bulk_create` does for new rows (no signals, primary keys set from RETURNING), without its
per-call planning: for a registration's handful of rows Django spent 0.3 to 0.8 ms of Python per
call to send a statement PostgreSQL ran in a tenth of that. Values go through each field's own
preparation (`pre_save`, `get_db_prep_save`), so defaults, auto_now and encrypted fields are
written as the ORM writes them. Where the database cannot return inserted rows, or a field
needs a placeholder of its own, it is `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connections
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField

_AUTO = (AutoField, BigAutoField, SmallAutoField)
_sql: dict[tuple[str, type[Model], int], tuple[str, list[Any]]] = {}


def insert_rows(objs: Sequence[Model], *, using: str = "default") -> None:
    """Insert `objs` (new instances of one model, primary keys unset) in one statement."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[using]
    kept = _sql.get((using, model, len(objs)))
    if kept is None:
        opts = model._meta
        fields = [f for f in opts.concrete_fields
                  if not (f.primary_key and isinstance(f, _AUTO)) and not f.generated]
        if (not connection.features.can_return_rows_from_bulk_insert
                or any(hasattr(f, "get_placeholder") or f.has_db_default() for f in fields)
                or not isinstance(opts.pk, _AUTO)):
            model._default_manager.db_manager(using).bulk_create(objs)
            return
        qn = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        # Identifiers are the model's own, quoted; every value is a parameter.
        # A concrete field's column is never None.
        sql = (f"INSERT INTO {qn(opts.db_table)} "  # noqa: S608
               f"({', '.join(qn(cast(str, f.column)) for f in fields)}) "
               f"VALUES {', '.join([row] * len(objs))} RETURNING {qn(cast(str, opts.pk.column))}")
        kept = _sql[(using, model, len(objs))] = (sql, fields)
    sql, fields = kept
    params: list[Any] = []
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert_rows: new instances of one model, primary keys unset")
        params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection=connection)
                      for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchall()
    for obj, (pk,) in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
