"""Idempotent writes: a retried request with the same Idempotency-Key applies once.

The key is claimed first, in the same transaction as the work: a placeholder row is inserted
(`INSERT ... ON CONFLICT DO NOTHING`), the view runs, and its answer is written into that row
before the commit. Two concurrent requests with one key: the second's claim waits on the unique
index until the first commits, then replays its answer (or, if the first rolled back, claims the
key and does the work itself). A key reused for a different request is refused. Failed requests
roll their claim back and store nothing, so a retry with the same key redoes them.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any, cast

from django.db import transaction
from django.db.models import Field
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Status
from pydantic import BaseModel

from sijill.core.errors import Conflict, ValidationFailed
from sijill.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
#: The status of a claimed key whose answer is not written yet (never seen outside the claiming
#: transaction: the answer is written before it commits).
PENDING = 0


def _body(result: Any) -> tuple[int, Any]:
    status, obj = ((result.status_code, result.value) if isinstance(result, Status)
                   else (200, result))
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    elif isinstance(obj, list):
        obj = [o.model_dump(mode="json") if isinstance(o, BaseModel) else o for o in obj]
    return status, obj


_sql: dict[str, tuple[str, str]] = {}


def _statements(connection: Any) -> tuple[str, str]:
    """The claim (an INSERT that does nothing when the key is taken) and the answer's UPDATE,
    built once per database vendor."""
    kept = _sql.get(connection.vendor)
    if kept is None:
        qn = connection.ops.quote_name
        opts = IdempotencyRecord._meta
        # Every name below is a concrete field of the model (never a relation's reverse side).
        table, col = qn(opts.db_table), (lambda name: qn(cast(Field, opts.get_field(name)).column))
        names = ("actor_label", "key", "request_hash", "status_code", "response_body",
                 "created_at")
        # Identifiers are the model's own, quoted; every value is a parameter.
        claim = (f"INSERT INTO {table} ({', '.join(col(n) for n in names)}) "  # noqa: S608
                 f"VALUES ({', '.join(['%s'] * len(names))}) "
                 f"ON CONFLICT ({col('actor_label')}, {col('key')}) DO NOTHING")
        answer = (f"UPDATE {table} SET {col('status_code')} = %s, "  # noqa: S608
                  f"{col('response_body')} = %s "
                  f"WHERE {col('actor_label')} = %s AND {col('key')} = %s")
        kept = _sql[connection.vendor] = (claim, answer)
    return kept


def _claim(actor_label: str, key: str, digest: str) -> bool:
    """Insert the key's placeholder row; False when the key is already recorded.

    A concurrent transaction holding the same key (its row inserted, not yet committed) makes
    this wait on the unique index: once it commits, the key is taken (False); once it rolls
    back, the insert goes ahead (True)."""
    connection = transaction.get_connection()
    claim, _answer = _statements(connection)
    record = IdempotencyRecord(actor_label=actor_label, key=key, request_hash=digest,
                               status_code=PENDING, response_body={})
    params = [f.get_db_prep_save(f.pre_save(record, True), connection=connection)
              for f in (cast(Field, IdempotencyRecord._meta.get_field(n)) for n in (
                  "actor_label", "key", "request_hash", "status_code", "response_body",
                  "created_at"))]
    with connection.cursor() as cursor:
        cursor.execute(claim, params)
        return cursor.rowcount == 1


def _store(actor_label: str, key: str, status: int, body: Any) -> None:
    """Write the answer into the claimed row (same transaction as the work)."""
    connection = transaction.get_connection()
    _claim_sql, answer = _statements(connection)
    field = IdempotencyRecord._meta.get_field("response_body")
    with connection.cursor() as cursor:
        cursor.execute(answer, [status, field.get_db_prep_save(body, connection=connection),
                                actor_label, key])


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if not key:
            return view(request, *args, **kwargs)
        if len(key) > 200:
            raise ValidationFailed.single(HEADER, "too_long", _("The Idempotency-Key is too long."))
        actor_label = request.auth.label  # type: ignore[attr-defined]
        assert request.method is not None  # set on every request a view receives
        digest = hashlib.sha256(
            request.method.encode() + b" " + request.path.encode() + b"\n" + request.body
        ).hexdigest()
        with transaction.atomic():
            if not _claim(actor_label, key, digest):
                # Answered before, or by a concurrent request we waited for: replay its answer.
                record = IdempotencyRecord.objects.get(actor_label=actor_label, key=key)
                if record.request_hash != digest:
                    raise Conflict(
                        _("This Idempotency-Key was already used for another request."),
                        extra={"code": "idempotency_key_reused"})
                return Status(record.status_code, record.response_body)
            result = view(request, *args, **kwargs)
            status, body = _body(result)
            _store(actor_label, key, status, body)
        return result

    wrapper.idempotent = True  # type: ignore[attr-defined]  # OpenAPI states the header
    # Resolve string annotations (`from __future__ import annotations`) against the view's own
    # module, so ninja sees the real schema types and not names it cannot resolve.
    wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return wrapper


def records_purge(*, now: Any = None, batch: int = 10_000) -> int:
    """Delete the kept answers older than IDEMPOTENCY_DAYS (SIJILL setting), in batches; a
    retry with such a key is then a new request. Returns how many were deleted."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    cutoff = (now or timezone.now()) - timedelta(days=settings.SIJILL["IDEMPOTENCY_DAYS"])
    total = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff)
                   .values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        total += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
