"""Re-encryption under the current field key, in batches: what `manage.py rotate_field_keys`
runs (`reencrypt_everything`), so that an old key can be dropped without leaving anything
unreadable.

- `reencrypt`: the encrypted member columns (also run by the households migration that first
  encrypted them, when rows held plain codes);
- `reseal_documents`: the documents sealed whole (partner questions and answers; also run by
  the verification migration that first sealed them, when rows held clear JSON);
- `reseal_kept_codes`: the codes copied into verification records and scores.

Each batch is one transaction, marked as a key rotation (`core.immutable.rekeying`: the only
writer the immutability triggers let rewrite encrypted columns), and only rows not yet entirely
under the current key are rewritten, in id order: an interrupted run resumes where it stopped
when started again, and a finished run finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from sijill.core.immutable import rekeying
from sijill.security.fields import (
    CODES,
    KID,
    WIDTH,
    current_kid,
    decrypt_code,
    decrypt_codes,
    encrypt_code,
    encrypt_codes,
)

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


def _rewrite_in_batches(connection: Any, *, table: str, columns: tuple[str, ...], stale: str,
                        params: list[Any], fresh: Callable[[list[tuple[Any, ...]]],
                                                           list[list[str]]],
                        batch: int, progress: Callable[[int], None] | None) -> int:
    """The rows of `table` matching `stale` (SQL on `columns`, with `params`), rewritten with
    `fresh(rows)` (one list of new values per column), in id-ordered batches of one marked
    transaction each: resumable, and a finished run finds nothing. Returns the rows
    rewritten."""
    from django.db import transaction

    select = (f"SELECT id, {', '.join(columns)} FROM {table}"  # noqa: S608 (constants)
              f" WHERE id > %s AND ({stale}) ORDER BY id LIMIT %s")
    after, total = 0, 0
    while True:
        with transaction.atomic(using=connection.alias):
            rekeying(connection)
            with connection.cursor() as cursor:
                cursor.execute(select, [after, *params, batch])
                rows = cursor.fetchall()
            if not rows:
                return total
            ids = [r[0] for r in rows]
            _update_table(connection, table, columns, ids, fresh(rows))
        after, total = ids[-1], total + len(ids)
        if progress:
            progress(total)


def reencrypt(connection: Any, *, batch: int = 20_000,
              progress: Callable[[int], None] | None = None) -> int:
    """Bring every row under the current key; returns how many rows were rewritten."""
    def fresh(rows: list[tuple[Any, ...]]) -> list[list[str]]:
        return [encrypt_codes(c, _plain_or_decrypted(c, [r[i + 1] for r in rows])).to_list()
                for i, c in enumerate(COLUMNS)]

    return _rewrite_in_batches(
        connection, table=TABLE, columns=COLUMNS,
        stale=" OR ".join(f"substr({c}, 1, {KID}) <> %s OR length({c}) <> {WIDTH}"
                          for c in COLUMNS),
        params=[current_kid(c) for c in COLUMNS], fresh=fresh, batch=batch, progress=progress)


def _update(connection: Any, ids: list[int], fresh: list[list[str]]) -> None:
    _update_table(connection, TABLE, COLUMNS, ids, fresh)


def _update_table(connection: Any, table: str, columns: tuple[str, ...], ids: list[int],
                  fresh: list[list[str]]) -> None:
    sets = ", ".join(f"{c} = v.{c}" for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS m SET {sets} FROM (SELECT unnest(%s::bigint[]) AS id,"  # noqa: S608
                f" {', '.join(f'unnest(%s::text[]) AS {c}' for c in columns)}) AS v"
                " WHERE m.id = v.id", [ids, *fresh])
        else:
            assignments = ", ".join(f"{c} = %s" for c in columns)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
                               list(zip(*fresh, ids, strict=True)))


# --- documents and sealed codes kept by verification -----------------------------------------

#: Tables with whole documents sealed by `sijill.security.documents` (column key
#: "<table>.<column>").
DOCUMENTS = {"verification_evidence": ("question", "answer"),
             "core_idempotencyrecord": ("response_body",)}


def unseal_documents(connection: Any, *, table: str, columns: tuple[str, ...]) -> int:
    """Every sealed document of `table` back to clear JSON text (a migration reversed, before
    its columns become JSON again). Returns the rows rewritten."""
    import json

    from sijill.security.documents import is_sealed_document, open_document

    done = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}")  # noqa: S608
        for pk, *values in cursor.fetchall():
            clear = [json.dumps(open_document(f"{table}.{c}", v)) if is_sealed_document(v)
                     else v for c, v in zip(columns, values, strict=True)]
            sets = ", ".join(f"{c} = %s" for c in columns)
            cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s",  # noqa: S608
                           [*clear, pk])
            done += 1
    return done


def reseal_documents(connection: Any, *, table: str, columns: tuple[str, ...],
                     batch: int = 20_000, progress: Callable[[int], None] | None = None) -> int:
    """Bring every sealed document of `table` under the current key, sealing clear JSON
    written before the columns were encrypted; in id-ordered batches, one transaction each,
    resumable. Returns how many rows were rewritten."""
    import json

    from sijill.security.documents import is_sealed_document, open_document, seal_document

    keys = {c: f"{table}.{c}" for c in columns}

    def value(column: str, stored: Any) -> Any:
        if is_sealed_document(stored):
            return open_document(keys[column], stored)
        return json.loads(stored) if isinstance(stored, str) else stored

    def fresh(rows: list[tuple[Any, ...]]) -> list[list[str]]:
        return [[seal_document(keys[c], value(c, r[i + 1])) for r in rows]
                for i, c in enumerate(columns)]

    return _rewrite_in_batches(
        connection, table=table, columns=columns,
        stale=" OR ".join(f"substr({c}, 1, {KID}) <> %s" for c in columns),
        params=[current_kid(keys[c]) for c in columns], fresh=fresh, batch=batch,
        progress=progress)


def _stale_code(field: str, value: Any) -> bool:
    return (field in CODES and isinstance(value, str) and len(value) == WIDTH
            and value[:KID] != current_kid(field))


def _fresh_code(field: str, value: Any) -> Any:
    """A sealed code of `field` under the current key (anything else unchanged)."""
    if field in CODES and isinstance(value, str) and len(value) == WIDTH:
        return encrypt_code(field, decrypt_code(field, value))
    return value


def _pairs_stale(pairs: dict[str, Any]) -> bool:
    """{field: [value, source]}: a sealed value under an older key?"""
    return any(_stale_code(field, pair[0]) for field, pair in pairs.items())


def _pairs_fresh(pairs: dict[str, Any]) -> dict[str, Any]:
    return {field: [_fresh_code(field, pair[0]), *pair[1:]] for field, pair in pairs.items()}


def _members_stale(members: dict[str, Any] | None) -> bool:
    return any(_pairs_stale(pairs) for pairs in (members or {}).values())


def _members_fresh(members: dict[str, Any] | None) -> dict[str, Any]:
    return {idcs: _pairs_fresh(pairs) for idcs, pairs in (members or {}).items()}


def reseal_kept_codes(connection: Any, *, batch: int = 20_000) -> dict[str, int]:
    """Re-encrypt, under the current key, the sensitive codes copied inside JSON: a
    verification's verified values and a discrepancy's declared and verified values
    (sijill.verification.sealed), a score's verified inputs (scoring). Reads the candidate rows
    in id order (a rotation is rare) and rewrites only those holding a code under an older key,
    in batches of one transaction each (marked `rekeying`: scores are otherwise immutable).
    Returns the rows rewritten per table."""
    from django.db import transaction

    from sijill.scoring.models import Score
    from sijill.verification.models import Discrepancy, Verification

    def score_fresh(inputs: dict[str, Any]) -> dict[str, Any]:
        return {**inputs, "member_verified": _members_fresh(inputs.get("member_verified"))}

    plans: tuple[tuple[Any, Any, tuple[str, ...], Any, Any], ...] = (
        (Verification, Verification.objects.all(), ("values",),
         lambda r: _members_stale(r[1].get("members")),
         lambda r: {"values": {**r[1], "members": _members_fresh(r[1].get("members"))}}),
        (Discrepancy, Discrepancy.objects.filter(field__in=list(CODES)),
         ("field", "declared", "verified"),
         lambda r: _stale_code(r[1], r[2]) or _stale_code(r[1], r[3]),
         lambda r: {"declared": _fresh_code(r[1], r[2]), "verified": _fresh_code(r[1], r[3])}),
        (Score, Score.objects.all(), ("inputs",),
         lambda r: _members_stale(r[1].get("member_verified")),
         lambda r: {"inputs": score_fresh(r[1])}),
    )
    done: dict[str, int] = {}
    for model, qs, columns, is_stale, fresh in plans:
        rows_of = qs.using(connection.alias).order_by("pk")
        after, total = 0, 0
        while True:
            with transaction.atomic(using=connection.alias):
                rekeying(connection)
                # Read and rewrite under the rows' lock: a verification concluding meanwhile
                # (which rewrites its values) waits, and is not overwritten with what was read.
                rows = list(rows_of.filter(pk__gt=after).select_for_update()
                            .values_list("pk", *columns)[:batch])
                if not rows:
                    break
                updates = [(row[0], fresh(row)) for row in rows if is_stale(row)]
                if updates:
                    model.objects.using(connection.alias).bulk_update(
                        [model(pk=pk, **values) for pk, values in updates],
                        list(updates[0][1]), batch_size=1000)
                total += len(updates)
            after = rows[-1][0]
        done[model._meta.db_table] = total
    return done


def reencrypt_everything(connection: Any, *, batch: int = 20_000,
                         progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Every encrypted value under the current key: the member codes, the sealed documents,
    the codes copied into verification and score records. Returns the rows rewritten per
    table."""
    done = {TABLE: reencrypt(connection, batch=batch,
                             progress=progress and (lambda n: progress(TABLE, n)))}
    for table, columns in DOCUMENTS.items():
        done[table] = reseal_documents(
            connection, table=table, columns=columns, batch=batch,
            progress=progress and (lambda n, table=table: progress(table, n)))  # type: ignore[misc]
    done.update(reseal_kept_codes(connection, batch=batch))
    return done
