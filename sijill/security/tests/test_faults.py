"""Faults on PostgreSQL: the database connection dropped mid-request, many clients registering
conflicting households at once, and the database worker killed at random points of a rescore.

In each case: nothing lost, nothing applied twice, a clean error (the one error shape) to the
caller. Bounded: a few seconds each, no sleep longer than a poll interval. (The verification
and notification engineers kill their own tasks in their apps' tests.)
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from sijill.audit.models import AuditEntry
from sijill.audit.verify import audit_verify
from sijill.conftest import ApiClient
from sijill.households.models import DeclarationVersion, Household, Membership
from sijill.households.tests.factories import registration_payload
from sijill.testing import factories
from sijill.testing.concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[3]


def _terminate(pid: int) -> None:
    """Kill one backend from another connection, as a database restart or a network cut would."""
    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432,
                         user=s["USER"], password=s["PASSWORD"] or None, dbname=s["NAME"],
                         autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _bearer(role: str = "admin") -> ApiClient:
    token = factories.token_for(role=role, name="fault tests", purpose="fault tests")
    return ApiClient(Client(), {"Authorization": f"Bearer {token}"})


def _cut_connection_before(target: str) -> Any:
    """Patch `target` so that, when it is called, this request's connection is killed first."""
    module, name = target.rsplit(".", 1)
    original = getattr(__import__(module, fromlist=[name]), name)

    def cut(*args: Any, **kwargs: Any) -> Any:
        _terminate(connection.connection.info.backend_pid)
        return original(*args, **kwargs)

    return mock.patch(target, side_effect=cut)


# --- the connection dropped mid-request -----------------------------------------------------


def test_a_connection_dropped_mid_registration_is_a_clean_503_and_nothing_is_half_written(
        centre_a: Any) -> None:
    client = _bearer()
    head, child = factories.person_create(), factories.person_create()
    body = registration_payload([(head, "head"), (child, "child")])
    entries_before = AuditEntry.objects.count()
    # The household, its version, members and memberships are written; then, just before the
    # audit entry, the connection goes.
    with _cut_connection_before("sijill.households.services.audit_record"):
        response = client.post("households", body)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable" and error["message"]
    # Nothing of the registration survived (the server rolled the transaction back).
    assert Household.objects.count() == 0
    assert DeclarationVersion.objects.count() == 0
    assert Membership.objects.filter(person__in=[head, child]).count() == 0
    assert AuditEntry.objects.count() == entries_before
    # The next request gets a fresh connection and succeeds.
    assert client.post("households", body).status_code == 201
    assert Household.objects.count() == 1
    assert list(audit_verify()) == []


def test_a_connection_dropped_during_a_read_is_a_clean_503(centre_a: Any) -> None:
    person = factories.person_create()
    client = _bearer()
    with _cut_connection_before("sijill.population.access.audit_record"):
        response = client.get(f"persons/{person.idcs}")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert client.get(f"persons/{person.idcs}").status_code == 200


# --- many clients registering conflicting households at once ------------------------------


def test_many_clients_registering_overlapping_households_at_once_never_share_a_person(
        agent_a: Any) -> None:
    """Eight clients, each naming its own head and two people its neighbours name too (a ring):
    every answer is a success or a clean conflict, no one ends in two households, and the
    losers left no row behind."""
    n = 8
    shared = [factories.person_create() for _ in range(n)]
    heads = [factories.person_create() for _ in range(n)]
    bodies = [registration_payload([(heads[i], "head"), (shared[i], "sibling"),
                                    (shared[(i + 1) % n], "other_relative")])
              for i in range(n)]
    clients = []
    for _ in range(n):
        client = Client()
        client.force_login(agent_a)
        clients.append(ApiClient(client))
    results = at_once([lambda c=c, b=b: c.post("households", b)
                       for c, b in zip(clients, bodies, strict=True)])
    codes = [r.status_code for r in results]
    assert set(codes) <= {201, 409}, [r.json() for r in results]
    assert 201 in codes
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "conflict"
    winners = [i for i, c in enumerate(codes) if c == 201]
    # No two winners are neighbours on the ring: they would share a person.
    assert all((i + 1) % n not in winners for i in winners)
    assert Household.objects.count() == len(winners)
    for person in shared + heads:
        assert Membership.objects.filter(person=person, end_date__isnull=True).count() <= 1
    losing_heads = [heads[i] for i in range(n) if i not in winners]
    assert not Membership.objects.filter(person__in=losing_heads).exists()
    assert list(audit_verify()) == []


# --- the worker killed at random points of a rescore --------------------------------------

_WORKER = """
import os, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sijill.settings")
django.setup()
from django.core.management import call_command
from sijill.scoring import services
# Small chunks and a short pause per written chunk: a run of many steps to be killed in.
services.rescore_run.__kwdefaults__["chunk_size"] = 2
_write = services.scores_write
def slow_write(rows):
    time.sleep(0.15)
    return _write(rows)
services.scores_write = slow_write
call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="*",
             verbosity=0)
"""


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


def _worker() -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": _database_url(),
           "SIJILL_TASK_BACKEND": "django_tasks_db.DatabaseBackend"}
    return subprocess.Popen([sys.executable, "-c", _WORKER], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_a_worker_killed_at_random_points_of_a_rescore_loses_no_score_and_writes_none_twice(
        ) -> None:
    from sijill.accounts.actors import SYSTEM
    from sijill.scoring import services as scoring
    from sijill.scoring.models import Score, ScoringRun
    from sijill.scoring.tests.factories import random_household
    from sijill.scoring.tests.test_runs import shifted_draft
    from sijill.testing.worker import run_worker

    rng = random.Random(10)
    households = [random_household(rng) for _ in range(14)]
    assert run_worker() == 0  # the per-household scoring queued on submission
    draft = shifted_draft("fault-test", urban=0.05, rural=0.05)
    run = scoring.formula_activate(actor=SYSTEM, pk=draft.pk)  # rescore_task queued on commit

    def run_state() -> tuple[str, int]:
        return ScoringRun.objects.filter(pk=run.pk).values_list("status", "done").get()

    kills = 0
    for _ in range(scoring.MAX_RUN_ATTEMPTS - 1):  # the last attempt is left to finish
        worker = _worker()
        try:
            started = _wait_for(lambda: run_state()[0] in ("running", "done"), timeout=60)
            assert started, worker.stderr.read().decode()[-2000:] if worker.poll() else ""
            if run_state()[0] == "done":
                break
            time.sleep(rng.uniform(0.0, 0.6))  # a random point of the run
            worker.send_signal(signal.SIGKILL)
            kills += 1
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=30)
        if run_state()[0] == "done":
            break
        # django-tasks does not retry and the dead worker's task stays "running": the periodic
        # sweep of stale runs queues it again once its heartbeat is old enough.
        later = timezone.now() + scoring.STALE_RUN_AFTER + timedelta(seconds=1)
        assert scoring.runs_recover_stale(now=later) == [run.pk]
    assert kills >= 1
    assert run_worker() == 0  # restarted: runs what is queued to the end
    run.refresh_from_db()
    assert run.status == "done", run.error
    scores = Score.objects.filter(formula=draft)
    current = [h.versions.get(version=h.current_version).pk
               for h in Household.objects.filter(pk__in=[h.pk for h in households])]
    # Every household scored with the new version (nothing lost), once per declaration and
    # basis (nothing twice), and the run's figures agree.
    assert sorted(scores.values_list("declaration_id", flat=True)) == sorted(current)
    assert run.done == run.total == len(households)
    assert list(audit_verify()) == []

