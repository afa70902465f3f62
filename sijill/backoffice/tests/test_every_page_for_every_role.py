"""Every back-office page × every role: no server error, and a role that may not see a page is
refused (anonymous: redirect to the staff sign-in; citizen or a role without the permission:
403), while object-level limits hold (an agent of centre B gets 404 for centre A's household,
receipt and held enrolment).

The pages come from the back office's URLconf, so a new page is walked the moment it is routed
(and fails here until PARAMS says how to fill its URL). The expected outcome is derived from the
permissions each page declares (`staff_page`), the same `Actor.can` as the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from sijill.accounts.actors import SYSTEM, Actor
from sijill.accounts.auth import actor_for_user
from sijill.backoffice import urls as backoffice_urls
from sijill.backoffice.tests.conftest import cluster_create, discrepancy_create, signed_in
from sijill.cases.tests.factories import matrix_cases
from sijill.households.tests.factories import KENITRA, household_create
from sijill.population.services import person_enrol
from sijill.scoring import selectors as scoring_selectors
from sijill.scoring import services as scoring_services
from sijill.testing import factories

pytestmark = pytest.mark.django_db

PUBLIC = {"sign_in", "sign_in_code", "sign_in_enrol", "sign_out"}
ROLES = ["anonymous", "citizen", "agent_a", "agent_b", "analyst", "reviewer", "admin"]


@dataclass
class World:
    household_a: str
    household_b: str
    held_a: str
    person: str
    cluster_id: int
    formula_pk: int
    run_pk: int
    program_code: str
    discrepancy_a: int
    review_a: str
    complaint_a: str


@pytest.fixture
def world(agent_a: Any, agent_b: Any) -> World:
    subject = factories.person_create()
    household_a = household_create(members=[(subject, "head")])
    household_b = household_create(members=[(factories.person_create(), "head")],
                                   commune=KENITRA)
    original = factories.person_create()
    held = person_enrol(actor=actor_for_user(agent_a), data=factories.enrolment_input(
        first_name_ar=original.first_name_ar, family_name_ar=original.family_name_ar,
        first_name_latin=original.first_name_latin,
        family_name_latin=original.family_name_latin, sex=original.sex,
        birth_date=original.birth_date)).held
    assert held is not None
    formula = scoring_selectors.formula_current()
    assert formula is not None
    run = scoring_services.impact_start(actor=SYSTEM, formula_pk=formula.pk)
    cluster = cluster_create([subject, original])
    cases = matrix_cases(household_a.reference)
    return World(household_a=household_a.reference, household_b=household_b.reference,
                 held_a=held.reference, person=subject.idcs, cluster_id=cluster.pk,
                 formula_pk=formula.pk, run_pk=run.pk, program_code="asd",
                 discrepancy_a=discrepancy_create(household_a).pk,
                 review_a=cases["review_ref"], complaint_a=cases["complaint_ref"])


#: How to fill each page's URL: url name -> kwargs from the world (centre A's objects).
PARAMS: dict[str, Any] = {
    "person_detail": lambda w: {"idcs": w.person},
    "held_detail": lambda w: {"reference": w.held_a},
    "household_detail": lambda w: {"reference": w.household_a},
    "household_receipt": lambda w: {"reference": w.household_a},
    "cluster_detail": lambda w: {"cluster_id": w.cluster_id},
    "formula_detail": lambda w: {"pk": w.formula_pk},
    "run_detail": lambda w: {"pk": w.run_pk},
    "program_simulator": lambda w: {"code": w.program_code},
    "discrepancy_detail": lambda w: {"pk": w.discrepancy_a},
    "review_detail": lambda w: {"reference": w.review_a},
    "review_correct": lambda w: {"reference": w.review_a},
    "complaint_detail": lambda w: {"reference": w.complaint_a},
}
#: Pages showing one object of centre A: an agent of another centre gets 404.
#: Pages that send an allowed caller back to the object's page until it is ready (a review must
#: be assigned to the caller before its data is corrected).
NOT_READY_REDIRECTS = {"review_correct": "/backoffice/reviews/"}
CENTRE_A_OBJECTS = {"held_detail", "household_detail", "household_receipt",
                    "discrepancy_detail", "review_detail", "complaint_detail"}


def pages() -> list[URLPattern]:
    return [p for p in backoffice_urls.urlpatterns if isinstance(p, URLPattern)
            and p.name not in PUBLIC]


def url_of(pattern: URLPattern, world: World) -> str:
    if pattern.pattern.converters:
        assert pattern.name in PARAMS, f"say in PARAMS how to fill the URL of {pattern.name}"
        return reverse(f"backoffice:{pattern.name}", kwargs=PARAMS[pattern.name](world))
    return reverse(f"backoffice:{pattern.name}")


def may_open(actor: Actor, view: Any) -> bool:
    perms = getattr(view, "staff_perms", ())
    any_of = getattr(view, "staff_any_of", ())
    return all(actor.can(p) for p in perms) and (not any_of or any(actor.can(p)
                                                                    for p in any_of))


@pytest.fixture
def clients(request: Any, world: World, citizen: Any, agent_a: Any, agent_b: Any,
            analyst: Any, reviewer: Any, admin_user: Any) -> dict[str, tuple[Client, Any]]:
    users = {"citizen": citizen, "agent_a": agent_a, "agent_b": agent_b, "analyst": analyst,
             "reviewer": reviewer, "admin": admin_user}
    out: dict[str, tuple[Client, Any]] = {"anonymous": (Client(), None)}
    for role, user in users.items():
        client = Client() if role == "citizen" else signed_in(user)
        if role == "citizen":
            client.force_login(user)
        out[role] = (client, user)
    return out


def test_every_page_answers_every_role_as_the_permission_model_says(world, clients):
    problems = []
    for pattern in pages():
        url = url_of(pattern, world)
        for role in ROLES:
            client, user = clients[role]
            answer = client.get(url)
            status = answer.status_code
            if role == "anonymous":
                ok = status == 302 and answer["Location"].startswith("/backoffice/sign-in/")
                want = "302 to the sign-in"
            elif role == "citizen":
                ok, want = status == 403, "403"
            else:
                allowed = may_open(actor_for_user(user), pattern.callback)
                if not allowed:
                    ok, want = status == 403, "403"
                elif role == "agent_b" and pattern.name in CENTRE_A_OBJECTS:
                    ok, want = status == 404, "404 (another centre's object)"
                elif pattern.name in NOT_READY_REDIRECTS:
                    ok = status == 200 or (status == 302 and answer["Location"].startswith(
                        NOT_READY_REDIRECTS[pattern.name]))
                    want = "200, or 302 back to the object"
                else:
                    ok, want = status == 200, "200"
            if status >= 500 or not ok:
                problems.append(f"{role:9} GET {url} -> {status}, expected {want}")
    assert not problems, "\n".join(problems)


def test_the_walk_covers_the_agent_and_analyst_pages():
    names = {p.name for p in pages()}
    assert {"enrol", "held_detail", "household_register", "household_receipt", "cluster_list",
            "discrepancy_list", "review_list", "complaint_list", "formula_list", "run_detail",
            "program_simulator", "notice_dashboard"} <= names


def test_an_agent_of_centre_b_cannot_open_centre_a_household_or_held_enrolment(world, clients):
    client, _ = clients["agent_b"]
    for url in (f"/backoffice/households/{world.household_a}/",
                f"/backoffice/households/{world.household_a}/receipt/",
                f"/backoffice/enrolments/held/{world.held_a}/",
                f"/backoffice/discrepancies/{world.discrepancy_a}/",
                f"/backoffice/reviews/{world.review_a}/",
                f"/backoffice/complaints/{world.complaint_a}/"):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert world.person.encode() not in answer.content  # the head's IDCS is not shown
    # Nor decide it.
    answer = client.post(f"/backoffice/enrolments/held/{world.held_a}/",
                         {"decision": "reject", "reason": "not mine"})
    assert answer.status_code == 404
    own, _ = clients["agent_a"]
    assert own.get(f"/backoffice/households/{world.household_b}/").status_code == 404
    assert own.get(f"/backoffice/households/{world.household_a}/").status_code == 200


def test_the_admin_answers_only_the_super_user(world, clients):
    for role in ROLES:
        client, _ = clients[role]
        status = client.get("/admin/").status_code
        assert status == (200 if role == "admin" else 302), role
