"""Races, on PostgreSQL: the same notice queued twice at once, the same send run twice at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from sijill.notifications import backends, services
from sijill.notifications.gateway_simulator import SmsGatewaySimulator
from sijill.notifications.models import Notification
from sijill.notifications.services import notice_queue, notification_send
from sijill.testing.factories import person_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(n: int, work: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_the_same_notice_queued_twice_at_once_is_one_row():
    person = person_create()
    results = _together(4, lambda: notice_queue(
        kind="generic", person=person, channel="sms", key="race", context={"message": "hi"}).pk)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Notification.objects.filter(key="race").count() == 1


def test_the_same_send_run_twice_at_once_reaches_the_gateway_once(settings, monkeypatch):
    person = person_create()
    monkeypatch.setattr(services, "_schedule", lambda n: None)  # the workers below send it
    n = notice_queue(kind="generic", person=person, channel="sms", key="twice",
                     context={"message": "hi"})
    with SmsGatewaySimulator() as gateway:
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS,
                                  "SMS_BACKEND": "sijill.notifications.backends."
                                                 "HttpSmsGatewayBackend",
                                  "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_TIMEOUT": 5}
        backends.reset()
        gateway.time_out(1, seconds=0.5)  # a slow answer: the second worker arrives meanwhile
        results = _together(3, lambda: notification_send(notification_id=n.pk))
        backends.reset()
    assert gateway.requests == 1, results
    assert len(gateway.delivered) == 1
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("sent", 1)
