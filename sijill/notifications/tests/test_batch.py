"""The batch path: many notices queued in one go, claimed and sent as one batch, with the same
guarantees as one by one (idempotent keys, an audit entry each, exactly once through the
gateway after a crash mid-batch, retries, expiry)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sijill.audit.models import AuditEntry
from sijill.notifications import backends, services
from sijill.notifications.gateway_simulator import SmsGatewaySimulator
from sijill.notifications.models import Notification
from sijill.notifications.services import (
    NoticeSpec,
    notices_queue_many,
    notifications_send_due,
    notifications_send_due_batch,
    notifications_send_many,
    one_time_code_send,
)
from sijill.notifications.tests.helpers import scored_household
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db


class Crash(BaseException):
    """The worker dies (not an error a send would catch)."""


@pytest.fixture
def gateway(settings: Any) -> Any:
    with SmsGatewaySimulator() as simulator:
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS,
                                  "SMS_BACKEND": "sijill.notifications.backends."
                                                 "HttpSmsGatewayBackend",
                                  "SMS_GATEWAY_URL": simulator.url,
                                  "SMS_GATEWAY_TIMEOUT": 2,
                                  "SMS_GATEWAY_RETRIES": 0,
                                  "SMS_GATEWAY_CONCURRENCY": 3}
        backends.reset()
        yield simulator
        backends.reset()


def _specs(people: list[Any], prefix: str = "b") -> list[NoticeSpec]:
    return [NoticeSpec(kind="generic", person=p, channel="sms", key=f"{prefix}{i}",
                       context={"message": f"hello {i}"}) for i, p in enumerate(people)]


def _lines(outbox: Any) -> list[dict[str, Any]]:
    path = outbox / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _later(minutes: int = 60) -> Any:
    return timezone.now() + timedelta(minutes=minutes)


def test_many_notices_are_queued_audited_and_sent_once_each(
        outbox, django_capture_on_commit_callbacks):
    people = [person_create() for _ in range(6)]
    audits = AuditEntry.objects.filter(action="notify").count()
    with django_capture_on_commit_callbacks(execute=True):
        queued = notices_queue_many(notices=_specs(people))
    assert len(queued) == 6
    assert AuditEntry.objects.filter(action="notify").count() == audits + 6
    assert set(Notification.objects.filter(key__startswith="b").values_list(
        "status", flat=True)) == {"sent"}
    lines = _lines(outbox)
    assert sorted(line["to"] for line in lines) == sorted(p.phone for p in people)
    assert len({line["idempotency_key"] for line in lines}) == 6
    sent = Notification.objects.get(key="b0")
    assert sent.provider_message_id == f"file-{sent.idempotency_key}"
    assert sent.attempts == 1 and sent.sent_at is not None


def test_queuing_the_same_keys_again_queues_nothing_new(django_capture_on_commit_callbacks):
    people = [person_create() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        notices_queue_many(notices=_specs(people))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = notices_queue_many(notices=_specs(people) + _specs(people[:1]))
    assert again == [] and callbacks == []
    assert Notification.objects.filter(key__startswith="b").count() == 3


def test_a_notice_that_cannot_be_addressed_is_left_out_and_the_others_are_queued(
        django_capture_on_commit_callbacks):
    people = [person_create(), person_create(phone="")]
    with django_capture_on_commit_callbacks(execute=True):
        queued = notices_queue_many(notices=_specs(people))
    assert [n.key for n in queued] == ["b0"]


def test_one_time_codes_are_not_queued_in_batches():
    with pytest.raises(ValueError, match="one_time_code"):
        notices_queue_many(notices=[NoticeSpec(kind="one_time_code", person=person_create(),
                                               key="otp", context={})])


def test_the_batch_path_costs_the_same_queries_for_5_or_50_notices(
        outbox, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(services, "_schedule_many", lambda ids: None)
    people = [person_create() for _ in range(50)]

    def cost(specs: list[NoticeSpec]) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queueing:
            queued = notices_queue_many(notices=specs)
        with CaptureQueriesContext(connection) as sending:
            notifications_send_many(notification_ids=[n.pk for n in queued])
        return len(queueing), len(sending)

    five, fifty = cost(_specs(people[:5], "five")), cost(_specs(people, "fifty"))
    # The same statements; SQLite may split a long INSERT in two (its bound parameters limit).
    assert fifty[0] <= five[0] + 1 and fifty[1] == five[1] <= 10, (five, fifty)
    assert Notification.objects.filter(status="sent").count() == 55


def test_index_notices_in_a_batch_move_their_households_to_notified(
        django_capture_on_commit_callbacks):
    pairs = [scored_household() for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        notices_queue_many(notices=[
            NoticeSpec(kind="index_notice", household=h, key=f"index_notice:{h.pk}:{s.pk}",
                       context={"index": "9.1000", "review_until": "01/01/2027"})
            for h, s in pairs])
    for household, _score in pairs:
        household.refresh_from_db()
        assert household.status == "notified"


def test_a_crash_mid_batch_after_the_gateway_accepted_half_sends_no_second_sms(
        gateway, monkeypatch):
    people = [person_create() for _ in range(6)]
    monkeypatch.setattr(services, "_schedule_many", lambda ids: None)
    queued = notices_queue_many(notices=_specs(people))
    real = backends.HttpSmsGatewayBackend.send_many

    def half_then_die(self: Any, messages: Any) -> Any:
        real(self, messages[:3])
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(backends.HttpSmsGatewayBackend, "send_many", half_then_die)
        with pytest.raises(Crash):
            notifications_send_many(notification_ids=[n.pk for n in queued])
    assert set(Notification.objects.values_list("status", flat=True)) == {"sending"}
    assert len(gateway.delivered) == 3

    # Within the lease nobody takes them up; after it, they go again with the same keys.
    assert notifications_send_due_batch() == 0
    assert notifications_send_due_batch(now=_later()) == 6
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Notification.objects.values_list("attempts", flat=True)) == {2}
    assert gateway.requests == 9
    assert sorted(d.to for d in gateway.delivered) == sorted(p.phone for p in people)


def test_a_crash_between_the_batch_send_and_its_record_sends_no_second_sms(
        gateway, monkeypatch):
    people = [person_create() for _ in range(4)]
    monkeypatch.setattr(services, "_schedule_many", lambda ids: None)
    queued = notices_queue_many(notices=_specs(people))

    def crash(*args: Any, **kwargs: Any) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(services, "_record_sent_many", crash)
        with pytest.raises(Crash):
            notifications_send_many(notification_ids=[n.pk for n in queued])
    assert len(gateway.delivered) == 4
    # The single path's sweeper takes them up too, with the same keys.
    assert notifications_send_due(now=_later()) == 4
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert gateway.requests == 8 and len(gateway.delivered) == 4
    for n in Notification.objects.all():
        assert n.provider_message_id == gateway.delivered_to(n.recipient)[0].id


def test_a_message_refused_in_a_batch_is_retried_alone_with_backoff(gateway, monkeypatch):
    people = [person_create() for _ in range(4)]
    monkeypatch.setattr(services, "_schedule_many", lambda ids: None)
    monkeypatch.setattr(services, "_schedule", lambda n: None)
    queued = notices_queue_many(notices=_specs(people))
    gateway.fail(1)
    assert notifications_send_many(notification_ids=[n.pk for n in queued]) == 4
    statuses = sorted(Notification.objects.values_list("status", flat=True))
    assert statuses == ["queued", "sent", "sent", "sent"]
    retried = Notification.objects.get(status="queued")
    assert retried.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert "503" in retried.last_error
    assert notifications_send_due_batch(now=_later()) == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(gateway.delivered) == 4


def test_a_batch_claim_leaves_sent_and_fresh_rows_alone_and_expires_old_codes(
        outbox, monkeypatch):
    monkeypatch.setattr(services, "_schedule", lambda n: None)
    monkeypatch.setattr(services, "_schedule_many", lambda ids: None)
    person = person_create()
    code = one_time_code_send(person=person, code="424242", purpose="sign_in")
    [notice] = notices_queue_many(notices=_specs([person]))
    assert notifications_send_many(notification_ids=[notice.pk]) == 1
    assert notifications_send_many(notification_ids=[notice.pk]) == 0  # sent already
    assert notifications_send_due_batch(now=_later(11)) == 0
    code.refresh_from_db()
    assert (code.status, code.secret_body) == ("expired", "")
    assert [line["kind"] for line in _lines(outbox)] == ["generic"]


def test_the_sweeper_enqueues_overdue_sends_in_batches(monkeypatch):
    enqueued: list[list[int]] = []
    monkeypatch.setattr(services, "_schedule_many", enqueued.append)
    queued = notices_queue_many(notices=_specs([person_create() for _ in range(3)]))
    enqueued.clear()
    assert services.notifications_requeue_overdue(now=_later()) == 3
    assert enqueued == [[n.pk for n in queued]]


def _redecided(changes: list[tuple[int, bool]], program_code: str = "amo_tadamon") -> None:
    """What programs sends after a re-decision: the batch, then one signal per household."""
    from sijill.core.events import eligibility_changed, eligibility_changes

    eligibility_changes.send_robust(sender=None, program_code=program_code, changes=changes)
    for household_id, eligible in changes:
        eligibility_changed.send_robust(sender=None, household_id=household_id,
                                        program_code=program_code, eligible=eligible)


def test_eligibility_changes_in_bulk_are_told_once_per_change_in_batches(
        outbox, django_capture_on_commit_callbacks):
    households = [scored_household()[0] for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _redecided([(h.pk, True) for h in households])
    assert len(callbacks) == 1  # one batch send task for the three notices
    with django_capture_on_commit_callbacks(execute=True):
        _redecided([(h.pk, True) for h in households])  # a repeat: nothing new
        _redecided([(households[0].pk, False)])  # a real change
    notices = Notification.objects.filter(kind="eligibility_change")
    assert sorted(notices.values_list("key", flat=True)) == sorted(
        [f"eligibility_change:{h.pk}:amo_tadamon:1" for h in households]
        + [f"eligibility_change:{households[0].pk}:amo_tadamon:2"])
    assert set(notices.values_list("status", flat=True)) == {"sent"}
    assert len(_lines(outbox)) == 4


def test_a_change_told_one_household_at_a_time_is_numbered_after_the_batch_ones(
        django_capture_on_commit_callbacks):
    from sijill.core.events import eligibility_changed

    household = scored_household()[0]
    with django_capture_on_commit_callbacks(execute=True):
        _redecided([(household.pk, True)])
        eligibility_changed.send_robust(sender=None, household_id=household.pk,
                                        program_code="amo_tadamon", eligible=False)
    assert [n.context["eligible"] for n in Notification.objects.filter(
        kind="eligibility_change").order_by("id")] == [True, False]
