"""Retries with exponential backoff, shared by the apps that deliver to the outside
(programs' webhooks, DCI deliveries, notifications, verification)."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from django.utils import timezone


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
