"""Real workers: a `manage.py db_worker` killed in the middle of a batch and restarted loses and
duplicates no evidence (PostgreSQL); the Redis-backed queue runs a verification once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from sijill.scoring.models import Score
from sijill.verification import services
from sijill.verification.connectors import CONNECTORS
from sijill.verification.models import Evidence, PartnerCheck, Verification
from sijill.verification.tests.conftest import family, truthful

MANAGE = str(Path(__file__).resolve().parents[3] / "manage.py")


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, MANAGE, "db_worker", "--queue-name", "*", "--no-reload",
         "--interval", "0.2"],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def _wait(predicate: Any, timeout: float, what: str, log: Path | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    # What each verification and partner check was doing, to tell a stuck check from a slow one.
    checks = list(PartnerCheck.objects.values_list(
        "verification_id", "partner", "status", "attempts", "next_attempt_at"))
    verifications = list(Verification.objects.values_list("pk", "status"))
    raise AssertionError(f"timed out waiting for {what}\nverifications: {verifications}\n"
                         f"checks: {checks}\n{tail}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_and_restarted_loses_and_duplicates_no_evidence(
        simulator, records, tmp_path):
    households = []
    for _ in range(10):
        household, head, _ = family()  # commits: the verify tasks are queued in the database
        truthful(records, head)
        households.append(household)
    simulator.control(latency_ms=250)
    db = connection.settings_dict
    env = {**os.environ, "SIJILL_PARTNER_URL": simulator.url,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
                           f"{db['PORT'] or 5432}/{db['NAME']}"}
    total = len(households) * len(CONNECTORS)
    log = tmp_path / "worker.log"
    worker = _worker(env, log)
    try:
        # Generous limits: the worker also runs the other apps' tasks these households queue
        # (eligibility decisions, notices), on a machine that may be busy.
        _wait(lambda: Evidence.objects.count() >= 2 * len(CONNECTORS), 180,
              "a first household", log)
        os.killpg(worker.pid, signal.SIGKILL)  # no chance to finish anything
        worker.wait(timeout=10)
        killed_at = Evidence.objects.count()
        assert 0 < killed_at < total, "the kill should land in the middle of the batch"
        # Restart: the sweeper queues again what the dead worker held (its task stays
        # "running" in the queue), and a new worker takes everything.
        assert services.verification_sweep(stale_seconds=0) > 0
        worker = _worker(env, log)
        _wait(lambda: Verification.objects.filter(status="concluded").count()
              == len(households), 300, "every verification concluded", log)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=10)
    answers = Evidence.objects.filter(outcome="answer")
    assert answers.count() == total, log.read_text()[-2000:]
    assert not Evidence.objects.filter(outcome="error").exists()
    assert PartnerCheck.objects.filter(status="answered").count() == total
    for household in households:
        assert Score.objects.filter(household=household).count() == 1
        household.refresh_from_db()
        # The worker also sends the index notice (notifications) once scored.
        assert household.status in ("scored", "notified")


@pytest.mark.django_db
def test_the_redis_queue_runs_a_verification(simulator, records, settings,
                                             django_capture_on_commit_callbacks):
    import redis

    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("CI"):  # .ci/run starts Redis: its absence there is a failure
            pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({exc})")
        pytest.skip(f"Redis is not reachable on 127.0.0.1:6379 ({exc})")
    import django_rq
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    settings.RQ_QUEUES = {"default": {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend",
                                  "QUEUES": ["default"]}}
    queue = django_rq.get_queue("default")
    queue.empty()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            household, head, _ = family()
        truthful(records, head)
        queued = [job.func_name for job in queue.jobs]
        assert sum(name.endswith("verify_household_task") for name in queued) == 1
        assert len(ScheduledJobRegistry(queue=queue)) == 1
        from django_tasks_rq.backend import Job

        # What `manage.py rqworker --job-class django_tasks_rq.backend.Job` runs, in-process.
        worker = django_rq.get_worker("default", worker_class=SimpleWorker, job_class=Job)
        worker.work(burst=True)
        household.refresh_from_db()
        assert household.status in ("scored", "notified")
        verification = Verification.objects.get(household=household)
        assert verification.status == "concluded"
        assert Evidence.objects.filter(household=household, outcome="answer").count() == len(
            CONNECTORS)
    finally:
        queue.empty()
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
