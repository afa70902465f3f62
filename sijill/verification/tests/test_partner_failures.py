"""Partners that fail: down, retried with backoff, the deadline, the late answer; malformed
answers recorded as partner errors without crashing anything."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from sijill.scoring.models import Score
from sijill.verification import services
from sijill.verification.models import Evidence, PartnerCheck, Verification
from sijill.verification.tests.conftest import family, truthful

pytestmark = pytest.mark.django_db


def test_a_partner_down_is_retried_then_the_deadline_scores_then_its_answer_rescores(
        simulator, records, scored_events, django_capture_on_commit_callbacks):
    household, head, _ = family(cars=0)
    truthful(records, head, cars=1)  # the registry knows a car the household did not declare
    simulator.control(down=["vehicles"])
    verification = Verification.objects.get(household=household)
    check = verification.checks.get(partner="vehicles")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_process(verification.pk, now=now) == "waiting"
    check.refresh_from_db()
    assert check.status == "pending" and check.attempts == 1 and check.last_error == "HTTP 503"
    first_wait = check.next_attempt_at - now
    # Not due yet: a pass now asks nobody.
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk, now=now)
    assert simulator.control()["requests"]["vehicles"] == 1
    # Retries with a growing backoff while it stays down.
    for _ in range(2):
        check.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            services.verification_process(verification.pk, now=check.next_attempt_at)
    check.refresh_from_db()
    assert check.attempts == 3 and check.status == "pending"
    waits = list(Evidence.objects.filter(partner_check=check).values_list("attempt", "outcome"))
    assert waits == [(1, "error"), (2, "error"), (3, "error")]
    assert check.next_attempt_at - timezone.now() > first_wait  # backoff grew
    household.refresh_from_db()
    assert household.status == "verifying" and not scored_events
    # The deadline: scored on what was verified, the registry's fields flagged unverified.
    verification.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_sweep(now=verification.deadline + timedelta(seconds=1),
                                           inline=True, stale_seconds=0) == 1
    verification.refresh_from_db()
    household.refresh_from_db()
    assert verification.status == "concluded" and verification.by_deadline
    assert verification.unverified == ["cars", "motorcycles"]
    assert household.status == "scored"
    on_deadline = Score.objects.get(pk=verification.score_id)
    assert on_deadline.inputs["unverified"] == ["cars", "motorcycles"]
    assert "cars" not in on_deadline.inputs["verified"]
    assert scored_events[-1]["reason"] == "registration"
    # The registry comes back: its late answer rescores (reason "verification").
    simulator.control(down=[])
    check.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk, now=check.next_attempt_at)
    check.refresh_from_db()
    verification.refresh_from_db()
    assert check.status == "answered" and verification.basis == 2
    assert verification.unverified == []
    rescored = Score.objects.get(pk=verification.score_id)
    assert rescored.basis == 2 and rescored.inputs["verified"]["cars"] == [1, "vehicles"]
    assert rescored.value > on_deadline.value  # the undeclared car counts
    assert scored_events[-1] == {"household_id": household.pk, "score_id": rescored.pk,
                                 "reason": "verification"}
    assert household.discrepancies.get(field="cars").verified == 1


def test_a_partner_that_never_answers_fails_after_the_last_attempt(
        simulator, records, settings, django_capture_on_commit_callbacks):
    settings.SIJILL = {**settings.SIJILL, "VERIFICATION_MAX_ATTEMPTS": 2}
    household, head, _ = family()
    truthful(records, head)
    simulator.control(errors={"land": "5xx"})
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
        check = verification.checks.get(partner="land")
        services.verification_process(verification.pk, now=check.next_attempt_at)
    check.refresh_from_db()
    verification.refresh_from_db()
    assert check.status == "failed" and check.attempts == 2 and check.last_error == "HTTP 500"
    # Every partner is done (one failed): concluded without waiting for the deadline.
    assert verification.status == "concluded" and not verification.by_deadline
    assert verification.unverified == ["owns_non_agricultural_land",
                                       "owns_or_farms_irrigated_land"]


@pytest.mark.parametrize("fault", ["malformed", "not_json"])
def test_a_malformed_answer_is_recorded_as_a_partner_error(
        simulator, records, fault, django_capture_on_commit_callbacks):
    household, head, _ = family()
    truthful(records, head)
    simulator.control(errors={"telecom": fault})
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_process(verification.pk) == "waiting"
    evidence = Evidence.objects.get(partner="telecom", household=household)
    assert evidence.outcome == "error" and evidence.error.startswith("malformed answer")
    check = PartnerCheck.objects.get(verification=verification, partner="telecom")
    assert check.status == "pending" and check.next_attempt_at is not None
    # The other partners went on and answered.
    assert Evidence.objects.filter(household=household, outcome="answer").count() == 6
    # Once the partner answers properly, the household is concluded.
    simulator.control(errors={})
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_process(verification.pk,
                                             now=check.next_attempt_at) == "concluded"


def test_a_timeout_is_an_error_of_that_partner_only(
        simulator, records, settings, django_capture_on_commit_callbacks):
    settings.SIJILL = {**settings.SIJILL, "VERIFICATION_TIMEOUT": 0.5}
    household, head, _ = family()
    truthful(records, head)
    simulator.control(errors={"schools": "timeout"}, timeout_s=3)
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
    check = verification.checks.get(partner="schools")
    assert check.last_error == "timeout" and check.status == "pending"
    assert verification.checks.filter(status="answered").count() == 6


def test_an_unreachable_partner_gateway_is_an_error_not_a_crash(
        settings, django_capture_on_commit_callbacks):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.SIJILL = {**settings.SIJILL, "PARTNER_URL": f"http://127.0.0.1:{port}",
                       "VERIFICATION_TIMEOUT": 1.0}
    settings.SIJILL.pop("VERIFICATION_PARTNERS", None)
    household, _, _ = family()
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_process(verification.pk) == "waiting"
    assert set(verification.checks.values_list("last_error", flat=True)) == {
        "unreachable: ConnectionRefusedError"}


def test_the_sweeper_requeues_only_what_is_late(simulator, records):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    household, _, _ = family()
    verification = Verification.objects.get(household=household)
    queued = DBTaskResult.objects.filter(task_path__endswith="verify_household_task")
    before = queued.count()
    # Just started: its task is queued, nothing is late.
    assert services.verification_sweep() == 0
    # Eleven minutes later its first attempt was never made: its task was lost.
    later = timezone.now() + timedelta(minutes=11)
    assert services.verification_sweep(now=later) == 1
    assert queued.count() == before + 1
    assert queued.order_by("-enqueued_at").first().args_kwargs["kwargs"] == {
        "verification_id": verification.pk}
    out = io.StringIO()
    call_command("verification_sweep", "--stale-seconds", "0", stdout=out)
    assert out.getvalue().strip() == "1 verification(s) queued"
    assert queued.count() == before + 2


def test_the_sweeper_concludes_a_verification_whose_worker_died_after_the_last_answer(
        simulator, records, django_capture_on_commit_callbacks):
    household, _, _ = family()
    verification = Verification.objects.get(household=household)
    # The pass recorded every answer, then its worker was killed before it concluded.
    p = services._pass_prepare(verification.pk, now=timezone.now())
    attempts = services._ask([p], workers=None)[verification.pk]
    services.attempts_record(attempts, household_id=household.pk)
    verification.refresh_from_db()
    assert verification.status == "running"
    assert not verification.checks.filter(status="pending").exists()
    # No check is pending and the deadline is days away, yet the sweeper finds it.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_sweep(now=timezone.now() + timedelta(minutes=11),
                                           inline=True) == 1
    verification.refresh_from_db()
    household.refresh_from_db()
    assert verification.status == "concluded" and not verification.by_deadline
    assert household.status == "scored"
    assert Evidence.objects.filter(partner_check__verification=verification).count() == 7
