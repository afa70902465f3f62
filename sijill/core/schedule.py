"""Periodic jobs: a registry, and the claims that make a due job run once.

django-tasks has no periodic jobs; this module and `manage.py scheduler` provide them.

Register a plain function (no arguments; its return value is kept as the run's result) in a
module named `schedules.py` of your app (found like admin.py) or in settings:

    # sijill/<app>/schedules.py
    from datetime import timedelta
    from sijill.core.schedule import periodic

    @periodic("cases.escalate_complaints", every=timedelta(hours=1))
    def escalate_complaints() -> int:
        ...

    # settings.py (alternative): name -> dotted path and period
    SIJILL_PERIODIC_JOBS = {"notifications.retry": {"callable": "sijill.notifications.jobs.retry",
                                                    "every": 300}}

`at=datetime.time(2, 0)` anchors the runs to a time of day (in TIME_ZONE), e.g. a daily job at
02:00. By default a job is enqueued as the task `sijill.core.tasks.run_scheduled_job_task` and
runs in the worker; `inline=True` runs it in the scheduler process itself (only for quick jobs).

A run is claimed by moving the job's `next_run_at` forward in its locked row
(`select_for_update(skip_locked=True)` on PostgreSQL) with a compare-and-set on the old value,
so two schedulers never start the same run. Missed runs (scheduler stopped) are not caught up:
the job runs once, then at its next slot. A job still queued or running is not started again
until its `timeout` (default: its period, at least one hour) has passed. A job must still be
safe to run twice (a crashed worker, a timeout): that is the rule for every task here.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules, import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: Callable[[], Any]
    every: timedelta
    at: time | None = None
    inline: bool = False
    timeout: timedelta | None = None

    @property
    def stale_after(self) -> timedelta:
        return self.timeout or max(self.every, timedelta(hours=1))

    def first_run(self, now: datetime) -> datetime:
        if self.at is None:
            return now
        local = timezone.localtime(now)
        slot = local.replace(hour=self.at.hour, minute=self.at.minute, second=self.at.second,
                             microsecond=0)
        while slot <= local:
            slot += timedelta(days=1)
        return slot

    def next_after(self, planned: datetime, now: datetime) -> datetime:
        """The first slot after `now` in the series planned, planned + every, ..."""
        steps = max(1, math.floor((now - planned) / self.every) + 1)
        return planned + steps * self.every


_registry: dict[str, PeriodicJob] = {}
_discovered = False


def periodic(name: str, *, every: timedelta, at: time | None = None, inline: bool = False,
             timeout: timedelta | None = None) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register the decorated function as the periodic job `name`."""
    if every <= timedelta(0):
        raise ValueError("every must be positive")

    def decorate(func: Callable[[], Any]) -> Callable[[], Any]:
        register(PeriodicJob(name=name, func=func, every=every, at=at, inline=inline,
                             timeout=timeout))
        return func

    return decorate


def register(job: PeriodicJob) -> None:
    existing = _registry.get(job.name)
    if existing is not None and existing.func is not job.func:
        raise ValueError(f"periodic job {job.name!r} is registered twice")
    _registry[job.name] = job


def unregister(name: str) -> None:
    _registry.pop(name, None)


def _from_settings() -> None:
    for name, spec in getattr(settings, "SIJILL_PERIODIC_JOBS", {}).items():
        every = spec["every"]
        at = spec.get("at")
        register(PeriodicJob(
            name=name, func=import_string(spec["callable"]),
            every=every if isinstance(every, timedelta) else timedelta(seconds=every),
            at=time.fromisoformat(at) if isinstance(at, str) else at,
            inline=spec.get("inline", False), timeout=spec.get("timeout")))


def jobs() -> dict[str, PeriodicJob]:
    """Every registered job (apps' schedules.py modules and settings, loaded once)."""
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("schedules")
        _from_settings()
    return dict(_registry)


def sync(*, now: datetime | None = None) -> None:
    """Create the rows of new jobs; follow a changed period."""
    from sijill.core.models import ScheduledJob

    now = now or timezone.now()
    for job in jobs().values():
        every = int(job.every.total_seconds())
        row, created = ScheduledJob.objects.get_or_create(
            name=job.name, defaults={"every_seconds": every, "next_run_at": job.first_run(now)})
        if not created and row.every_seconds != every:
            ScheduledJob.objects.filter(pk=row.pk).update(
                every_seconds=every, next_run_at=min(row.next_run_at, now + job.every))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def claim_due(*, now: datetime | None = None, worker: str = "") -> list[str]:
    """Claim every due job (at most once each, whatever other schedulers do); their names."""
    from sijill.core.models import ScheduledJob

    registered = jobs()
    now = now or timezone.now()
    claimed: list[str] = []
    with transaction.atomic():
        due = ScheduledJob.objects.filter(enabled=True, next_run_at__lte=now,
                                          name__in=list(registered)).order_by("next_run_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for row in due:
            job = registered[row.name]
            busy = row.status != ScheduledJob.Status.IDLE
            if busy and row.claimed_at and row.claimed_at > now - job.stale_after:
                continue  # the previous run is still queued or running
            moved = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=job.next_after(row.next_run_at, now),
                status=ScheduledJob.Status.QUEUED, claimed_at=now, claimed_by=worker)
            if moved == 1:
                claimed.append(row.name)
    return claimed


def execute(name: str) -> str:
    """Run one job now and record its outcome; returns "ok" or "error"."""
    from sijill.core.models import ScheduledJob

    job = jobs().get(name)
    started = timezone.now()
    ScheduledJob.objects.filter(name=name).update(status=ScheduledJob.Status.RUNNING,
                                                  last_started_at=started)
    outcome, result, error = ScheduledJob.Outcome.OK, "", ""
    try:
        if job is None:
            raise LookupError(f"no periodic job {name!r} is registered")
        value = job.func()
        result = "" if value is None else str(value)
    except Exception:  # a job's failure is recorded, never kills the scheduler or worker
        outcome, error = ScheduledJob.Outcome.ERROR, traceback.format_exc()
        logger.exception("periodic job %s failed", name)
    ScheduledJob.objects.filter(name=name).update(
        status=ScheduledJob.Status.IDLE, last_finished_at=timezone.now(),
        last_outcome=outcome, last_result=result[:300], last_error=error[-5000:],
        runs=F("runs") + 1,
        failures=F("failures") + (1 if outcome == ScheduledJob.Outcome.ERROR else 0))
    return str(outcome)


def run_due(*, now: datetime | None = None, inline: bool = False,
            worker: str = "") -> dict[str, str]:
    """Claim the due jobs and run them (inline) or enqueue them; name → what happened."""
    from sijill.core.models import ScheduledJob
    from sijill.core.tasks import run_scheduled_job_task

    done: dict[str, str] = {}
    registered = jobs()
    for name in claim_due(now=now, worker=worker):
        if inline or registered[name].inline:
            done[name] = execute(name)
            continue
        try:
            run_scheduled_job_task.enqueue(name=name)
            done[name] = "enqueued"
        except Exception:  # the queue is down: record it, the job is retried at its next slot
            logger.exception("periodic job %s could not be enqueued", name)
            ScheduledJob.objects.filter(name=name).update(
                status=ScheduledJob.Status.IDLE, last_outcome=ScheduledJob.Outcome.ERROR,
                last_error=traceback.format_exc()[-5000:], failures=F("failures") + 1)
            done[name] = "error"
    return done
