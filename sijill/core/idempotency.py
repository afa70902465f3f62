"""Idempotent writes: a retried request with the same Idempotency-Key applies once.

The key is claimed in the same transaction as the work. Two concurrent requests with one key:
the second waits on the unique index until the first commits, then replays its answer. A key
reused for a different request is refused. Failed requests store nothing, so a retry redoes them.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from sijill.core.errors import Conflict, ValidationFailed
from sijill.core.inserts import insert_rows
from sijill.core.models import IdempotencyRecord
from sijill.core.precompiled import precompiled

HEADER = "Idempotency-Key"


def _body(result: Any) -> tuple[int, Any]:
    status, obj = result if isinstance(result, tuple) else (200, result)
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    elif isinstance(obj, list):
        obj = [o.model_dump(mode="json") if isinstance(o, BaseModel) else o for o in obj]
    return status, obj


def _records(actor_label: str, key: str) -> QuerySet[IdempotencyRecord]:
    return IdempotencyRecord.objects.filter(actor_label=actor_label, key=key).only("pk")[:1]


def _recorded(actor_label: str, key: str) -> bool:
    """Whether this key already has an answer (asked on every write: precompiled)."""
    return bool(list(precompiled("core.idempotency", _records, [actor_label, key])))


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if not key:
            return view(request, *args, **kwargs)
        if len(key) > 200:
            raise ValidationFailed.single(HEADER, "too_long", _("The Idempotency-Key is too long."))
        actor_label = request.auth.label  # type: ignore[attr-defined]
        digest = hashlib.sha256(
            request.method.encode() + b" " + request.path.encode() + b"\n" + request.body
        ).hexdigest()

        def replay() -> Any:
            record = IdempotencyRecord.objects.get(actor_label=actor_label, key=key)
            if record.request_hash != digest:
                raise Conflict(_("This Idempotency-Key was already used for another request."),
                               extra={"code": "idempotency_key_reused"})
            return record.status_code, record.response_body

        if _recorded(actor_label, key):
            return replay()
        try:
            with transaction.atomic():
                result = view(request, *args, **kwargs)
                status, body = _body(result)
                insert_rows([IdempotencyRecord(actor_label=actor_label, key=key,
                                                request_hash=digest, status_code=status,
                                                response_body=body)])
        except IntegrityError:
            # A concurrent request with the same key committed first: its work stands, ours
            # rolled back whole. Answer as it did.
            if IdempotencyRecord.objects.filter(actor_label=actor_label, key=key).exists():
                return replay()
            raise
        return result

    # Resolve string annotations (`from __future__ import annotations`) against the view's own
    # module, so ninja sees the real schema types and not names it cannot resolve.
    wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return wrapper
