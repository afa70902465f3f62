"""Every operation of the API × every role: the outcome the rules table expects.

The operations come from the OpenAPI schema of the one NinjaAPI, so a new endpoint is in the
matrix the moment it is routed, and fails here until sijill/security/permission_rules.py says who
may call it. Each case runs against real objects: a submitted household in Rabat (centre A's
provinces) with a head and a spouse, an enrolment held at centre A, and a citizen who is not a
member of that household — so the object paths are object-level checks too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

import sijill.urls  # noqa: F401  (routers are added to the API in the URLconf)
from sijill.accounts.actors import SYSTEM
from sijill.accounts.auth import actor_for_user
from sijill.conftest import ApiClient
from sijill.core.api import api
from sijill.dedup.models import ClusterMember, DedupRun, DuplicateCluster
from sijill.households.tests.factories import (
    household_create,
    household_data,
    member_data,
    registration_payload,
)
from sijill.population.models import Person
from sijill.population.services import person_enrol
from sijill.programs import services as program_services
from sijill.programs.models import Program, ProgramApplication
from sijill.scoring import selectors as scoring_selectors
from sijill.scoring import services as scoring_services
from sijill.security.permission_rules import ALLOW, KNOWN_GAPS, PUBLIC, ROLES, RULES
from sijill.testing import factories

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}
PROGRAM_CODE = "asd"


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return sorted((method.upper(), path) for path, item in schema["paths"].items()
                  for method in item if method in METHODS)


OPERATIONS = api_operations()


@dataclass
class World:
    subject: Person  # head of the Rabat household; the citizen is not them
    member: Person  # spouse in that household
    household_reference: str
    held_reference: str
    formula_pk: int
    run_pk: int
    program_code: str
    application_pk: int
    subscription_pk: int
    dedup_run_id: int
    cluster_id: int
    own_person: Person | None  # the caller's own record (the citizen's), if any

    def fresh_person(self) -> Person:
        return factories.person_create()


def _path_params(world: World, method: str, path: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if "{reference}" in path:
        params["reference"] = (world.held_reference if path.startswith("/api/v1/enrolments/")
                               else world.household_reference)
    if "{run_id}" in path:
        params["run_id"] = str(world.dedup_run_id)
    if "{cluster_id}" in path:
        params["cluster_id"] = str(world.cluster_id)
    if "{review_ref}" in path or "{complaint_ref}" in path:
        from sijill.cases.tests.factories import matrix_cases

        params.update(matrix_cases(world.household_reference))
    if "{code}" in path:
        params["code"] = world.program_code
    if "{pk}" in path:
        if path.startswith("/api/v1/scoring/runs/"):
            params["pk"] = str(world.run_pk)
        elif path.startswith("/api/v1/scoring/formulas/"):
            params["pk"] = str(world.formula_pk)
        elif "/applications/" in path:
            params["pk"] = str(world.application_pk)
        elif "/subscriptions/" in path:
            params["pk"] = str(world.subscription_pk)
    if "{idcs}" in path:
        params["idcs"] = (world.member.idcs if path.endswith("/members/{idcs}")
                          else world.subject.idcs)
    if "{version}" in path:
        params["version"] = "1"
    return params


def _enrolment(world: World) -> dict[str, Any]:
    data = factories.enrolment_input().as_json()
    return {k: v for k, v in data.items() if v not in (None, [], "")}


def _registration(world: World) -> dict[str, Any]:
    declarant = world.own_person or world.fresh_person()
    return registration_payload([(declarant, "head")])


def _declaration(world: World) -> dict[str, Any]:
    return {"household": household_data(rooms=4),
            "members": [member_data(world.subject.idcs, "head"),
                        member_data(world.member.idcs, "spouse")]}


def _new_member(world: World) -> dict[str, Any]:
    return {"member": member_data(world.fresh_person().idcs, "other_relative",
                                  marital_status="single")}


# Minimal valid input of every operation that takes one: (query or body) builders. A body that
# fails validation would answer 422 before the permission check and hide the rule under test.
INPUTS: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("POST", "/api/v1/persons"): _enrolment,
    ("GET", "/api/v1/persons"): lambda w: {"cnie": w.subject.cnie, "purpose": "matrix"},
    ("POST", "/api/v1/persons/{idcs}/death"): lambda w: {"death_date": "2024-03-01"},
    ("POST", "/api/v1/enrolments/{reference}/decision"):
        lambda w: {"decision": "reject", "reason": "matrix test"},
    ("POST", "/api/v1/identity/verify"):
        lambda w: {"idcs": w.subject.idcs, "family_name_latin": w.subject.family_name_latin},
    ("POST", "/api/v1/households"): _registration,
    ("POST", "/api/v1/households/{reference}/declarations"): _declaration,
    ("POST", "/api/v1/households/{reference}/members"): _new_member,
    ("POST", "/api/v1/households/{reference}/transitions"): lambda w: {"to": "verifying"},
    ("POST", "/api/v1/scoring/formulas"): lambda w: {"yaml": "identifier: matrix-test\n"},
    ("POST", "/api/v1/scoring/formulas/{pk}/impact"): lambda w: {"comparison": "<"},
    ("POST", "/api/v1/programs"): lambda w: {
        "code": "matrix-test", "name_ar": "برنامج", "name_fr": "Programme", "name_en": "Program",
        "purpose": "permission matrix", "threshold": 9.5},
    ("PATCH", "/api/v1/programs/{code}"): lambda w: {"budget_monthly_dh": 1000},
    ("POST", "/api/v1/programs/{code}/tokens"): lambda w: {"name": "matrix token"},
    ("POST", "/api/v1/programs/{code}/simulations"): lambda w: {"bins": 10},
    ("POST", "/api/v1/programs/{code}/applications"): lambda w: {"idcs": w.subject.idcs},
    ("PATCH", "/api/v1/programs/{code}/applications/{pk}"): lambda w: {"status": "withdrawn"},
    ("POST", "/api/v1/programs/{code}/subscriptions"):
        lambda w: {"url": "https://programme.example.ma/hooks/sijill"},
    ("POST", "/api/v1/dedup/runs"): lambda w: {"threshold": 0.9},
    ("POST", "/api/v1/dedup/clusters/{cluster_id}/decision"):
        lambda w: {"decision": "distinct", "reason": "matrix test"},
    ("POST", "/api/v1/households/{reference}/changes"):
        lambda w: {**_declaration(w), "kind": "job"},
    ("POST", "/api/v1/households/{reference}/reviews"): lambda w: {"reason": "matrix test"},
    ("POST", "/api/v1/reviews/{review_ref}/assignment"): lambda w: {},
    ("POST", "/api/v1/reviews/{review_ref}/evidence"): lambda w: {"note": "matrix test"},
    ("POST", "/api/v1/reviews/{review_ref}/decision"):
        lambda w: {"decision": "confirmed", "note": "matrix test"},
    ("POST", "/api/v1/complaints"): lambda w: {
        "category": "score", "subject": "matrix", "description": "matrix test",
        **({} if w.own_person else {"complainant_idcs": w.subject.idcs,
                                    "household_reference": w.household_reference})},
    ("POST", "/api/v1/complaints/{complaint_ref}/assignment"): lambda w: {},
    ("POST", "/api/v1/complaints/{complaint_ref}/answer"): lambda w: {"response": "matrix"},
}


def _rule_hint(method: str, path: str) -> str:
    return (f"No permission rule for {method} {path}. Add to RULES in "
            f"sijill/security/permission_rules.py:\n    (\"{method}\", \"{path}\"): "
            f"only(<roles that may call it>),\nand, if the operation takes a body or a "
            f"required query, a minimal valid input to INPUTS in {__name__}.")


def test_every_api_operation_has_a_rule():
    missing = [op for op in OPERATIONS if op not in RULES]
    assert not missing, "\n\n".join(_rule_hint(*op) for op in missing)


def test_every_rule_names_an_existing_operation_and_every_role():
    stale = [op for op in RULES if op not in OPERATIONS]
    assert not stale, f"rules for operations that no longer exist: {stale}"
    for op, outcomes in RULES.items():
        assert set(outcomes) == set(ROLES), op
        if op in PUBLIC:
            continue  # reference data, no personal data (permission_rules.PUBLIC)
        assert outcomes["anonymous"] != ALLOW, f"{op}: anonymous callers are always refused"
    for method, path, role in KNOWN_GAPS:
        assert (method, path) in RULES and role in ROLES


def test_the_matrix_covers_at_least_the_population_and_household_apis():
    paths = {path for _, path in OPERATIONS}
    assert {"/api/v1/persons/{idcs}", "/api/v1/identity/verify",
            "/api/v1/households/{reference}"} <= paths


@pytest.fixture
def world(request: Any, agent_a: Any) -> World:
    # The household and held enrolment sit in centre A's provinces (Rabat).
    subject, member = factories.person_create(), factories.person_create(sex="F")
    household = household_create(members=[(subject, "head"), (member, "spouse")])
    original = factories.person_create()
    held = person_enrol(actor=actor_for_user(agent_a), data=factories.enrolment_input(
        first_name_ar=original.first_name_ar, family_name_ar=original.family_name_ar,
        first_name_latin=original.first_name_latin,
        family_name_latin=original.family_name_latin, sex=original.sex,
        birth_date=original.birth_date)).held
    assert held is not None, "the near-duplicate enrolment should be held"
    formula = scoring_selectors.formula_current()
    assert formula is not None, "the default formula is installed by a migration"
    assert scoring_services.score_household_current(household_id=household.pk) is not None
    run = scoring_services.impact_start(actor=SYSTEM, formula_pk=formula.pk)
    # A seed program (installed by a migration), an application of the household to it and a
    # webhook subscription; the "program" caller's token is bound to this program.
    program = Program.objects.get(code=PROGRAM_CODE)
    application = ProgramApplication.objects.create(program=program, household=household,
                                                    updated_by="matrix")
    subscription = program_services.subscription_create(
        actor=SYSTEM, code=PROGRAM_CODE, url="https://programme.example.ma/hooks/existing")
    # A duplicate cluster (the subject and the person the held enrolment resembles).
    dedup_run = DedupRun.objects.create(status="done", created_by="matrix", progress=1.0)
    cluster = DuplicateCluster.objects.create(
        run=dedup_run, band="high", size=2, min_probability=0.99, max_weight=12.0,
        pairs=[{"l": subject.idcs, "r": original.idcs, "match_weight": 12.0,
                "match_probability": 0.99, "evidence": {}}])
    for person in (subject, original):
        ClusterMember.objects.create(cluster=cluster, run=dedup_run, person=person,
                                     match_weight=12.0, match_probability=0.99)
    return World(subject=subject, member=member, household_reference=household.reference,
                 held_reference=held.reference, formula_pk=formula.pk, run_pk=run.pk,
                 program_code=PROGRAM_CODE, application_pk=application.pk,
                 subscription_pk=subscription.pk, dedup_run_id=dedup_run.pk,
                 cluster_id=cluster.pk, own_person=None)


@pytest.fixture
def as_bound_program(db: Any) -> ApiClient:
    """A program's own token, bound to PROGRAM_CODE (what a real program holds)."""
    _, raw = program_services.program_token_create(actor=SYSTEM, code=PROGRAM_CODE,
                                                   name="matrix program token")
    return ApiClient(Client(), {"Authorization": f"Bearer {raw}"})


def _caller(request: Any, role: str) -> Any:
    return request.getfixturevalue("as_bound_program" if role == "program" else f"as_{role}")


def _cases() -> list[Any]:
    cases = []
    for method, path in OPERATIONS:
        for role in ROLES:
            marks = []
            gap = KNOWN_GAPS.get((method, path, role))
            if gap:
                marks.append(pytest.mark.xfail(reason=gap, strict=True))
            cases.append(pytest.param(method, path, role, id=f"{method} {path} as {role}",
                                      marks=marks))
    return cases


@pytest.mark.parametrize(("method", "path", "role"), _cases())
def test_permission_matrix(request, world, method, path, role):
    rules = RULES.get((method, path))
    if rules is None:
        pytest.fail(_rule_hint(method, path))
    expected = rules[role]
    caller = _caller(request, role)
    if role == "citizen":
        world.own_person = request.getfixturevalue("citizen").person
    url = path
    for name, value in _path_params(world, method, path).items():
        url = url.replace("{" + name + "}", value)
    leftover = [part for part in url.split("/") if part.startswith("{")]
    assert not leftover, f"no value for path parameter {leftover} in {path}: add one above"
    builder = INPUTS.get((method, path))
    data = builder(world) if builder else None
    response = getattr(caller, method.lower())(url, data)
    status = response.status_code
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body = raw.decode()
    where = f"{method} {path} as {role}: got {status} {body[:300]}"
    assert status < 500, where
    if expected == ALLOW:
        assert status not in (401, 403, 404), f"expected allowed, {where}"
    elif role == "anonymous":
        assert status == 401, f"expected 401, {where}"
    else:
        assert status in (403, 404), f"expected 403 or 404, {where}"
        leaked = [value for value in (world.subject.family_name_latin, world.subject.cnie,
                                      world.subject.phone, world.member.cnie) if value]
        assert not [value for value in leaked if value in body], f"data leaked: {where}"


# Object-level checks spelled out: a citizen sees their own data, never another person's.

def _json(response: Any) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


def test_a_citizen_reads_their_own_record_and_not_another_persons(as_citizen, citizen):
    other = factories.person_create()
    own = as_citizen.get(f"persons/{citizen.idcs}")
    assert own.status_code == 200 and own.json()["idcs"] == citizen.idcs
    for path in (f"persons/{other.idcs}", f"persons/{other.idcs}/history"):
        response = as_citizen.get(path)
        assert response.status_code == 404
        text = _json(response)
        for value in (other.family_name_latin, other.first_name_ar, other.cnie, other.phone):
            assert value not in text


def test_a_citizen_cannot_search_the_register(as_citizen):
    other = factories.person_create()
    response = as_citizen.get("persons", {"cnie": other.cnie})
    assert response.status_code == 403
    assert other.idcs not in _json(response)


def test_a_citizen_reads_their_own_household_and_no_other(as_citizen, citizen):
    own = household_create(members=[(citizen.person, "head")])
    stranger, spouse = factories.person_create(), factories.person_create(sex="F")
    other = household_create(members=[(stranger, "head"), (spouse, "spouse")])
    assert as_citizen.get(f"households/{own.reference}").status_code == 200
    for suffix in ("", "/memberships", "/history"):
        response = as_citizen.get(f"households/{other.reference}{suffix}")
        assert response.status_code == 404
        text = _json(response)
        for value in (stranger.idcs, spouse.idcs, stranger.family_name_latin):
            assert value not in text


def test_tokens_without_a_purpose_for_personal_data_get_nothing(as_program, as_partner):
    person = factories.person_create()
    for caller in (as_program, as_partner):
        response = caller.get(f"persons/{person.idcs}")
        assert response.status_code == 403
        assert person.family_name_latin not in _json(response)
