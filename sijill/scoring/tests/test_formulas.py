"""Formula versions: the shipped default, YAML import (422 naming the field) and export,
activation (one active version, a rescore queued on commit), who may manage them."""

from __future__ import annotations

import pytest
import yaml
from django.db import IntegrityError, transaction
from django.utils import timezone

from sijill.audit.models import AuditEntry
from sijill.scoring import selectors
from sijill.scoring.engine import Formula, FormulaStatus, default_formula
from sijill.scoring.engine.formula import DEFAULT_FORMULA_FILE
from sijill.scoring.models import FormulaVersion, ScoringRun

pytestmark = pytest.mark.django_db


def draft_yaml(version: str = "1.1.0-test", **changes) -> str:
    data = yaml.safe_load(DEFAULT_FORMULA_FILE.read_text(encoding="utf-8"))
    data["version"] = version
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_the_shipped_formula_is_installed_active_and_provisional():
    fv = FormulaVersion.objects.get(identifier="ma-rsu-2021", version="1.0.0")
    assert fv.status == "active" and fv.activated_at is not None
    assert fv.provisional is True
    assert fv.provenance["verified_against_official_text"] is False
    assert Formula.from_yaml(fv.definition) == default_formula()
    assert selectors.formula_current() == fv


def test_at_most_one_version_of_a_formula_is_active():
    with pytest.raises(IntegrityError), transaction.atomic():
        FormulaVersion.objects.create(identifier="ma-rsu-2021", version="9", name="x",
                                      status="active", activated_at=timezone.now(),
                                      definition=DEFAULT_FORMULA_FILE.read_text(),
                                      created_by="test")


def test_an_analyst_imports_a_formula_as_a_draft(as_analyst):
    r = as_analyst.post("scoring/formulas", {"yaml": draft_yaml(status="active")})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "draft" and body["version"] == "1.1.0-test"
    assert body["provisional"] is True
    assert body["variables"] == {"urban": 35, "rural": 28}
    assert [p["key"] for p in body["provisional_variables"]] == ["owns_car"]
    assert [t["value"] for t in body["thresholds"]] == [9.3264284, 9.743001]
    assert AuditEntry.objects.filter(action="import", entity="formula_version").exists()


def test_yaml_that_cannot_be_read_is_refused_with_its_line(as_analyst):
    r = as_analyst.post("scoring/formulas", {"yaml": "identifier: x\nname: [unclosed\n"})
    assert r.status_code == 422
    field = r.json()["error"]["fields"][0]
    assert field["field"] == "yaml" and field["code"] == "yaml_syntax"
    assert "line" in field["message"]


@pytest.mark.parametrize(("mutate", "field", "code"), [
    (lambda d: d.pop("identifier"), "identifier", "required"),
    (lambda d: d["provenance"].pop("source"), "provenance.source", "required"),
    (lambda d: d["milieux"]["urban"]["variables"][2].pop("coefficient"),
     "milieux.urban.variables.2.coefficient", "required"),
    (lambda d: d["milieux"]["rural"]["variables"][0].update(coefficient="high"),
     "milieux.rural.variables.0.coefficient", "not_a_number"),
    (lambda d: d["milieux"]["urban"]["variables"][0].update(derivation="magic"),
     "milieux.urban.variables.0.derivation", "unknown_derivation"),
    (lambda d: d["milieux"]["rural"]["variables"][10].pop("assumption"),
     "milieux.rural.variables.10.assumption", "required"),
    (lambda d: d["milieux"]["urban"]["region_terms"].update({"04": "x"}),
     "milieux.urban.region_terms.04", "not_a_number"),
    (lambda d: d["milieux"].update(suburban=d["milieux"]["urban"]), "milieux.suburban",
     "invalid_choice"),
    (lambda d: d["milieux"].pop("rural"), "milieux.rural", "required"),
    (lambda d: d["regions"][3].update(code=4), "regions.3.code", "not_text"),
    (lambda d: d["milieux"]["urban"]["region_terms"].update(
        {4: d["milieux"]["urban"]["region_terms"].pop("04")}),
     "milieux.urban.region_terms.4", "not_text"),
    (lambda d: [d["regions"].pop(), *(m["region_terms"].pop("12")
                                      for m in d["milieux"].values())],
     "regions", "missing_regions"),
    (lambda d: d.update(effective_date="soon"), "effective_date", "invalid_date"),
    (lambda d: d["thresholds"][0].pop("program"), "thresholds.0.program", "required"),
    (lambda d: d["milieux"]["urban"]["variables"][1].update(label={"ar": "x"}),
     "milieux.urban.variables.1.label.fr", "required"),
])
def test_an_invalid_formula_is_refused_naming_the_field(as_analyst, mutate, field, code):
    data = yaml.safe_load(draft_yaml())
    mutate(data)
    r = as_analyst.post("scoring/formulas",
                        {"yaml": yaml.safe_dump(data, allow_unicode=True, sort_keys=False)})
    assert r.status_code == 422, r.content
    error = r.json()["error"]["fields"][0]
    assert (error["field"], error["code"]) == (field, code)


def test_a_region_term_missing_is_refused_by_the_engine_validation(as_analyst):
    data = yaml.safe_load(draft_yaml())
    del data["milieux"]["urban"]["region_terms"]["12"]
    r = as_analyst.post("scoring/formulas", {"yaml": yaml.safe_dump(data, allow_unicode=True)})
    assert r.status_code == 422
    assert "region terms" in r.json()["error"]["fields"][0]["message"]


def test_an_existing_version_cannot_be_imported_again(as_analyst):
    r = as_analyst.post("scoring/formulas", {"yaml": draft_yaml(version="1.0.0")})
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "version"


def test_export_round_trips_through_import(as_analyst):
    fv = FormulaVersion.objects.get(identifier="ma-rsu-2021", version="1.0.0")
    r = as_analyst.get(f"scoring/formulas/{fv.pk}/export")
    assert r.status_code == 200
    text = r.json()["yaml"]
    exported = Formula.from_yaml(text)
    assert exported.status is FormulaStatus.ACTIVE
    assert exported == default_formula()
    data = yaml.safe_load(text)
    data["version"] = "1.0.1"
    r = as_analyst.post("scoring/formulas", {"yaml": yaml.safe_dump(data, allow_unicode=True)})
    assert r.status_code == 201
    copy = FormulaVersion.objects.get(pk=r.json()["id"])
    assert selectors.formula_of(copy).milieux == default_formula().milieux


def test_formula_versions_are_listed_for_analysts_and_admins_only(as_analyst, as_admin,
                                                                 as_agent_a, as_citizen,
                                                                 as_program, as_anonymous):
    assert as_analyst.get("scoring/formulas").status_code == 200
    assert as_admin.get("scoring/formulas").status_code == 200
    for client in (as_agent_a, as_citizen, as_program):
        assert client.get("scoring/formulas").status_code == 403
        assert client.post("scoring/formulas", {"yaml": draft_yaml()}).status_code == 403
    assert as_anonymous.get("scoring/formulas").status_code == 401


def test_activation_retires_the_active_version_and_queues_a_rescore(
        as_admin, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    old = selectors.formula_current()
    new = as_admin.post("scoring/formulas", {"yaml": draft_yaml()}).json()
    with django_capture_on_commit_callbacks(execute=True):
        r = as_admin.post(f"scoring/formulas/{new['id']}/activate")
    assert r.status_code == 202, r.content
    run = r.json()
    assert run["kind"] == "rescore" and run["formula"] == "ma-rsu-2021@1.1.0-test"
    assert run["baseline"] == old.label
    old.refresh_from_db()
    assert old.status == "retired" and old.retired_at is not None
    assert selectors.formula_current().pk == new["id"]
    queued = DBTaskResult.objects.get(task_path__endswith="rescore_task")
    assert queued.args_kwargs["kwargs"] == {"run_id": run["id"]}
    assert ScoringRun.objects.get(pk=run["id"]).task_id == str(queued.id)
    # Activating it again is a conflict.
    assert as_admin.post(f"scoring/formulas/{new['id']}/activate").status_code == 409


def test_a_version_that_cannot_score_every_household_is_never_activated(as_admin):
    """A version stored before coverage was checked (here written directly) must not retire the
    working formula and then fail on every rural household."""
    data = yaml.safe_load(draft_yaml(version="9.9.9-urban-only"))
    del data["milieux"]["rural"]
    old = selectors.formula_current()
    fv = FormulaVersion.objects.create(
        identifier="ma-rsu-2021", version="9.9.9-urban-only", name="urban only",
        status="draft", definition=yaml.safe_dump(data, allow_unicode=True), created_by="test")
    r = as_admin.post(f"scoring/formulas/{fv.pk}/activate")
    assert r.status_code == 422, r.content
    assert r.json()["error"]["fields"][0]["field"] == "milieux.rural"
    assert selectors.formula_current() == old
    assert not ScoringRun.objects.filter(formula=fv).exists()


def test_an_analyst_cannot_activate(as_analyst):
    new = as_analyst.post("scoring/formulas", {"yaml": draft_yaml()}).json()
    assert as_analyst.post(f"scoring/formulas/{new['id']}/activate").status_code == 403
    assert FormulaVersion.objects.get(pk=new["id"]).status == "draft"


def test_an_unknown_version_is_404(as_analyst):
    assert as_analyst.get("scoring/formulas/999999").status_code == 404
    assert as_analyst.get("scoring/formulas/999999/export").status_code == 404
