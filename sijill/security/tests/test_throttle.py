"""Throttling: a sliding window counted in the database, one atomic statement per hit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import translation
from freezegun import freeze_time

from sijill.core.api import error_response
from sijill.core.errors import TooManyRequests
from sijill.security.models import ThrottleBucket
from sijill.security.throttle import retry_after, throttle_hit, throttle_purge, throttle_reset
from sijill.testing.concurrency import at_once

WINDOW = timedelta(minutes=10)
# 12:05:00 is half-way through the 12:00-12:10 window.
MID_WINDOW = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)


def hit(key: str = "0612345678", *, scope: str = "otp.send", limit: int = 3) -> None:
    throttle_hit(scope=scope, key=key, limit=limit, window=WINDOW)


def test_it_allows_hits_up_to_the_limit_then_refuses_with_a_retry_delay(db: Any) -> None:
    with freeze_time(MID_WINDOW):
        hit(), hit(), hit()
        with pytest.raises(TooManyRequests) as refused:
            hit()
    assert refused.value.status == 429
    # The window ends at 12:10; the next window still weighs these 4 hits until enough of it
    # has passed: 1 - (3 - 1) / 4 = half of it, so 5 + 5 minutes.
    assert refused.value.retry_after == 600


def test_it_keeps_scopes_and_keys_apart(db: Any) -> None:
    with freeze_time(MID_WINDOW):
        for _ in range(3):
            hit("0611111111")
        hit("0622222222")
        hit("0611111111", scope="signin")
        with pytest.raises(TooManyRequests):
            hit("0611111111")


def test_it_counts_refused_hits_so_hammering_stays_refused(db: Any) -> None:
    with freeze_time(MID_WINDOW) as clock:
        for _ in range(3):
            hit()
        for _ in range(5):
            with pytest.raises(TooManyRequests):
                hit()
        # Next window, 1 minute in: 8 hits weigh 8 * 0.9 = 7.2 > 3.
        clock.move_to(MID_WINDOW + timedelta(minutes=6))
        with pytest.raises(TooManyRequests):
            hit()


def test_it_slides_so_a_burst_at_a_window_edge_cannot_double_the_limit(db: Any) -> None:
    with freeze_time(datetime(2026, 3, 2, 12, 9, 50, tzinfo=UTC)) as clock:
        for _ in range(3):
            hit()
        clock.move_to(datetime(2026, 3, 2, 12, 10, 10, tzinfo=UTC))  # a new fixed window
        with pytest.raises(TooManyRequests):
            hit()  # a fixed window would allow 3 more here
        clock.move_to(datetime(2026, 3, 2, 12, 19, 0, tzinfo=UTC))
        hit()  # 4 * 0.1 + 1 <= 3: the previous window has slid almost out


def test_it_forgets_a_key_on_reset(db: Any) -> None:
    with freeze_time(MID_WINDOW):
        for _ in range(3):
            hit()
        throttle_reset(scope="otp.send", key="0612345678")
        hit()


def test_it_stores_no_key_in_clear(db: Any) -> None:
    with freeze_time(MID_WINDOW):
        hit("0612345678")
    row = ThrottleBucket.objects.get()
    assert "0612345678" not in row.key_hash
    assert len(row.key_hash) == 64


def test_it_purges_expired_counters(db: Any) -> None:
    with freeze_time(MID_WINDOW) as clock:
        hit("a"), hit("b")
        clock.move_to(MID_WINDOW + timedelta(minutes=10))
        hit("c")
        assert throttle_purge() == 0  # 12:00 window expires at 12:20
        clock.move_to(MID_WINDOW + timedelta(minutes=16))
        assert throttle_purge() == 2
    assert ThrottleBucket.objects.count() == 1


def test_it_rejects_nonsense_limits(db: Any) -> None:
    with pytest.raises(ValueError):
        throttle_hit(scope="s", key="k", limit=0, window=WINDOW)
    with pytest.raises(ValueError):
        throttle_hit(scope="s", key="k", limit=1, window=timedelta(0))


@pytest.mark.parametrize(("previous", "current", "elapsed", "expected"), [
    (0, 3, 0.5, 0.5 + 1 / 3),   # next window, once 3 hits weigh <= 2
    (4, 1, 0.25, 0.5),          # this window, once 4 * (1 - e) <= 1
    (0, 0, 0.0, 1.0),           # limit 1 cannot be full with no hits; degenerate bound
])
def test_retry_delay_is_when_one_more_hit_fits(previous: int, current: int, elapsed: float,
                                               expected: float) -> None:
    limit = 3 if current else 1
    assert retry_after(previous=previous, current=current, elapsed=elapsed,
                       limit=limit) == pytest.approx(expected)


def test_a_refusal_is_a_429_in_the_error_shape_with_retry_after(db: Any) -> None:
    request = RequestFactory().get("/api/v1/x")
    for language, text in (("en", "Too many attempts"), ("fr", "Trop de tentatives"),
                           ("ar", "محاولات كثيرة")):
        with translation.override(language):
            response = error_response(request, TooManyRequests(retry_after=42))
        assert response.status_code == 429
        assert response["Retry-After"] == "42"
        body = json.loads(response.content)["error"]
        assert body["code"] == "too_many_requests"
        assert text in body["message"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_each_counted_once_on_postgres() -> None:
    clients, limit = 12, 5

    def client() -> bool:
        try:
            hit("0699999999", limit=limit)
        except TooManyRequests:
            return False
        return True

    with freeze_time(MID_WINDOW):
        allowed = at_once([client] * clients)
    assert sorted(allowed) == [False] * (clients - limit) + [True] * limit
    assert ThrottleBucket.objects.get().hits == clients
