"""Retries with exponential backoff, shared by the apps that deliver to the outside
(programs' webhooks, DCI deliveries, notifications, verification).

The task libraries do not retry: a failed attempt is recorded, and the next one is queued as a
deferred task (`enqueue_at`) where the backend defers, else left to the app's sweeper, which
also queues again what a killed worker lost (`overdue_ids`)."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone


def enqueue_at(task: Any, *, run_after: datetime | None = None, **kwargs: Any) -> bool:
    """Queue `task` now, or at `run_after` (a future time) where the backend defers tasks.
    False when it could not be queued for later: the app's sweeper runs it when due."""
    if run_after is not None and run_after > timezone.now():
        if not task.get_backend().supports_defer:
            return False
        task = task.using(run_after=run_after)
    task.enqueue(**kwargs)
    return True


def overdue_ids(pending: QuerySet[Any], *, grace: timedelta, limit: int) -> list[int]:
    """The rows of `pending` (next_attempt_at, created_at) whose attempt is overdue by more
    than `grace`: a first attempt never made or a retry never run (a lost task, a killed
    worker, a backend without deferred tasks). Oldest first, at most `limit`."""
    late = timezone.now() - grace
    return list(pending.filter(Q(next_attempt_at__lte=late)
                               | Q(next_attempt_at__isnull=True, created_at__lte=late))
                .order_by("pk").values_list("pk", flat=True)[:limit])


def backoff(attempts: int, *, base: float, cap: float | None = None) -> timedelta:
    """Wait after the `attempts`-th failed attempt: base × 2^(attempts − 1) seconds,
    at most `cap` seconds when given."""
    seconds = base * 2 ** max(0, attempts - 1)
    return timedelta(seconds=seconds if cap is None else min(seconds, cap))


def record_attempt(row: Any, error: str, *, max_attempts: int, base: float,
                   delivered: str, failed: str) -> None:
    """Save the outcome of one delivery attempt on `row` (a model with status, attempts,
    next_attempt_at, last_error, delivered_at): delivered, failed after `max_attempts`,
    or pending again after a backoff."""
    row.attempts += 1
    if not error:
        row.status, row.delivered_at, row.next_attempt_at = delivered, timezone.now(), None
    elif row.attempts >= max_attempts:
        row.status, row.next_attempt_at = failed, None
    else:
        row.next_attempt_at = timezone.now() + backoff(row.attempts, base=base)
    row.last_error = error[:500]
    row.save(update_fields=["status", "attempts", "next_attempt_at", "last_error",
                            "delivered_at"])


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> str:
    """POST `body`; "" on a 2xx answer, else what went wrong (an HTTP status, a bad scheme)."""
    if not url.startswith(("https://", "http://")):
        return "unsupported URL scheme"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return "" if 200 <= status < 300 else f"HTTP {status}"
