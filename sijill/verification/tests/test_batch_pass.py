"""Several households verified in one pass (the batch verify task): their partners asked
together, each household recorded and advanced on its own with the same guarantees."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sijill.households.models import Household
from sijill.scoring.models import Score
from sijill.verification import services
from sijill.verification.connectors import CONNECTORS
from sijill.verification.models import Discrepancy, Evidence, PartnerCheck, Verification
from sijill.verification.tests.conftest import _family, family, truthful

pytestmark = pytest.mark.django_db


def _households(records: Any, n: int, **truth: Any) -> list[Verification]:
    out = []
    for _ in range(n):
        household, head, _ = family()
        truthful(records, head, **truth)
        out.append(Verification.objects.get(household=household))
    return out


def test_a_batch_pass_verifies_several_households_as_single_passes_would(
        simulator, records, scored_events, django_capture_on_commit_callbacks):
    verifications = _households(records, 3)
    with django_capture_on_commit_callbacks(execute=True):
        states = services.verifications_process([v.pk for v in verifications])
    assert states == {v.pk: "concluded" for v in verifications}
    for v in verifications:
        v.refresh_from_db()
        assert v.status == "concluded" and not v.by_deadline and v.basis == 1
        assert Evidence.objects.filter(partner_check__verification=v,
                                       outcome="answer").count() == len(CONNECTORS)
        assert Household.objects.get(pk=v.household_id).status == "scored"
        assert Score.objects.filter(household_id=v.household_id).count() == 1
    assert sorted(e["household_id"] for e in scored_events) == sorted(
        v.household_id for v in verifications)
    assert {e["reason"] for e in scored_events} == {"registration"}


def test_a_batch_pass_run_twice_adds_no_evidence_and_no_score(
        simulator, records, django_capture_on_commit_callbacks):
    verifications = _households(records, 2, cars=1)  # an undeclared car: a discrepancy each
    ids = [v.pk for v in verifications]
    with django_capture_on_commit_callbacks(execute=True):
        services.verifications_process(ids)
    counts = (Evidence.objects.count(), Discrepancy.objects.count(), Score.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verifications_process(ids + ids) == {pk: "concluded" for pk in ids}
    assert (Evidence.objects.count(), Discrepancy.objects.count(),
            Score.objects.count()) == counts
    assert Discrepancy.objects.filter(field="cars").count() == 2


def test_a_batch_pass_retries_a_partner_down_for_every_household_with_backoff(
        simulator, records, django_capture_on_commit_callbacks):
    verifications = _households(records, 2)
    simulator.control(down=["land"])
    with django_capture_on_commit_callbacks(execute=True):
        states = services.verifications_process([v.pk for v in verifications])
    assert set(states.values()) == {"waiting"}
    checks = PartnerCheck.objects.filter(partner="land")
    assert {(c.status, c.attempts, c.last_error) for c in checks} == {
        ("pending", 1, "HTTP 503")}
    assert all(c.next_attempt_at is not None for c in checks)
    assert PartnerCheck.objects.filter(status="answered").count() == 2 * (len(CONNECTORS) - 1)


def test_a_superseded_household_in_a_batch_does_not_stop_the_others(
        simulator, records, django_capture_on_commit_callbacks):
    verifications = _households(records, 2)
    Verification.objects.filter(pk=verifications[0].pk).update(status="superseded")
    with django_capture_on_commit_callbacks(execute=True):
        states = services.verifications_process([v.pk for v in verifications])
    assert states == {verifications[0].pk: "gone", verifications[1].pk: "concluded"}
    assert not Evidence.objects.filter(partner_check__verification=verifications[0]).exists()


def test_households_loaded_in_bulk_are_queued_in_batch_tasks(
        simulator, records, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.SIJILL = {**settings.SIJILL, "VERIFICATION_BATCH_SIZE": 2}
    for _ in range(3):
        _family()  # registered without the submitted signal's verification
    Verification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verifications_start_pending() == 3
    batches = DBTaskResult.objects.filter(task_path__endswith="verify_households_task")
    assert sorted(len(b.args_kwargs["kwargs"]["verification_ids"]) for b in batches) == [1, 2]
    single = DBTaskResult.objects.filter(task_path__endswith="verify_household_task")
    assert not single.filter(args_kwargs__kwargs__verification_id__in=list(
        Verification.objects.values_list("pk", flat=True))).exists()


def test_one_household_is_verified_in_fewer_than_seventy_queries(
        simulator, records, django_capture_on_commit_callbacks):
    # A guard against the per-field and per-row queries coming back (a count, not a time).
    (verification,) = _households(records, 1, cars=1)
    with CaptureQueriesContext(connection) as queries:
        assert services.verification_process(verification.pk) == "concluded"
    assert len(queries.captured_queries) < 70


def test_the_sweeper_queues_many_late_verifications_in_batch_tasks(
        simulator, records, settings):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    settings.SIJILL = {**settings.SIJILL, "VERIFICATION_BATCH_SIZE": 2}
    verifications = _households(records, 3)
    later = timezone.now() + timedelta(minutes=11)  # their first attempts never made
    assert services.verification_sweep(now=later) == 3
    batches = DBTaskResult.objects.filter(task_path__endswith="verify_households_task")
    queued = sorted(pk for b in batches for pk in b.args_kwargs["kwargs"]["verification_ids"])
    assert queued == sorted(v.pk for v in verifications)
    assert batches.count() == 2
