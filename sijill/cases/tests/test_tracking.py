"""Tracking: the declarant and the members see their registration's status and history."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from sijill.cases import services
from sijill.cases.tests.factories import notified_household
from sijill.households.tests.factories import household_create

pytestmark = pytest.mark.django_db
CASA = ZoneInfo("Africa/Casablanca")


def test_a_citizen_without_a_household_is_told_so(as_citizen):
    response = as_citizen.get("me/household")
    assert response.status_code == 200
    assert response.json() == {"household": None}
    assert as_citizen.get("me/household/history").json() == {"household": None}


def test_staff_have_no_own_household(as_agent_a):
    assert as_agent_a.get("me/household").status_code == 403


def test_the_declarant_sees_status_members_index_and_window(as_citizen, citizen,
                                                            person_factory):
    spouse = person_factory(sex="F")
    household = notified_household(members=[(citizen.person, "head"), (spouse, "spouse")])
    body = as_citizen.get("me/household").json()["household"]
    assert body["reference"] == household.reference
    assert (body["status"], body["you_declare"]) == ("notified", True)
    assert {m["idcs"] for m in body["members"]} == {citizen.idcs, spouse.idcs}
    assert body["latest_index"]["declaration_version"] == household.current_version
    assert body["review_window"]["open"] is True
    assert body["open_review"] is None


def test_a_member_sees_the_household_and_its_history(as_citizen, citizen, person_factory):
    head = person_factory()
    household = notified_household(members=[(head, "head"), (citizen.person, "spouse")])
    body = as_citizen.get("me/household").json()["household"]
    assert (body["reference"], body["you_declare"]) == (household.reference, False)
    history = as_citizen.get("me/household/history").json()["household"]
    assert [(e["from_status"], e["to_status"]) for e in history["events"]] == [
        ("", "draft"), ("draft", "submitted"), ("submitted", "verifying"),
        ("verifying", "scored"), ("scored", "notified")]
    assert [v["version"] for v in history["versions"]] == [1]
    assert [s["declaration_version"] for s in history["scores"]] == [1]


def test_history_lists_reviews_changes_and_only_my_complaints(
        citizen, citizen_actor, person_factory, agent_a_actor, as_citizen):
    spouse = person_factory(sex="F")
    household = notified_household(members=[(citizen.person, "head"), (spouse, "spouse")])
    services.review_request(actor=citizen_actor, reference=household.reference,
                            reason="Check.")
    mine = services.complaint_file(actor=citizen_actor, category="score", subject="s",
                                   description="d")
    services.complaint_file(actor=agent_a_actor, category="other", subject="spouse's",
                            description="private", complainant_idcs=spouse.idcs,
                            household_reference=household.reference)
    history = as_citizen.get("me/household/history").json()["household"]
    assert len(history["reviews"]) == 1
    assert [c["reference"] for c in history["complaints"]] == [mine.reference]


def test_a_cancelled_registration_is_not_my_household(citizen, as_citizen):
    from sijill.accounts.actors import SYSTEM
    from sijill.households.services import household_transition

    household = household_create(members=[(citizen.person, "head")])
    household_transition(actor=SYSTEM, reference=household.reference, to="cancelled")
    assert as_citizen.get("me/household").json() == {"household": None}
