"""Throttling of sign-in attempts, one-time codes and identity checks, backed by the database.

Usage (at the top of a service, before any work that an attacker would like to repeat):

    from sijill.security.throttle import throttle_hit, throttle_reset

    throttle_hit(scope="otp.send", key=phone, limit=5, window=timedelta(minutes=15))
    ...                                  # raises TooManyRequests (429, Retry-After) when over
    throttle_reset(scope="signin", key=username)   # e.g. after a successful sign-in

Each call counts one hit, allowed or refused: an attacker who keeps hammering stays refused.

Algorithm: a sliding window estimated from two fixed windows (the approach of Cloudflare and
nginx): the hits of the current window plus the hits of the previous one weighted by the part
of it still inside the sliding window. It never lets more than `limit` hits through in any
`window`-long span by more than a rounding margin, unlike a bare fixed window which allows two
full bursts across a boundary, and it costs one row per key and window.

Storage: the `security_throttlebucket` table, not Django's cache. The default cache is
per-process local memory (no CACHES setting), which a multi-process server would multiply by
its workers, and the demo must run without Redis. Each hit is ONE atomic statement,
`INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits`, the same SQL on SQLite
and PostgreSQL: concurrent hits on PostgreSQL serialise on the row and none is lost (tested with
threads in tests/test_throttle.py). Plus one read of the previous window. Keys are stored as a
keyed hash (HMAC-SHA256 with SECRET_KEY): the table holds no phone number, IDCS or address.
Expired rows are purged on about one hit in 256 (`throttle_purge`, also callable by hand).

Transactions: the hit must survive the request failing, or a wrong password would never count.
Call `throttle_hit` OUTSIDE any `transaction.atomic` block that the failure rolls back (for a
sign-in: count the attempt, then check the password). Every call is a hit.

Choosing keys: throttle by the target (the account, the phone number, the IDCS: stops guessing
one person's secret from many addresses) AND by the client address (stops one client spraying
many targets). Keying only by the target lets anyone lock a person out for `window`; keep
limits generous enough for that (e.g. 10 per 15 minutes for a password).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

from sijill.core.errors import TooManyRequests
from sijill.security.models import ThrottleBucket

PURGE_ONE_IN = 256
# The model's table (db_table is Django's default: security_throttlebucket), written out so the
# statements are constants.
_UPSERT = """
INSERT INTO security_throttlebucket (scope, key_hash, window_start, hits, expires_at)
VALUES (%s, %s, %s, 1, %s)
ON CONFLICT (scope, key_hash, window_start) DO UPDATE SET hits = security_throttlebucket.hits + 1
RETURNING hits
"""
_PREVIOUS = ("SELECT hits FROM security_throttlebucket "
             "WHERE scope = %s AND key_hash = %s AND window_start = %s")
assert ThrottleBucket._meta.db_table == "security_throttlebucket"


def _key_hash(scope: str, key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{scope}\x00{key}".encode(),
                    hashlib.sha256).hexdigest()


def _seconds(window: timedelta) -> int:
    seconds = int(window.total_seconds())
    if seconds < 1:
        raise ValueError("a throttle window is at least one second")
    return seconds


def retry_after(*, previous: int, current: int, elapsed: float, limit: int) -> float:
    """How long until one more hit would be allowed if none comes meanwhile, in windows.

    `previous` and `current` are the hits counted so far in the previous and current fixed
    windows, `elapsed` the fraction (0..1) of the current window gone. The sliding estimate is
    previous * (1 - elapsed) + current; a new hit is allowed if the estimate with it is <= limit.
    """
    # Still in this window: the previous window's weight must fall enough.
    room = limit - current - 1
    if room >= 0 and previous > 0:
        return max(1 - room / previous - elapsed, 0.0)
    # In the next window: this window becomes the previous one, weighted down as time passes.
    at_next = max(0.0, 1 - (limit - 1) / current) if current > 0 else 0.0
    return (1 - elapsed) + at_next


def throttle_hit(*, scope: str, key: str, limit: int, window: timedelta) -> None:
    """Count one hit of `key` in `scope`; raise TooManyRequests past `limit` per `window`."""
    if limit < 1:
        raise ValueError("a throttle limit is at least 1")
    seconds = _seconds(window)
    now = time.time()
    start = int(now // seconds) * seconds
    key_hash = _key_hash(scope, key)
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [scope, key_hash, start, start + 2 * seconds])
        current = cursor.fetchone()[0]
        cursor.execute(_PREVIOUS, [scope, key_hash, start - seconds])
        row = cursor.fetchone()
    previous = row[0] if row else 0
    if secrets.randbelow(PURGE_ONE_IN) == 0:
        throttle_purge()
    elapsed = (now - start) / seconds
    if previous * (1 - elapsed) + current <= limit:
        return
    wait = retry_after(previous=previous, current=current, elapsed=elapsed, limit=limit)
    # The message is repeated here so that this app's catalog carries its translations.
    raise TooManyRequests(_("Too many attempts. Try again later."),
                          retry_after=max(1, math.ceil(wait * seconds)))


def throttle_reset(*, scope: str, key: str) -> None:
    """Forget every hit of `key` in `scope` (e.g. after the person proved who they are)."""
    ThrottleBucket.objects.filter(scope=scope, key_hash=_key_hash(scope, key)).delete()


def throttle_purge() -> int:
    """Delete expired counters; returns how many."""
    deleted, _ = ThrottleBucket.objects.filter(expires_at__lt=int(time.time())).delete()
    return deleted
