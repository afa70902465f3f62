"""A death recorded in the population register ends the membership."""

from __future__ import annotations

from datetime import date

import pytest

from sijill.accounts.actors import SYSTEM
from sijill.households.models import Household, Membership
from sijill.households.tests.factories import household_create
from sijill.population.services import person_record_death

pytestmark = pytest.mark.django_db


def test_a_members_death_ends_their_membership_and_writes_a_version(
        person_factory, django_capture_on_commit_callbacks):
    head, grandfather = person_factory(), person_factory()
    household = household_create(members=[(head, "head"), (grandfather, "parent")])
    with django_capture_on_commit_callbacks(execute=True):
        person_record_death(actor=SYSTEM, idcs=grandfather.idcs, death_date=date(2025, 3, 1))
    membership = Membership.objects.get(person=grandfather)
    assert membership.end_reason == "deceased"
    assert membership.end_date == max(date(2025, 3, 1), membership.start_date)
    household.refresh_from_db()
    assert household.current_version == 2
    assert list(household.versions.get(version=2).members.values_list("person__idcs",
                                                                      flat=True)) == [head.idcs]


def test_the_heads_death_leaves_the_household_waiting_for_a_new_head(
        person_factory, django_capture_on_commit_callbacks):
    head, widow = person_factory(), person_factory(sex="F")
    household = household_create(members=[(head, "head"), (widow, "spouse")])
    with django_capture_on_commit_callbacks(execute=True):
        person_record_death(actor=SYSTEM, idcs=head.idcs, death_date=date(2025, 3, 1))
    household.refresh_from_db()
    assert household.head is None
    assert household.events.filter(note__startswith="head deceased").exists()
    assert Membership.objects.get(person=widow).end_date is None


def test_the_death_of_a_person_living_alone_closes_the_registration(
        person_factory, django_capture_on_commit_callbacks):
    alone = person_factory()
    household = household_create(members=[(alone, "head")])
    with django_capture_on_commit_callbacks(execute=True):
        person_record_death(actor=SYSTEM, idcs=alone.idcs, death_date=date(2025, 3, 1))
    assert Household.objects.get(pk=household.pk).status == "cancelled"


def test_a_headless_household_is_not_sent_to_verification_until_a_new_head_is_declared(
        person_factory, django_capture_on_commit_callbacks):
    from sijill.declaration.model import Declaration
    from sijill.households.services import declaration_of, household_declaration_update
    from sijill.households.signals import household_submitted

    head, widow = person_factory(), person_factory(sex="F")
    household = household_create(members=[(head, "head"), (widow, "spouse")])
    submitted: list[int] = []

    def record(sender: object, version: int, **kwargs: object) -> None:
        submitted.append(version)

    household_submitted.connect(record, dispatch_uid="test.headless")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            person_record_death(actor=SYSTEM, idcs=head.idcs, death_date=date(2025, 3, 1))
        household.refresh_from_db()
        assert household.status == "submitted" and household.head is None
        assert submitted == []  # a headless declaration is neither verified nor scored
        data = declaration_of(household.versions.get(version=household.current_version)).to_dict()
        data["members"][0]["relationship"] = "head"
        with django_capture_on_commit_callbacks(execute=True):
            household_declaration_update(actor=SYSTEM, reference=household.reference,
                                         declaration=Declaration.from_dict(data),
                                         declarant_idcs=widow.idcs)
        household.refresh_from_db()
        assert household.head == widow
        assert submitted == [household.current_version]
    finally:
        household_submitted.disconnect(dispatch_uid="test.headless")
