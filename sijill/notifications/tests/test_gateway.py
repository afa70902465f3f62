"""The HTTP SMS gateway: retries with backoff, and in effect exactly once (Idempotency-Key)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sijill.notifications import backends, services
from sijill.notifications.gateway_simulator import SmsGatewaySimulator
from sijill.notifications.models import Notification
from sijill.notifications.services import notice_queue, notification_send, notifications_send_due
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(settings: Any) -> Any:
    with SmsGatewaySimulator(token="s3cret") as simulator:
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS,
                                  "SMS_BACKEND": "sijill.notifications.backends."
                                                 "HttpSmsGatewayBackend",
                                  "SMS_GATEWAY_URL": simulator.url,
                                  "SMS_GATEWAY_TOKEN": "s3cret",
                                  "SMS_GATEWAY_TIMEOUT": 0.5,
                                  "SMS_GATEWAY_RETRIES": 1}
        backends.reset()
        yield simulator
        backends.reset()


def _queue(person: Any, key: str = "notice") -> Notification:
    return notice_queue(kind="generic", person=person, channel="sms", key=key,
                        context={"message": "hello"})


def _later(minutes: int = 60) -> Any:
    return timezone.now() + timedelta(minutes=minutes)


def test_a_message_through_the_gateway_is_delivered_once_with_the_provider_id(
        gateway, django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        n = _queue(person)
    n.refresh_from_db()
    assert n.status == "sent"
    assert [d.to for d in gateway.delivered] == [person.phone]
    assert n.provider_message_id == gateway.delivered[0].id
    assert gateway.delivered[0].key == str(n.idempotency_key)


def test_a_gateway_that_fails_then_recovers_delivers_exactly_one_sms(
        gateway, django_capture_on_commit_callbacks):
    person = person_create()
    gateway.fail(3)  # the first attempt (2 requests) fails, and the first request of the next
    with django_capture_on_commit_callbacks(execute=True):
        n = _queue(person)
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("queued", 1)
    assert n.next_attempt_at > timezone.now() + timedelta(seconds=25)  # backoff
    assert "503" in n.last_error

    notifications_send_due(now=_later())
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("sent", 2)
    assert len(gateway.delivered) == 1
    assert gateway.requests == 4


def test_the_backoff_doubles_with_each_attempt():
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_a_crash_after_the_gateway_accepted_and_before_recording_sends_no_second_sms(
        gateway, django_capture_on_commit_callbacks, monkeypatch):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=False):
        n = _queue(person)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker killed between the gateway's answer and the record")

    with monkeypatch.context() as patch:
        patch.setattr(services, "_record_sent", crash)
        with pytest.raises(RuntimeError):
            notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == "sending"  # the record never happened
    assert len(gateway.delivered) == 1

    # Within the lease nobody takes it up again; after it, the sweeper re-sends with the same key.
    assert notifications_send_due() == 0
    assert notifications_send_due(now=_later()) == 1
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("sent", 2)
    assert gateway.requests == 2
    assert len(gateway.delivered) == 1
    assert n.provider_message_id == gateway.delivered[0].id


def test_a_timeout_after_delivery_is_retried_without_a_second_sms(
        gateway, django_capture_on_commit_callbacks):
    person = person_create()
    gateway.time_out(2, seconds=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        n = _queue(person)
    n.refresh_from_db()
    assert n.status == "queued" and n.last_error == "timeout"
    notifications_send_due(now=_later())
    n.refresh_from_db()
    assert n.status == "sent"
    assert len(gateway.delivered) == 1


def test_a_gateway_that_is_down_keeps_the_notice_queued_until_it_is_back(
        gateway, django_capture_on_commit_callbacks):
    person = person_create()
    gateway.stop()
    with django_capture_on_commit_callbacks(execute=True):
        n = _queue(person)
    n.refresh_from_db()
    assert n.status == "queued" and n.last_error.startswith("unreachable")
    gateway.start()
    notifications_send_due(now=_later())
    n.refresh_from_db()
    assert n.status == "sent"
    assert len(gateway.delivered) == 1


def test_a_notice_fails_for_good_after_the_last_attempt(
        gateway, settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 2}
    person = person_create()
    gateway.fail(100)
    with django_capture_on_commit_callbacks(execute=True):
        n = _queue(person)
    notifications_send_due(now=_later(60))
    n.refresh_from_db()
    assert (n.status, n.attempts) == ("failed", 2)
    assert gateway.delivered == []


def test_a_refused_message_is_not_retried(gateway, django_capture_on_commit_callbacks):
    person = person_create()
    gateway.fail(1, status=422)
    with django_capture_on_commit_callbacks(execute=True):
        n = _queue(person)
    n.refresh_from_db()
    assert n.status == "failed" and n.last_error.startswith("permanent")
    assert gateway.requests == 1


def test_two_notices_are_two_sms(gateway, django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        _queue(person, "a")
        _queue(person, "b")
    assert len(gateway.delivered_to(person.phone)) == 2


def test_a_one_time_code_not_sent_in_time_is_never_sent(
        gateway, django_capture_on_commit_callbacks):
    from sijill.notifications.services import one_time_code_send

    person = person_create()
    gateway.stop()
    with django_capture_on_commit_callbacks(execute=True):
        n = one_time_code_send(person=person, code="123456", purpose="sign_in")
    gateway.start()
    notifications_send_due(now=_later(30))
    n.refresh_from_db()
    assert n.status == "expired" and n.secret_body == ""
    assert gateway.delivered == []


def test_a_household_notice_the_gateway_refuses_goes_by_post_instead(
        gateway, django_capture_on_commit_callbacks):
    from sijill.households.tests.factories import household_create
    from sijill.notifications.letters import letters_print

    household = household_create()
    gateway.fail(1, status=422)
    with django_capture_on_commit_callbacks(execute=True):
        sms = notice_queue(kind="index_notice", household=household, key="idx",
                           context={"index": "9.1", "review_until": "01/01/2027"})
    sms.refresh_from_db()
    assert sms.status == "failed"
    letter = Notification.objects.get(key="idx:letter")
    assert (letter.channel, letter.status, letter.reference) == ("letter", "queued",
                                                                 household.reference)
    assert letters_print().letters == 1
