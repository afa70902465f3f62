"""Re-encryption of the encrypted member columns under the current key, in batches.

Used by `manage.py rotate_field_keys` and by the households migration that first encrypted the
columns (rows then hold plain codes). Each batch is one transaction and only rows not yet
entirely under the current key are selected, in id order: an interrupted run resumes where it
stopped when started again, and a finished run finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from sijill.security.fields import CODES, KID, WIDTH, current_kid, decrypt_codes, encrypt_codes

TABLE = "households_memberdeclaration"
COLUMNS = ("disability", "health_coverage")


def _plain_or_decrypted(column: str, values: list[str]) -> pl.Series:
    series = pl.Series(column, values, pl.Utf8)
    plain = series.is_in(list(CODES[column]))
    if plain.all():
        return series
    out = series.to_list()
    stored = series.filter(~plain)
    for i, value in zip([i for i, p in enumerate(plain.to_list()) if not p],
                        decrypt_codes(column, stored).to_list(), strict=True):
        out[i] = value
    return pl.Series(column, out, pl.Utf8)


def reencrypt(connection: Any, *, batch: int = 20_000,
              progress: Callable[[int], None] | None = None) -> int:
    """Bring every row under the current key; returns how many rows were rewritten."""
    from django.db import transaction

    kids = [current_kid(c) for c in COLUMNS]
    stale = " OR ".join(f"substr({c}, 1, {KID}) <> %s OR length({c}) <> {WIDTH}"
                        for c in COLUMNS)
    select = (f"SELECT id, {', '.join(COLUMNS)} FROM {TABLE}"  # noqa: S608 (constants)
              f" WHERE id > %s AND ({stale}) ORDER BY id LIMIT %s")
    after, total = 0, 0
    while True:
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute(select, [after, *kids, batch])
                rows = cursor.fetchall()
            if not rows:
                return total
            ids = [r[0] for r in rows]
            fresh = [encrypt_codes(c, _plain_or_decrypted(c, [r[i + 1] for r in rows])).to_list()
                     for i, c in enumerate(COLUMNS)]
            _update(connection, ids, fresh)
        after, total = ids[-1], total + len(ids)
        if progress:
            progress(total)


def _update(connection: Any, ids: list[int], fresh: list[list[str]]) -> None:
    sets = ", ".join(f"{c} = v.{c}" for c in COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {TABLE} AS m SET {sets} FROM (SELECT unnest(%s::bigint[]) AS id,"  # noqa: S608
                f" {', '.join(f'unnest(%s::text[]) AS {c}' for c in COLUMNS)}) AS v"
                " WHERE m.id = v.id", [ids, *fresh])
        else:
            assignments = ", ".join(f"{c} = %s" for c in COLUMNS)
            cursor.executemany(f"UPDATE {TABLE} SET {assignments} WHERE id = %s",  # noqa: S608
                               list(zip(*fresh, ids, strict=True)))
