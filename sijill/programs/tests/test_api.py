"""The programs' API: administration (422 with the position of a bad condition), one scoped
token per program, eligibility by IDCS without declaration details, eligible lists and
exports, applications, audit with the program's purpose."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.audit.models import AuditEntry
from sijill.conftest import ApiClient
from sijill.programs import eligibility, services
from sijill.programs.models import Program
from sijill.programs.tests.factories import family, score

pytestmark = pytest.mark.django_db

#: Every key a program may see in an eligibility answer: nothing of the declaration.
ELIGIBILITY_KEYS = {"program", "idcs", "status", "eligible", "household",
                    "index_passes_threshold", "conditions", "score", "provisional",
                    "decided_at"}
DECLARATION_WORDS = ("dwelling", "rooms", "members", "marital", "schooling", "disability",
                     "health_coverage", "activity", "occupation", "monthly_", "cars", "birth",
                     "first_name", "family_name", "address", "phone")


def token_client(code: str) -> ApiClient:
    _, raw = services.program_token_create(actor=SYSTEM, code=code, name=f"{code} system")
    return ApiClient(Client(), {"Authorization": f"Bearer {raw}"})


@pytest.fixture
def as_asd() -> ApiClient:
    return token_client("asd")


@pytest.fixture
def as_school() -> ApiClient:
    return token_client("school-support")


@pytest.fixture
def world():
    """Two eligible households for every seed program, one not eligible anywhere."""
    households = [family(children=[{"age": 9, "schooling": "public", "disability": "mental"}])
                  for _ in range(2)]
    rich = family()
    for h in households:
        score(h, 9.0)
    score(rich, 11.0)
    eligibility.redecide_all()
    return {"eligible": households, "not_eligible": rich}


def head_idcs(household) -> str:
    household.refresh_from_db()
    return household.head.idcs


# ---------------------------------------------------------------------------------------------
# Administration


PROGRAM = {"code": "widows", "name_ar": "دعم الأرامل", "name_fr": "Soutien aux veuves",
           "name_en": "Support to widows", "purpose": "Monthly support to widowed heads",
           "threshold": 9.5, "status": "active",
           "conditions": [{"key": "widowed_head", "expression":
                           'members.exists(m, m.relationship == "head" && '
                           'm.marital_status == "widowed")'}],
           "benefit": {"per_household": 350, "per_child": 100, "max_children": 3, "cap": 700}}


def test_an_administrator_creates_a_program(as_admin):
    r = as_admin.post("programs", PROGRAM)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["rules_version"] == 1 and body["comparison"] == "<"
    assert body["benefit"]["max_children"] == 3 and body["benefit"]["cap"] == 700
    assert Program.objects.get(code="widows").benefit_per_household == 350


def test_a_bad_condition_is_refused_with_its_line_and_column(as_admin):
    bad = {**PROGRAM, "conditions": [
        {"key": "widowed_head", "expression": 'members.exists(m,\n  m.marital_status == )'}]}
    r = as_admin.post("programs", bad)
    assert r.status_code == 422, r.content
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"][0]["field"] == "conditions.0.expression"
    assert error["fields"][0]["code"] == "syntax_error"
    assert error["positions"] == [{"field": "conditions.0.expression", "line": 2, "column": 23}]
    assert "line 2, column 23" in error["fields"][0]["message"]
    assert not Program.objects.filter(code="widows").exists()


def test_the_error_is_translated(as_admin):
    bad = {**PROGRAM, "conditions": [{"key": "x", "expression": "household.sizee > 1"}]}
    r = as_admin.post("programs", bad, lang="fr")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["code"] == "unknown_field"


def test_a_patch_of_the_threshold_bumps_the_rules_version(as_admin):
    r = as_admin.patch("programs/asd", {"threshold": 9.5, "comparison": "<="})
    assert r.status_code == 200, r.content
    assert r.json()["rules_version"] == 2 and r.json()["comparison"] == "<="
    r = as_admin.patch("programs/asd", {"name_en": "Direct aid"})
    assert r.json()["rules_version"] == 2
    assert r.json()["benefit"]["minimum"] == 500  # untouched


@pytest.mark.parametrize("client", ["as_agent_a", "as_analyst", "as_program", "as_citizen"])
def test_only_administrators_change_programs(request, client):
    c = request.getfixturevalue(client)
    assert c.patch("programs/asd", {"threshold": 20.0}).status_code in (403, 404)
    assert c.post("programs", PROGRAM).status_code == 403
    assert Program.objects.get(code="asd").threshold == 9.743001


# ---------------------------------------------------------------------------------------------
# A program's token


def test_eligibility_by_idcs_answers_with_the_conditions_and_no_declaration(world, as_school):
    idcs = head_idcs(world["eligible"][0])
    r = as_school.get(f"programs/school-support/eligibility/{idcs}")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "eligible" and body["eligible"] is True
    assert body["conditions"] == [{"key": "school_age_child_in_school", "met": True}]
    assert body["index_passes_threshold"] is True
    assert body["score"] is None  # the school program's purpose does not need the index
    assert set(body) <= ELIGIBILITY_KEYS
    text = r.content.decode()
    for word in DECLARATION_WORDS:
        assert word not in text, word
    r = as_school.get(f"programs/school-support/eligibility/{head_idcs(world['not_eligible'])}")
    assert r.json()["status"] == "not_eligible" and r.json()["index_passes_threshold"] is False


def test_the_score_only_for_a_program_whose_purpose_needs_it(world, as_asd):
    idcs = head_idcs(world["eligible"][0])
    assert as_asd.get(f"programs/asd/eligibility/{idcs}").json()["score"] is None
    services.program_update(actor=SYSTEM, code="asd", values={"reveals_score": True})
    body = as_asd.get(f"programs/asd/eligibility/{idcs}").json()
    assert body["score"] == 9.0 and body["provisional"] is False


def test_a_program_token_cannot_read_another_programs_data(world, as_asd):
    idcs = head_idcs(world["eligible"][0])
    for path in (f"programs/school-support/eligibility/{idcs}",
                 f"programs/school-support/eligibility/{idcs}/history",
                 "programs/school-support/eligible",
                 "programs/school-support/eligible/export",
                 "programs/school-support/subscriptions",
                 "programs/school-support"):
        r = as_asd.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert idcs not in r.content.decode()
    assert as_asd.post("programs/school-support/applications",
                       {"idcs": idcs}).status_code == 404
    assert as_asd.post("programs/school-support/simulations", {}).status_code == 403
    assert as_asd.get("programs").status_code == 403


def test_a_program_token_cannot_read_any_declaration_or_household(world, as_asd):
    household = world["eligible"][0]
    idcs = head_idcs(household)
    for path in (f"households/{household.reference}",
                 f"households/{household.reference}/memberships",
                 f"households/{household.reference}/history",
                 f"households/{household.reference}/score",
                 f"persons/{idcs}"):
        assert as_asd.get(path).status_code in (403, 404), path


def test_an_unbound_program_token_sees_no_program(world, as_program):
    idcs = head_idcs(world["eligible"][0])
    assert as_program.get(f"programs/asd/eligibility/{idcs}").status_code == 404
    assert as_program.get("programs/asd/eligible").status_code == 404


def test_a_person_without_a_household_is_not_registered(as_asd, person_factory):
    person = person_factory()
    body = as_asd.get(f"programs/asd/eligibility/{person.idcs}").json()
    assert body["status"] == "not_registered" and body["eligible"] is False


def test_every_access_is_audited_with_the_program_and_its_purpose(world, as_asd):
    idcs = head_idcs(world["eligible"][0])
    as_asd.get(f"programs/asd/eligibility/{idcs}")
    as_asd.get("programs/asd/eligible")
    b"".join(as_asd.get("programs/asd/eligible/export").streaming_content)
    purpose = Program.objects.get(code="asd").purpose
    entries = list(AuditEntry.objects.filter(entity="program", actor_role="program")
                   .order_by("seq"))
    assert [e.action for e in entries] == ["read_eligibility", "list_eligible",
                                           "export_eligible"]
    assert all(e.purpose == purpose and e.detail["program"] == "asd" for e in entries)
    assert entries[0].subject == idcs


def test_the_eligible_list_is_paged_with_a_cursor(world, as_asd):
    expected = {h.reference for h in world["eligible"]}
    first = as_asd.get("programs/asd/eligible", {"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = as_asd.get("programs/asd/eligible",
                        {"limit": 1, "cursor": first["next_cursor"]}).json()
    third = as_asd.get("programs/asd/eligible",
                       {"limit": 1, "cursor": second["next_cursor"]}).json()
    assert {first["items"][0]["household"], second["items"][0]["household"]} == expected
    assert third["items"] == [] and third["next_cursor"] is None
    assert set(first["items"][0]) == {"household", "head_idcs", "decided_at", "score",
                                      "provisional"}
    assert first["items"][0]["score"] is None


def test_the_export_streams_csv_and_ndjson(world, as_asd):
    r = as_asd.get("programs/asd/eligible/export", {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert {row["household"] for row in rows} == {h.reference for h in world["eligible"]}
    assert set(rows[0]) == {"household", "head_idcs", "decided_at"}
    r = as_asd.get("programs/asd/eligible/export")
    lines = b"".join(r.streaming_content).decode().splitlines()
    assert len(lines) == 2 and {json.loads(x)["household"] for x in lines} == {
        h.reference for h in world["eligible"]}


def test_a_program_enrols_an_eligible_household_only(world, as_asd):
    idcs = head_idcs(world["eligible"][0])
    r = as_asd.post("programs/asd/applications", {"idcs": idcs, "status": "enrolled"})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "enrolled"
    again = as_asd.post("programs/asd/applications", {"idcs": idcs})
    assert again.status_code == 409
    poor = as_asd.post("programs/asd/applications",
                       {"idcs": head_idcs(world["not_eligible"])})
    assert poor.status_code == 409 and poor.json()["error"]["reason"] == "not_eligible"
    ended = as_asd.patch(f"programs/asd/applications/{r.json()['id']}", {"status": "ended"})
    assert ended.status_code == 200 and ended.json()["status"] == "ended"


def test_the_history_of_decisions(world, as_asd):
    idcs = head_idcs(world["eligible"][0])
    services.program_update(actor=SYSTEM, code="asd", values={"threshold": 8.0})
    eligibility.redecide(Program.objects.get(code="asd"))
    rows = as_asd.get(f"programs/asd/eligibility/{idcs}/history").json()
    assert [(r["eligible"], r["current"], r["reason"]) for r in rows] == [
        (False, True, "rules"), (True, False, "first")]
    assert rows[0]["score"] is None


def test_a_program_reads_its_own_rules(as_asd, as_analyst):
    r = as_asd.get("programs/asd")
    assert r.status_code == 200 and r.json()["threshold"] == 9.743001
    assert as_analyst.get("programs/school-support").json()["conditions"][0]["key"] == (
        "school_age_child_in_school")
    assert {p["code"] for p in as_analyst.get("programs").json()} >= {
        "amo-tadamon", "asd", "school-support", "disability-allowance"}
