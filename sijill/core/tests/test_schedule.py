"""Periodic jobs: a due job runs once, at its slot; two racing schedulers run it once."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from sijill.core import schedule
from sijill.core.models import ScheduledJob
from sijill.testing.concurrency import at_once

calls: list[str] = []


@pytest.fixture
def job(monkeypatch: Any) -> Any:
    """A registry holding only the job test.tick (the apps' jobs set aside)."""
    calls.clear()
    monkeypatch.setattr(schedule, "_registry", {})
    monkeypatch.setattr(schedule, "_discovered", True)

    def tick() -> str:
        calls.append("tick")
        return "ticked"

    spec = schedule.PeriodicJob(name="test.tick", func=tick, every=timedelta(minutes=10))
    schedule.register(spec)
    return spec


@pytest.mark.django_db
def test_a_due_job_runs_once_and_is_planned_for_its_next_slot(job: Any) -> None:
    now = timezone.now()
    schedule.sync(now=now)
    assert schedule.run_due(now=now, inline=True)["test.tick"] == "ok"
    assert schedule.run_due(now=now + timedelta(minutes=1), inline=True) == {}
    row = ScheduledJob.objects.get(name="test.tick")
    assert calls == ["tick"]
    assert (row.runs, row.last_outcome, row.last_result, row.status) == (1, "ok", "ticked",
                                                                          "idle")
    assert row.next_run_at == now + timedelta(minutes=10)


@pytest.mark.django_db
def test_a_job_missed_for_hours_runs_once_then_at_its_next_slot(job: Any) -> None:
    now = timezone.now()
    schedule.sync(now=now)
    later = now + timedelta(hours=3, minutes=1)
    schedule.run_due(now=later, inline=True)
    assert calls == ["tick"]
    assert ScheduledJob.objects.get(name="test.tick").next_run_at == now + timedelta(
        hours=3, minutes=10)


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_does_not_stop_the_others(job: Any) -> None:
    def boom() -> None:
        raise RuntimeError("kaput")

    schedule.register(schedule.PeriodicJob(name="test.boom", func=boom,
                                           every=timedelta(minutes=5)))
    schedule.sync()
    done = schedule.run_due(inline=True)
    assert done == {"test.boom": "error", "test.tick": "ok"}
    row = ScheduledJob.objects.get(name="test.boom")
    assert (row.failures, row.status) == (1, "idle")
    assert "kaput" in row.last_error


@pytest.mark.django_db
def test_a_job_still_queued_is_not_started_again_before_its_timeout(job: Any,
                                                                    settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    now = timezone.now()
    schedule.sync(now=now)
    assert schedule.run_due(now=now)["test.tick"] == "enqueued"
    assert schedule.run_due(now=now + timedelta(minutes=20)) == {}  # queued, timeout 1 h
    assert schedule.run_due(now=now + timedelta(minutes=61))["test.tick"] == "enqueued"
    assert calls == []


@pytest.mark.django_db
def test_an_enqueued_job_runs_in_the_worker_and_records_its_outcome(job: Any,
                                                                   settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    schedule.sync()
    assert schedule.run_due()["test.tick"] == "enqueued"
    assert calls == ["tick"]
    assert ScheduledJob.objects.get(name="test.tick").last_outcome == "ok"


@pytest.mark.django_db
def test_a_daily_job_at_a_time_of_day_waits_for_it() -> None:
    spec = schedule.PeriodicJob(name="x", func=lambda: None, every=timedelta(days=1),
                                at=time(2, 0))
    now = timezone.localtime().replace(hour=3, minute=0, second=0, microsecond=0)
    first = timezone.localtime(spec.first_run(now))
    assert (first.hour, first.minute, first.date()) == (2, 0, (now + timedelta(days=1)).date())


def test_the_programs_register_the_recheck_and_the_webhook_sweeper() -> None:
    names = set(schedule.jobs())
    assert {"programs.eligibility_recheck", "programs.webhook_sweeper"} <= names


@pytest.mark.django_db
def test_manage_py_scheduler_once_runs_the_due_jobs(job: Any, capsys: Any) -> None:
    call_command("scheduler", "--once", "--inline")
    assert "test.tick: ok" in capsys.readouterr().out
    assert calls == ["tick"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_racing_run_a_due_job_once(job: Any) -> None:
    now = timezone.now()
    schedule.sync(now=now)

    def scheduler() -> None:
        for _ in range(5):
            schedule.run_due(now=now + timedelta(seconds=1), inline=True)

    at_once([scheduler] * 4)  # raises any scheduler's error
    assert calls == ["tick"]
    assert ScheduledJob.objects.get(name="test.tick").runs == 1
