"""Declared changes: a new declaration version through the households services."""

from __future__ import annotations

import pytest

from sijill.cases.models import ChangeDeclaration
from sijill.cases.tests.factories import notified_household
from sijill.households.models import DeclarationVersion
from sijill.households.signals import household_submitted
from sijill.households.tests.factories import child_create, household_data, member_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(citizen, person_factory):
    spouse = person_factory(sex="F")
    return notified_household(members=[(citizen.person, "head"), (spouse, "spouse")])


def _members(household, *extra):
    return [member_data(m.person.idcs, m.relationship)
            for m in household.memberships.filter(end_date__isnull=True).select_related("person")
            .order_by("start_date", "id")] + list(extra)


def test_the_declarant_declares_a_birth(household, as_citizen,
                                        django_capture_on_commit_callbacks):
    baby = child_create(birth_date=household.created_at.date())
    submitted = []

    def on_submitted(sender, **kw):
        submitted.append(kw["version"])

    household_submitted.connect(on_submitted, weak=False, dispatch_uid="test-birth")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = as_citizen.post(f"households/{household.reference}/changes", {
                "kind": "birth", "note": "Our daughter was born.",
                "household": household_data(),
                "members": _members(household, member_data(
                    baby.idcs, "child", marital_status="single", activity="other_inactive",
                    employment_status="none", occupation="none",
                    education_level="none", diploma="none", literate=False))})
    finally:
        household_submitted.disconnect(dispatch_uid="test-birth")
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["version"], response.json()["channel"]) == (
        "birth", 2, "portal")
    household.refresh_from_db()
    assert household.status == "submitted"  # reverified and rescored
    assert submitted == [2]
    assert DeclarationVersion.objects.get(household=household, version=2).members.count() == 3


def test_an_agent_declares_a_job_on_behalf_by_phone(household, as_agent_a):
    members = _members(household)
    members[1]["activity"] = "employed"
    response = as_agent_a.post(f"households/{household.reference}/changes", {
        "kind": "job", "channel": "phone", "household": household_data(),
        "members": members})
    assert response.status_code == 201, response.json()
    change = ChangeDeclaration.objects.get(household=household)
    assert (change.kind, change.channel) == ("job", "phone")


def test_a_member_who_does_not_declare_cannot_declare_changes(citizen, person_factory,
                                                               as_citizen):
    head = person_factory()
    household = notified_household(members=[(head, "head"), (citizen.person, "spouse")])
    response = as_citizen.post(f"households/{household.reference}/changes", {
        "kind": "purchase", "household": household_data(cars=1), "members": _members(household)})
    assert response.status_code == 403


def test_another_household_is_not_found(as_other_citizen, household):
    response = as_other_citizen.post(f"households/{household.reference}/changes", {
        "kind": "purchase", "household": household_data(cars=1), "members": _members(household)})
    assert response.status_code == 404
    assert not ChangeDeclaration.objects.exists()
