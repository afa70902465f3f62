"""Subscriptions and signed webhooks: eligibility changes delivered, HMAC verifiable,
failures retried with exponential backoff, then marked failed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.conftest import ApiClient
from sijill.programs import eligibility, services, webhooks
from sijill.programs.models import Program, WebhookDelivery
from sijill.programs.tasks import decide_households_task
from sijill.programs.tests.factories import family, score

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_asd() -> ApiClient:
    _, raw = services.program_token_create(actor=SYSTEM, code="asd", name="asd")
    return ApiClient(Client(), {"Authorization": f"Bearer {raw}"})


@pytest.fixture
def receiver(monkeypatch):
    """A fake receiver: records requests, answers with the queued statuses (default 200)."""
    calls: list[dict] = []
    answers: list[str] = []

    def post(url, body, headers):
        calls.append({"url": url, "body": body, "headers": headers})
        return answers.pop(0) if answers else ""

    monkeypatch.setattr(webhooks, "post", post)
    return calls, answers


def test_a_subscription_receives_signed_changes(as_asd, receiver, immediate_tasks,
                                                django_capture_on_commit_callbacks):
    calls, _ = receiver
    r = as_asd.post("programs/asd/subscriptions", {"url": "https://asd.example/hook"})
    assert r.status_code == 201, r.content
    secret = r.json()["secret"]
    assert len(secret) == 64
    assert as_asd.get("programs/asd/subscriptions").json()[0]["secret"] is None
    household = family()
    with django_capture_on_commit_callbacks(execute=True):
        score(household, 9.0)
    assert len(calls) == 1
    call = calls[0]
    payload = json.loads(call["body"])
    assert payload["event"] == "eligibility.changed" and payload["program"] == "asd"
    assert payload["changes"] == [{"household": household.reference,
                                   "head_idcs": household.head.idcs, "eligible": True}]
    stamp = int(call["headers"]["X-Sijill-Timestamp"])
    assert webhooks.verify(secret, stamp, call["body"], call["headers"]["X-Sijill-Signature"])
    assert not webhooks.verify("other", stamp, call["body"],
                               call["headers"]["X-Sijill-Signature"])
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_a_failed_delivery_is_retried_with_backoff_then_failed(as_asd, receiver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    calls, answers = receiver
    as_asd.post("programs/asd/subscriptions", {"url": "https://asd.example/hook"})
    household = family()
    score(household, 9.0)
    out = eligibility.redecide(Program.objects.get(code="asd"))
    webhooks.enqueue_changes(program_code="asd", changes=out.changes)
    delivery = WebhookDelivery.objects.get()
    answers.extend(["HTTP 503"] * webhooks.MAX_ATTEMPTS)
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        status = webhooks.deliver(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt and delivery.last_error == "HTTP 503"
        if attempt < webhooks.MAX_ATTEMPTS:
            assert status == "pending"
            assert delivery.next_attempt_at > delivery.created_at + webhooks.backoff(attempt) \
                - timedelta(seconds=5)
        else:
            assert status == "failed" and delivery.next_attempt_at is None
    assert webhooks.backoff(1) == timedelta(seconds=30)
    assert webhooks.backoff(3) == timedelta(seconds=120)
    assert len(calls) == webhooks.MAX_ATTEMPTS
    assert webhooks.deliver(delivery.pk) == "failed"  # no further attempt
    assert len(calls) == webhooks.MAX_ATTEMPTS


def test_a_retry_succeeds(as_asd, receiver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    calls, answers = receiver
    as_asd.post("programs/asd/subscriptions", {"url": "https://asd.example/hook"})
    household = family()
    score(household, 9.0)
    decide_households_task.call(household_ids=[household.pk])
    delivery = WebhookDelivery.objects.get()
    answers.append("URLError")
    assert webhooks.deliver(delivery.pk) == "pending"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.created_at)
    assert webhooks.deliver_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert calls[0]["headers"]["X-Sijill-Event-Id"] == calls[1]["headers"]["X-Sijill-Event-Id"]


def test_unsubscribed_programs_get_nothing(as_asd, receiver):
    calls, _ = receiver
    sub = as_asd.post("programs/asd/subscriptions", {"url": "https://asd.example/hook"}).json()
    assert as_asd.delete(f"programs/asd/subscriptions/{sub['id']}").status_code == 204
    household = family()
    score(household, 9.0)
    decide_households_task.call(household_ids=[household.pk])
    assert not WebhookDelivery.objects.exists() and calls == []


def test_the_sweeper_requeues_an_overdue_delivery_once(as_asd, receiver, settings):
    """A worker crashed after a failed attempt: its deferred task is lost; the sweeper (a
    periodic job) enqueues the delivery again, and a duplicate task does nothing."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    calls, answers = receiver
    as_asd.post("programs/asd/subscriptions", {"url": "https://asd.example/hook"})
    household = family()
    score(household, 9.0)
    decide_households_task.call(household_ids=[household.pk])
    delivery = WebhookDelivery.objects.get()
    answers.append("HTTP 503")
    assert webhooks.deliver(delivery.pk) == "pending"
    assert webhooks.requeue_overdue() == 0  # not overdue yet
    assert webhooks.deliver(delivery.pk, only_if_due=True) == "pending"  # not due: no attempt
    assert len(calls) == 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.created_at - timedelta(minutes=5))
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert webhooks.requeue_overdue() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert webhooks.requeue_overdue() == 0
