"""Verification settings (SIJILL[...] in settings.py), with their defaults.

    VERIFICATION_DEADLINE      seconds after submission when the household is scored on what
                               was verified (default 3 days, well inside the 10-day notice limit)
    VERIFICATION_TIMEOUT       seconds one partner call may take (default 5)
    VERIFICATION_MAX_ATTEMPTS  calls to one partner before it counts as failed (default 10)
    VERIFICATION_BACKOFF       seconds before the 2nd attempt; doubled each time (default 30)
    VERIFICATION_PARTNERS      partner codes asked (default: every connector); () asks none and
                               scores on declared values at once
    VERIFICATION_CALLS_AT_ONCE partner calls in flight at once in a batch pass over several
                               households (default 32)
    VERIFICATION_BATCH_SIZE    households per batch verify task queued by
                               `verifications_start_pending` (default 20)
    PARTNER_URL                base URL of the partners' gateway (default: the simulator,
                               http://127.0.0.1:8751); PARTNER_URLS maps a code to its own URL
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from sijill.core import retry

DEFAULTS: dict[str, Any] = {
    "VERIFICATION_DEADLINE": 3 * 24 * 3600,
    "VERIFICATION_TIMEOUT": 5.0,
    "VERIFICATION_MAX_ATTEMPTS": 10,
    "VERIFICATION_BACKOFF": 30.0,
    "VERIFICATION_PARTNERS": None,
    "VERIFICATION_CALLS_AT_ONCE": 32,
    "VERIFICATION_BATCH_SIZE": 20,
    "PARTNER_URL": "http://127.0.0.1:8751",
    "PARTNER_URLS": {},
}


def get(name: str) -> Any:
    return getattr(settings, "SIJILL", {}).get(name, DEFAULTS[name])


def deadline() -> timedelta:
    return timedelta(seconds=float(get("VERIFICATION_DEADLINE")))


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: BACKOFF × 2^(attempts − 1), at most 6 h."""
    return retry.backoff(attempts, base=float(get("VERIFICATION_BACKOFF")), cap=6 * 3600)


def partner_url(code: str) -> str:
    urls = get("PARTNER_URLS") or {}
    return str(urls.get(code) or get("PARTNER_URL")).rstrip("/")
