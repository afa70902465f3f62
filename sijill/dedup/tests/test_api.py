"""The dedup API: who may start a sweep, follow it, read the queue, decide; the background task
runs a sweep on commit and records its progress."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import override_settings

from sijill.audit.models import AuditEntry
from sijill.dedup.models import DedupRun
from sijill.dedup.tests.test_decisions import SAME, cluster_of
from sijill.population.models import Person
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_only_an_administrator_starts_a_sweep(as_agent_a: Any, as_citizen: Any) -> None:
    assert as_agent_a.post("dedup/runs", {}).status_code == 403
    assert as_citizen.post("dedup/runs", {}).status_code == 403


@override_settings(TASKS=IMMEDIATE)
def test_a_sweep_runs_in_the_background_and_reports(as_admin: Any, as_agent_a: Any,
                                                    django_capture_on_commit_callbacks: Any
                                                    ) -> None:
    for i in range(3):
        person_create(birth_date=date(1970 + i, 1, 2))
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post("dedup/runs", {"threshold": 0.1})
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    run = DedupRun.objects.get(pk=run_id)
    assert run.status == "done" and run.progress == 1.0 and run.task_id
    report = as_agent_a.get(f"dedup/runs/{run_id}").json()
    assert report["status"] == "done"
    assert report["records"] == Person.objects.count()
    assert set(report["by_band"]) == {"high", "medium", "low"}
    assert as_agent_a.get("dedup/runs").json()[0]["id"] == run_id


def test_one_sweep_at_a_time(as_admin: Any) -> None:
    assert as_admin.post("dedup/runs", {}).status_code == 202
    second = as_admin.post("dedup/runs", {})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "conflict"


def test_threshold_is_a_probability(as_admin: Any) -> None:
    response = as_admin.post("dedup/runs", {"threshold": 1.5})
    assert response.status_code == 422


def test_queue_detail_and_decision(as_agent_a: Any) -> None:
    a = person_create(**SAME, cnie=None, basis="birth_certificate",
                      birth_certificate_ref="1980/5")
    b = person_create(**SAME)
    cluster = cluster_of(a, b)
    queue = as_agent_a.get("dedup/clusters").json()
    assert [c["id"] for c in queue] == [cluster.pk]
    assert {m["idcs"] for m in queue[0]["members"]} == {a.idcs, b.idcs}
    detail = as_agent_a.get(f"dedup/clusters/{cluster.pk}").json()
    assert {d["idcs"] for d in detail["details"]} == {a.idcs, b.idcs}
    assert AuditEntry.objects.filter(subject=a.idcs, action="read",
                                     purpose="duplicate review").exists()
    decided = as_agent_a.post(f"dedup/clusters/{cluster.pk}/decision",
                              {"decision": "merge", "reason": "same card holder"})
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "merged"
    assert decided.json()["survivor_idcs"] == b.idcs
    again = as_agent_a.post(f"dedup/clusters/{cluster.pk}/decision", {"decision": "distinct"})
    assert again.status_code == 409
    assert as_agent_a.get("dedup/clusters").json() == []
    assert len(as_agent_a.get("dedup/clusters", {"status": "merged"}).json()) == 1


def test_errors_are_translated(as_agent_a: Any) -> None:
    a, b = person_create(), person_create()
    cluster = cluster_of(a, b)
    as_agent_a.post(f"dedup/clusters/{cluster.pk}/decision", {"decision": "distinct"})
    again = as_agent_a.post(f"dedup/clusters/{cluster.pk}/decision", {"decision": "distinct"},
                            lang="fr")
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "Ce groupe a déjà été tranché."


def test_citizens_and_partners_see_no_queue(as_citizen: Any, as_partner: Any) -> None:
    assert as_citizen.get("dedup/clusters").status_code == 403
    assert as_partner.get("dedup/clusters").status_code == 403


def test_the_command_runs_a_sweep_here() -> None:
    import json
    from io import StringIO

    from django.core.management import call_command

    for i in range(3):
        person_create(birth_date=date(1960 + i, 5, 6))
    out = StringIO()
    call_command("dedup_run", "--threshold", "0.1", stdout=out)
    report = json.loads(out.getvalue())
    assert report["status"] == "done" and report["records"] == 3
    assert DedupRun.objects.get(pk=report["run"]).status == "done"
