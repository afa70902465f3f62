"""Retries with exponential backoff, shared by the apps that deliver to the outside
(programs' webhooks, DCI deliveries, notifications, verification)."""

from __future__ import annotations

from datetime import timedelta


def backoff(attempts: int, *, base: float, cap: float | None = None) -> timedelta:
    """Wait after the `attempts`-th failed attempt: base × 2^(attempts − 1) seconds,
    at most `cap` seconds when given."""
    seconds = base * 2 ** max(0, attempts - 1)
    return timedelta(seconds=seconds if cap is None else min(seconds, cap))
