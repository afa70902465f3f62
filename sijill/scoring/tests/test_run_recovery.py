"""A run whose worker died is queued again by the periodic sweep, resumes, and finishes; a run
that keeps losing its worker is given up; a live run is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sijill.accounts.actors import SYSTEM
from sijill.scoring import selectors, services
from sijill.scoring.models import FormulaVersion, Score, ScoringRun
from sijill.scoring.tests.test_runs import registry, shifted_draft  # noqa: F401
from sijill.testing.worker import run_worker

pytestmark = pytest.mark.django_db(transaction=True)


def _killed_midway(registry) -> ScoringRun:  # noqa: F811
    """A rescore with a newly active version whose worker died after its first chunk (its
    status still says running)."""
    assert run_worker() == 0  # the registrations' own verification and scoring
    fv = shifted_draft("recovery", urban=0.1, rural=0.1)
    now = timezone.now()
    FormulaVersion.objects.filter(status="active").update(status="retired", retired_at=now)
    FormulaVersion.objects.filter(pk=fv.pk).update(status="active", activated_at=now)
    assert selectors.formula_current() == fv
    run = ScoringRun.objects.create(kind="rescore", formula=fv, created_by="test")

    def die(n: int) -> None:
        raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        services.rescore_run(run, chunk_size=5, on_chunk=die)
    # A killed process records nothing more: put back what SIGKILL would have left.
    ScoringRun.objects.filter(pk=run.pk).update(status="running", finished_at=None, error="")
    run.refresh_from_db()
    return run


def test_a_run_whose_worker_died_is_queued_again_and_finishes(registry):  # noqa: F811
    run = _killed_midway(registry)
    assert run.attempts == 1 and run.done == 5
    later = timezone.now() + services.STALE_RUN_AFTER + timedelta(seconds=1)
    assert services.runs_recover_stale(now=later) == [run.pk]
    run.refresh_from_db()
    assert run.status == "pending"
    assert services.runs_recover_stale(now=later) == []  # a second sweep leaves it alone
    assert run_worker() == 0
    run.refresh_from_db()
    assert run.status == "done" and run.attempts == 2
    assert run.done == run.total == len(registry)
    assert Score.objects.filter(formula=run.formula).count() == len(registry)


def test_a_live_run_is_left_alone(registry):  # noqa: F811
    run = _killed_midway(registry)
    assert services.runs_recover_stale(now=timezone.now()) == []
    with pytest.raises(services.Conflict):
        services.run_retry(actor=SYSTEM, pk=run.pk)


def test_an_operator_may_retry_a_run_whose_worker_died(registry):  # noqa: F811
    run = _killed_midway(registry)
    ScoringRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - services.STALE_RUN_AFTER - timedelta(minutes=1))
    assert services.run_retry(actor=SYSTEM, pk=run.pk).status == "pending"


def test_a_run_that_keeps_losing_its_worker_is_given_up(registry):  # noqa: F811
    run = _killed_midway(registry)
    ScoringRun.objects.filter(pk=run.pk).update(attempts=services.MAX_RUN_ATTEMPTS)
    later = timezone.now() + services.STALE_RUN_AFTER + timedelta(seconds=1)
    assert services.runs_recover_stale(now=later) == []
    run.refresh_from_db()
    assert run.status == "failed" and "worker lost" in run.error


def test_a_worker_taken_for_dead_stops_writing_when_the_run_was_queued_again(
        registry):  # noqa: F811
    slow = _killed_midway(registry)  # holds attempt 1
    # The sweep gave the run to a new attempt while this worker was only slow.
    ScoringRun.objects.filter(pk=slow.pk).update(attempts=slow.attempts + 1, status="pending")
    before = Score.objects.filter(formula=slow.formula).count()
    with pytest.raises(services.RunTakenOver):
        services._run_progress(slow)
    services._run_finish(slow, error="late failure of the slow worker")
    run = ScoringRun.objects.get(pk=slow.pk)
    assert run.status == "pending" and run.error == ""  # the new attempt's state is kept
    assert Score.objects.filter(formula=run.formula).count() == before
