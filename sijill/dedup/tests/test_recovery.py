"""A run whose worker died is detected, taken over by a new attempt and finished once: its
clusters are never stored twice (the database refuses a person twice in one run), an attempt
declared dead writes nothing, and a run that keeps dying is left failed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from sijill.accounts.actors import SYSTEM
from sijill.audit.models import AuditEntry
from sijill.dedup import services
from sijill.dedup.models import ClusterMember, DedupRun, DuplicateCluster
from sijill.dedup.tests.test_decisions import SAME
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db

DEAD_WORKER = "a-host-that-is-gone:4242"


@pytest.fixture
def enrolled_twice() -> None:
    person_create(**SAME, cnie=None, basis="birth_certificate", birth_certificate_ref="1980/1",
                  phone=None)
    person_create(**SAME, phone=None)
    for i in range(4):
        person_create(birth_date=date(1960 + i, 5, 6))


def crashed_run(*, attempt: int = 1, silent_for: timedelta = services.STALE_AFTER * 2
                ) -> DedupRun:
    """A run left 'running' by a worker that died mid-way (no sign of life since)."""
    run = services.run_start(actor=SYSTEM, enqueue=False)
    DedupRun.objects.filter(pk=run.pk).update(
        status="running", attempt=attempt, worker=DEAD_WORKER, stage="predict", progress=0.5,
        started_at=timezone.now() - silent_for, heartbeat_at=timezone.now() - silent_for)
    return DedupRun.objects.get(pk=run.pk)


def test_a_run_whose_worker_died_is_detected_and_retried(enrolled_twice: None) -> None:
    run = crashed_run()
    assert services.run_is_stale(run)
    assert services.runs_recover(actor=SYSTEM, enqueue=False) == [run.pk]
    run.refresh_from_db()
    assert run.status == "pending" and run.stage == "retry"
    assert AuditEntry.objects.filter(action="retry", entity_id=str(run.pk)).exists()

    done = services.run_execute(run.pk)
    assert done.status == "done" and done.attempt == 2 and done.worker == services.this_worker()
    assert done.clusters == 1
    assert ClusterMember.objects.filter(run=done).count() == 2


def test_a_dead_process_on_this_host_is_stale_at_once(enrolled_twice: None) -> None:
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    run = crashed_run(silent_for=timedelta(seconds=1))
    run.worker = f"{services.socket.gethostname()}:{child.stdout.strip()}"
    assert services.run_is_stale(run)
    run.worker = services.this_worker()  # alive, and seen a second ago
    assert not services.run_is_stale(run)


def test_a_live_run_is_left_alone(enrolled_twice: None) -> None:
    run = crashed_run(silent_for=timedelta(seconds=5))
    run.worker = services.this_worker()
    run.save()
    assert services.runs_recover(actor=SYSTEM, enqueue=False) == []
    assert services.run_execute(run.pk).status == "running"  # another worker is on it
    assert not DuplicateCluster.objects.filter(run=run).exists()


def test_a_stuck_run_does_not_block_a_new_sweep(enrolled_twice: None) -> None:
    dead = crashed_run()
    # The one-run-at-a-time constraint would refuse a new run; the dead one is recovered first
    # (back to pending), so starting another still conflicts with it, not with a ghost...
    with pytest.raises(services.Conflict):
        services.run_start(actor=SYSTEM, enqueue=False)
    dead.refresh_from_db()
    assert dead.status == "pending"
    # ... and once it has run, a new sweep starts.
    services.run_execute(dead.pk)
    assert services.run_start(actor=SYSTEM, enqueue=False).status == "pending"


def test_executing_a_stale_run_takes_it_over_and_a_second_call_changes_nothing(
        enrolled_twice: None) -> None:
    run = crashed_run()
    first = services.run_execute(run.pk)
    assert first.status == "done" and first.attempt == 2
    again = services.run_execute(run.pk)
    assert again.status == "done" and again.attempt == 2
    assert DuplicateCluster.objects.filter(run=run).count() == first.clusters == 1


def test_an_attempt_declared_dead_writes_nothing(enrolled_twice: None,
                                                 monkeypatch: Any) -> None:
    run = crashed_run()
    real = services.sources.register_frame

    def read_then_get_superseded() -> Any:
        frame = real()
        # Meanwhile this attempt was judged dead and another one took the run.
        DedupRun.objects.filter(pk=run.pk).update(attempt=7, worker="elsewhere:1")
        return frame

    monkeypatch.setattr(services.sources, "register_frame", read_then_get_superseded)
    result = services.run_execute(run.pk)
    assert result.status == "running" and result.attempt == 7
    assert not DuplicateCluster.objects.filter(run=run).exists()


def test_a_person_is_in_one_cluster_per_run(enrolled_twice: None) -> None:
    run = crashed_run()
    services.run_execute(run.pk)
    member = ClusterMember.objects.filter(run=run).first()
    assert member is not None
    other = DuplicateCluster.objects.create(run=run, band="low", size=2, min_probability=0.2,
                                            max_weight=1.0, pairs=[])
    with pytest.raises(IntegrityError), transaction.atomic():
        ClusterMember.objects.create(cluster=other, run=run, person=member.person,
                                     match_weight=1.0, match_probability=0.2)


def test_a_run_that_keeps_dying_is_left_failed(enrolled_twice: None) -> None:
    run = crashed_run(attempt=services.MAX_ATTEMPTS)
    assert services.runs_recover(actor=SYSTEM, enqueue=False) == []
    run.refresh_from_db()
    assert run.status == "failed" and "attempts" in run.error
    # An administrator may start it again.
    retried = services.run_retry(actor=SYSTEM, run_id=run.pk, enqueue=False)
    assert retried.status == "pending" and retried.attempt == 0
    assert services.run_execute(run.pk).status == "done"


def test_the_command_recovers_dead_runs(enrolled_twice: None,
                                        django_capture_on_commit_callbacks: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    run = crashed_run()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("dedup_run", "--recover", stdout=out)
    assert f'"retried": [{run.pk}]' in out.getvalue()
    assert len(callbacks) == 1  # enqueued again when the transaction commits
    run.refresh_from_db()
    assert run.status == "pending"
