"""Runs over the whole registry: a rescore that resumes after a failure, an impact report that
counts threshold crossings by region and milieu, and both through the real database worker."""

from __future__ import annotations

import random
from unittest import mock

import pytest
import yaml

from sijill.accounts.actors import SYSTEM
from sijill.programs.models import Program
from sijill.scoring import selectors, services
from sijill.scoring.engine import Verified, score_household
from sijill.scoring.engine.formula import DEFAULT_FORMULA_FILE
from sijill.scoring.models import FormulaVersion, Score, ScoringRun
from sijill.scoring.tests.factories import current_declaration, random_household, register
from sijill.testing.worker import run_worker


def shifted_draft(version: str, urban: float, rural: float) -> FormulaVersion:
    """A draft equal to the shipped formula with its milieu constants moved."""
    data = yaml.safe_load(DEFAULT_FORMULA_FILE.read_text(encoding="utf-8"))
    data["version"] = version
    data["milieux"]["urban"]["constant"] += urban
    data["milieux"]["rural"]["constant"] += rural
    return services.formula_import(actor=SYSTEM, text=yaml.safe_dump(data, allow_unicode=True))


@pytest.fixture
def registry(db):
    rng = random.Random(11)
    return [random_household(rng) for _ in range(12)]


@pytest.mark.django_db
def test_a_failed_rescore_resumes_from_what_is_already_scored(registry):
    fv = selectors.formula_current()
    run = ScoringRun.objects.create(kind="rescore", formula=fv, created_by="test")
    calls = []

    def fail_after_first_chunk(n):
        calls.append(n)
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        services.rescore_run(run, chunk_size=5, on_chunk=fail_after_first_chunk)
    run.refresh_from_db()
    assert run.status == "failed" and "worker killed" in run.error
    assert Score.objects.filter(formula=fv).count() == 5 == run.done
    services.rescore_run(run, chunk_size=5)
    run.refresh_from_db()
    assert run.status == "done" and run.done == run.total == len(registry)
    assert run.result["written"] == len(registry) - 5
    assert Score.objects.filter(formula=fv).count() == len(registry)
    # A third run writes nothing: everything is scored once.
    services.rescore_run(run, chunk_size=5)
    run.refresh_from_db()
    assert run.result["written"] == 0 and Score.objects.count() == len(registry)


@pytest.mark.django_db
def test_a_rescore_skips_drafts_and_scores_only_current_declarations(registry):
    draft = register(submit=False)
    fv = selectors.formula_current()
    run = ScoringRun.objects.create(kind="rescore", formula=fv, created_by="test")
    services.rescore_run(run)
    assert not Score.objects.filter(household=draft).exists()
    for h in registry:
        assert Score.objects.get(household=h).declaration == current_declaration(h)


@pytest.mark.django_db
def test_a_rescore_stops_when_its_formula_is_retired(registry):
    fv = selectors.formula_current()
    run = ScoringRun.objects.create(kind="rescore", formula=fv, created_by="test")
    FormulaVersion.objects.filter(pk=fv.pk).update(status="retired")
    services.rescore_run(run)
    run.refresh_from_db()
    assert run.status == "done" and run.result["stopped"] == "formula retired"


def expected_counts(households, before, after, value, compare):
    out = {"before": 0, "after": 0, "entering": 0, "leaving": 0}
    for h in households:
        data = services.engine_input(current_declaration(h))
        b = compare(score_household(before, data).value, value)
        a = compare(score_household(after, data).value, value)
        out["before"] += b
        out["after"] += a
        out["entering"] += a and not b
        out["leaving"] += b and not a
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("comparison", ["<", "<="])
def test_the_impact_report_counts_crossings_by_threshold_region_and_milieu(registry,
                                                                           comparison):
    # Against a baseline that makes rural households poorer than the shipped formula does, so
    # that some are eligible before and leave under the draft (and urban ones enter).
    baseline = shifted_draft("impact-base", urban=0.0, rural=-1.0)
    draft = shifted_draft("impact-test", urban=-0.6, rural=+0.5)
    run = services.impact_start(actor=SYSTEM, formula_pk=draft.pk, comparison=comparison,
                                baseline_pk=baseline.pk)
    services.impact_run(run, chunk_size=5)
    run.refresh_from_db()
    report = run.result
    assert run.status == "done" and run.done == len(registry)
    assert report["households"] == len(registry)
    assert report["baseline"] == baseline.label and report["comparison"] == comparison
    comparisons = {"<": lambda s, t: s < t, "<=": lambda s, t: s <= t}
    before, after = selectors.formula_of(baseline), selectors.formula_of(draft)
    for t in report["thresholds"]:
        # Each program's threshold with its own comparison (the run's is for given ones).
        compare = comparisons[t.get("comparison") or comparison]
        want = expected_counts(registry, before, after, t["value"], compare)
        assert (t["eligible_before"], t["eligible_after"], t["entering"], t["leaving"]) == (
            want["before"], want["after"], want["entering"], want["leaving"])
        for axis in ("by_region", "by_milieu", "by_region_and_milieu"):
            assert sum(g["households"] for g in t[axis]) == len(registry)
            assert sum(g["entering"] for g in t[axis]) == t["entering"]
            assert sum(g["leaving"] for g in t[axis]) == t["leaving"]
        by_milieu = {g["milieu"]: g for g in t["by_milieu"]}
        assert by_milieu.get("urban", {}).get("leaving", 0) == 0  # urban only went down
        assert by_milieu.get("rural", {}).get("entering", 0) == 0  # rural only went up
    active = Program.objects.filter(status="active").order_by("code")
    assert [(t["program"], t["value"], t["comparison"]) for t in report["thresholds"]] == [
        (p.code, p.threshold, p.comparison) for p in active]
    assert len(report["thresholds"]) >= 2
    # Households crossed in both directions somewhere (urban went down, rural up).
    assert sum(t["entering"] for t in report["thresholds"]) > 0
    assert sum(t["leaving"] for t in report["thresholds"]) > 0
    # Aggregates only: no household identifier in the report.
    text = str(report)
    assert not any(h.reference in text for h in registry)


@pytest.mark.django_db
def test_before_any_program_the_report_counts_the_formulas_published_thresholds(registry):
    Program.objects.update(status="draft")
    draft = shifted_draft("impact-no-programs", urban=-0.1, rural=0.1)
    run = services.impact_start(actor=SYSTEM, formula_pk=draft.pk)
    services.impact_run(run)
    run.refresh_from_db()
    assert [t["value"] for t in run.result["thresholds"]] == [9.3264284, 9.743001]


@pytest.mark.django_db
def test_the_impact_report_counts_verified_values_over_declared_ones(registry):
    """A registry-verified car changes the count as the rescore after activation will."""
    fv = selectors.formula_current()
    formula = selectors.formula_of(fv)
    urban = next(h for h in registry
                 if services.engine_input(current_declaration(h)).milieu.value == "urban")
    data = services.engine_input(current_declaration(urban))
    declared = score_household(formula, data).value
    threshold = [{"program": "p", "name": "P", "value": declared + 1e-9}]

    def eligible_after() -> int:
        run = services.impact_start(actor=SYSTEM, formula_pk=fv.pk, thresholds=threshold)
        services.impact_run(run)
        run.refresh_from_db()
        return run.result["thresholds"][0]["eligible_after"]

    counted = eligible_after()
    from sijill.scoring.verified import DECLARED_ONLY, VerifiedBasis

    declaration_id = current_declaration(urban).pk
    more_cars = VerifiedBasis(household={"cars": Verified(data.household.cars + 2, "vehicles")},
                              members={}, basis=1, unverified=())
    with mock.patch.object(services, "verified_for", lambda ids: {
            i: (more_cars if i == declaration_id else DECLARED_ONLY) for i in ids}):
        assert eligible_after() == counted - 1  # its verified cars lift it over the threshold


@pytest.mark.django_db
def test_the_comparison_is_explicit_at_the_threshold(registry):
    fv = selectors.formula_current()
    exact = score_household(selectors.formula_of(fv),
                            services.engine_input(current_declaration(registry[0]))).value
    results = {}
    for comparison in ("<", "<="):
        run = services.impact_start(actor=SYSTEM, formula_pk=fv.pk, comparison=comparison,
                                    thresholds=[{"program": "p", "name": "P", "value": exact}])
        services.impact_run(run)
        run.refresh_from_db()
        results[comparison] = run.result["thresholds"][0]
    assert results["<="]["eligible_after"] == results["<"]["eligible_after"] + 1
    assert results["<"]["entering"] == results["<"]["leaving"] == 0  # same formula


@pytest.mark.django_db
def test_analysts_run_and_read_impact_reports(as_analyst, as_citizen, as_agent_a, registry):
    draft = shifted_draft("api-impact", urban=-0.2, rural=0.0)
    r = as_analyst.post(f"scoring/formulas/{draft.pk}/impact", {"comparison": "<="})
    assert r.status_code == 202, r.content
    run_id = r.json()["id"]
    services.impact_run(ScoringRun.objects.get(pk=run_id))
    r = as_analyst.get(f"scoring/runs/{run_id}")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "done" and body["progress"] == 1.0
    assert body["result"]["households"] == len(registry)
    assert as_analyst.get("scoring/runs").json()[0]["id"] == run_id
    bad = as_analyst.post(f"scoring/formulas/{draft.pk}/impact", {"comparison": ">"})
    assert bad.status_code == 422
    for client in (as_citizen, as_agent_a):
        assert client.get(f"scoring/runs/{run_id}").status_code == 403
        assert client.post(f"scoring/formulas/{draft.pk}/impact", {}).status_code == 403


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_activation_rescores_everyone_through_the_database_worker():
    rng = random.Random(3)
    households = [random_household(rng) for _ in range(6)]
    draft = shifted_draft("worker-test", urban=0.1, rural=0.1)
    run = services.formula_activate(actor=SYSTEM, pk=draft.pk)  # enqueued on commit
    impact = services.impact_start(actor=SYSTEM, formula_pk=draft.pk)
    assert run_worker() == 0
    run.refresh_from_db()
    assert run.status == "done", run.error
    assert run.done == run.total == len(households)
    assert Score.objects.filter(formula=draft).count() == len(households)
    impact.refresh_from_db()
    assert impact.status == "done" and impact.result["households"] == len(households)
    # The per-household scoring tasks queued on submission ran too (with the formula active
    # then), and running the worker again does nothing new.
    count = Score.objects.count()
    assert run_worker() == 0
    assert Score.objects.count() == count


@pytest.mark.django_db
def test_a_failed_rescore_is_queued_again_by_an_admin(as_admin, as_analyst,
                                                      django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    fv = selectors.formula_current()
    run = ScoringRun.objects.create(kind="rescore", formula=fv, created_by="test",
                                    status="failed", error="worker killed")
    assert as_analyst.post(f"scoring/runs/{run.pk}/retry").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        r = as_admin.post(f"scoring/runs/{run.pk}/retry")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert DBTaskResult.objects.filter(task_path__endswith="rescore_task").count() == 1
    assert as_admin.post(f"scoring/runs/{run.pk}/retry").status_code == 409
