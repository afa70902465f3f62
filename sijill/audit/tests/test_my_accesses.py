"""Citizens see the accesses to their own data: who (a role, an organisation), what, when, why."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from sijill.accounts.auth import actor_for_user
from sijill.audit.models import AuditEntry
from sijill.audit.selectors import accesses_of
from sijill.households.services import household_read
from sijill.households.tests.factories import household_create
from sijill.population.access import person_read
from sijill.testing import factories

pytestmark = pytest.mark.django_db


def test_a_citizen_sees_who_read_their_record_and_why(as_citizen: Any, citizen: Any,
                                                      agent_a: Any) -> None:
    person_read(actor=actor_for_user(agent_a), idcs=citizen.idcs, purpose="desk enquiry")
    response = as_citizen.get("me/accesses")
    assert response.status_code == 200
    read = next(a for a in response.json() if a["action"] == "read")
    assert read["entity"] == "person" and read["role"] == "agent"
    assert read["purpose"] == "desk enquiry"
    assert read["organisation"] == agent_a.centre.name_fr  # English asked: the Latin name
    # The agent's own name or account is not shown.
    assert agent_a.username not in response.content.decode()
    assert f"user:{agent_a.pk}" not in response.content.decode()


def test_a_citizen_sees_only_their_own_accesses(as_citizen: Any, citizen: Any,
                                                agent_a: Any) -> None:
    someone_else = factories.person_create()
    person_read(actor=actor_for_user(agent_a), idcs=someone_else.idcs, purpose="other case")
    accesses = as_citizen.get("me/accesses").json()
    assert all(a["purpose"] != "other case" for a in accesses)
    # Their own enrolment and their own reading of this list, recorded like any read.
    assert [a["action"] for a in accesses] == ["read_accesses", "create"]


def test_a_member_sees_reads_of_their_household_while_they_belong_to_it(
        as_citizen: Any, citizen: Any, agent_a: Any) -> None:
    household = household_create(members=[(factories.person_create(), "head"),
                                          (citizen.person, "spouse")])
    household_read(actor=actor_for_user(agent_a), reference=household.reference,
                   purpose="home visit")
    accesses = accesses_of(idcs=citizen.idcs)
    assert ("read", "household", "home visit") in {(a.action, a.entity, a.purpose)
                                                   for a in accesses}


def test_a_partner_is_named_by_its_administration(as_citizen: Any, citizen: Any,
                                                  as_partner: Any) -> None:
    as_partner.post("identity/verify", {"idcs": citizen.idcs, "sex": "M",
                                        "purpose": "CNSS affiliation"})
    with translation.override("en"):
        accesses = accesses_of(idcs=citizen.idcs)
    assert [(a.role, a.organisation, a.purpose) for a in accesses] == [
        ("partner", "CNSS", "CNSS affiliation"), ("system", "Sijill", "system")]  # enrolment


def test_the_list_pages_newest_first(citizen: Any, agent_a: Any) -> None:
    actor = actor_for_user(agent_a)
    for i in range(5):
        person_read(actor=actor, idcs=citizen.idcs, purpose=f"read {i}")
    first = accesses_of(idcs=citizen.idcs, limit=2)
    assert [a.purpose for a in first] == ["read 4", "read 3"]
    second = accesses_of(idcs=citizen.idcs, limit=2, before_seq=first[-1].seq)
    assert [a.purpose for a in second] == ["read 2", "read 1"]


def test_reading_the_list_is_itself_recorded(as_citizen: Any, citizen: Any) -> None:
    as_citizen.get("me/accesses")
    entry = AuditEntry.objects.get(action="read_accesses")
    assert entry.subject == citizen.idcs and entry.actor_role == "citizen"


def test_staff_without_a_person_see_nothing_and_others_are_refused(
        as_admin: Any, as_agent_a: Any, as_anonymous: Any) -> None:
    assert as_admin.get("me/accesses").json() == []
    assert as_agent_a.get("me/accesses").status_code == 403
    assert as_anonymous.get("me/accesses").status_code == 401


def test_a_member_sees_who_read_their_households_score(as_citizen: Any, citizen: Any,
                                                      as_agent_a: Any) -> None:
    from sijill.scoring import selectors as scoring_selectors
    from sijill.scoring import services as scoring
    from sijill.scoring.tests.factories import current_declaration, register

    household = register([(factories.person_create(), "head"), (citizen.person, "spouse")])
    scoring.score_compute(household=household, declaration=current_declaration(household),
                          formula_version=scoring_selectors.formula_current())
    assert as_agent_a.get(f"households/{household.reference}/score",
                          {"purpose": "eligibility check"}).status_code == 200
    accesses = as_citizen.get("me/accesses").json()
    assert {(a["action"], a["entity"], a["role"]) for a in accesses} >= {
        ("read_score", "score", "agent"), ("compute", "score", "system")}
