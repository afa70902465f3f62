"""Races, on PostgreSQL: the same notice queued twice at once, the same send run twice at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from sijill.notifications import backends, services
from sijill.notifications.gateway_simulator import SmsGatewaySimulator
from sijill.notifications.models import Notification
from sijill.notifications.services import notice_queue, notification_send
from sijill.testing.concurrency import at_once
from sijill.testing.factories import person_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(n: int, work: Callable[[], Any]) -> list[Any]:
    """`work` run by n threads at once: what each returned, or the exception it raised."""

    def outcome() -> Any:
        try:
            return work()
        except Exception as exc:
            return exc

    return at_once([outcome] * n)


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


CHILD = """
import os, sys
import django
django.setup()
from sijill.notifications import services
def killed(*args, **kwargs):
    os._exit(9)  # the worker dies after the gateway accepted, before the outbox records it
services._record_sent = killed
services.notification_send(notification_id=int(sys.argv[1]))
"""


def test_a_worker_killed_after_the_gateway_accepted_sends_no_second_sms(settings, monkeypatch):
    import os
    import subprocess
    import sys
    from datetime import timedelta

    from django.conf import settings as django_settings
    from django.utils import timezone

    from sijill.notifications.services import notifications_send_due

    person = person_create()
    monkeypatch.setattr(services, "_schedule", lambda n: None)
    n = notice_queue(kind="generic", person=person, channel="sms", key="killed",
                     context={"message": "hi"})
    db = connection.settings_dict
    url = (f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}"
           f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    with SmsGatewaySimulator() as gateway:
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "sijill.settings",
               "SIJILL_SMS_BACKEND": "sijill.notifications.backends.HttpSmsGatewayBackend",
               "SIJILL_SMS_GATEWAY_URL": gateway.url}
        child = subprocess.run([sys.executable, "-c", CHILD, str(n.pk)], env=env,
                               cwd=django_settings.BASE_DIR, capture_output=True, timeout=120)
        assert child.returncode == 9, child.stderr.decode()[-2000:]
        n.refresh_from_db()
        assert n.status == "sending" and len(gateway.delivered) == 1

        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS,
                                  "SMS_BACKEND": "sijill.notifications.backends."
                                                 "HttpSmsGatewayBackend",
                                  "SMS_GATEWAY_URL": gateway.url}
        backends.reset()
        assert notifications_send_due(now=timezone.now() + timedelta(minutes=10)) == 1
        backends.reset()
        n.refresh_from_db()
        assert (n.status, n.attempts) == ("sent", 2)
        assert gateway.requests == 2 and len(gateway.delivered) == 1


def test_two_workers_claiming_batches_at_once_take_disjoint_notices(monkeypatch):
    from sijill.notifications.services import NoticeSpec, notices_queue_many

    monkeypatch.setattr(services, "_schedule_many", lambda ids: None)
    people = [person_create() for _ in range(40)]
    notices_queue_many(notices=[
        NoticeSpec(kind="generic", person=p, channel="sms", key=f"w{i}",
                   context={"message": "hi"}) for i, p in enumerate(people)])
    claims: dict[int, list[int]] = {}
    real = services._claim_many

    def recorded(**kwargs: Any) -> list[Notification]:
        rows = real(**kwargs)
        claims.setdefault(threading.get_ident(), []).extend(n.pk for n in rows)
        return rows

    monkeypatch.setattr(services, "_claim_many", recorded)
    later = timezone.now() + timedelta(minutes=5)

    def drain() -> int:
        total = 0
        while claimed := services.notifications_send_due_batch(now=later, limit=7):
            total += claimed
        return total

    results = _together(2, drain)
    assert all(isinstance(r, int) for r in results), results
    taken = [pk for pks in claims.values() for pk in pks]
    assert len(taken) == len(set(taken)) == 40  # no notice claimed twice
    assert sum(results) == 40
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
    lines = services.conf.get("OUTBOX_DIR").joinpath("sms.jsonl").read_text().splitlines()
    assert len(lines) == 40


def test_the_same_batch_queued_twice_at_once_is_one_row_and_one_audit_entry_per_key(
        monkeypatch):
    from sijill.audit.models import AuditEntry
    from sijill.notifications.services import NoticeSpec, notices_queue_many

    monkeypatch.setattr(services, "_schedule_many", lambda ids: None)
    people = [person_create() for _ in range(10)]
    specs = [NoticeSpec(kind="generic", person=p, channel="sms", key=f"dup{i}",
                        context={"message": "hi"}) for i, p in enumerate(people)]
    results = _together(3, lambda: [n.pk for n in notices_queue_many(notices=specs)])
    assert all(isinstance(r, list) for r in results), results
    assert sorted(pk for r in results for pk in r) == sorted(
        Notification.objects.filter(key__startswith="dup").values_list("pk", flat=True))
    assert Notification.objects.filter(key__startswith="dup").count() == 10
    assert AuditEntry.objects.filter(action="notify", detail__key__startswith="dup").count() == 10
