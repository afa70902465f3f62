"""When the declarant leaves (dies, moves out), an adult who remains declares: never a minor."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from sijill.accounts.actors import SYSTEM
from sijill.declaration.model import Declaration
from sijill.households.models import Household
from sijill.households.services import declaration_of, household_declaration_update
from sijill.households.signals import household_submitted
from sijill.households.tests.factories import child_create, member_data, registration_payload
from sijill.households.tests.test_declarant_writes import citizen_client, household_of
from sijill.population.services import person_record_death

pytestmark = pytest.mark.django_db


def aged(years: int) -> date:
    """A birth date making someone exactly `years` old today."""
    return date(timezone.localdate().year - years, 1, 1)


def died_today(person: Any) -> None:
    person_record_death(actor=SYSTEM, idcs=person.idcs, death_date=timezone.localdate())


def test_an_adult_head_declares_after_the_declarant_dies(person_factory,
                                                         django_capture_on_commit_callbacks):
    head, grandmother = person_factory(birth_date=aged(35)), person_factory(birth_date=aged(70))
    household = household_of([(head, "head"), (grandmother, "parent")], declarant=grandmother)
    with django_capture_on_commit_callbacks(execute=True):
        died_today(grandmother)
    household.refresh_from_db()
    assert household.declarant == head


def test_a_minor_head_does_not_become_declarant_the_oldest_adult_does(
        person_factory, django_capture_on_commit_callbacks):
    """An orphaned 17-year-old heads the household; their uncle declared; their 19- and
    22-year-old cousins remain."""
    adult = settings.SIJILL["ADULT_AGE"]
    head = child_create(birth_date=aged(adult - 1))
    uncle = person_factory(birth_date=aged(45))
    younger, older = person_factory(birth_date=aged(19)), person_factory(birth_date=aged(22))
    household = household_of([(head, "head"), (uncle, "other_relative"),
                              (younger, "other_relative"), (older, "other_relative")],
                             declarant=uncle)
    with django_capture_on_commit_callbacks(execute=True):
        died_today(uncle)
    household.refresh_from_db()
    assert household.declarant == older
    assert household.versions.get(version=household.current_version).declarant == older
    assert not household.events.filter(note__contains="adult member must be declared").exists()


@pytest.fixture
def minors_and_their_declarant(person_factory: Any) -> dict[str, Any]:
    """A 17-year-old head and a 12-year-old sibling, declared by their 25-year-old sibling."""
    adult = settings.SIJILL["ADULT_AGE"]
    head, small = child_create(birth_date=aged(adult - 1)), child_create(birth_date=aged(12))
    sister = person_factory(birth_date=aged(25), sex="F")
    household = household_of([(head, "head"), (sister, "sibling"), (small, "sibling")],
                             declarant=sister)
    return {"household": household, "head": head, "small": small, "sister": sister}


@pytest.fixture
def submitted_versions() -> Any:
    versions: list[int] = []

    def record(sender: object, version: int, **kwargs: object) -> None:
        versions.append(version)

    household_submitted.connect(record, dispatch_uid="test.declarant_succession")
    yield versions
    household_submitted.disconnect(dispatch_uid="test.declarant_succession")


def test_when_only_minors_remain_the_household_waits_for_an_adult_declarant(
        minors_and_their_declarant, submitted_versions, person_factory,
        django_capture_on_commit_callbacks):
    family = minors_and_their_declarant
    household = family["household"]
    submitted_versions.clear()
    with django_capture_on_commit_callbacks(execute=True):
        died_today(family["sister"])
    household.refresh_from_db()
    assert household.status == "submitted"
    # no minor is recorded as declarant: the departed one stays until an adult is declared
    assert household.declarant == family["sister"]
    assert household.head == family["head"]
    assert household.events.filter(
        note="declarant deceased: an adult member must be declared as declarant").exists()
    assert list(household.memberships.filter(end_date__isnull=True)
                .values_list("person__idcs", flat=True).order_by("person__idcs")) == sorted(
        [family["head"].idcs, family["small"].idcs])
    assert submitted_versions == []  # not verified nor scored until an adult declares

    aunt = person_factory(birth_date=aged(50), sex="F")
    data = declaration_of(household.versions.get(version=household.current_version)).to_dict()
    data["members"].append(member_data(aunt.idcs, "other_relative"))
    with django_capture_on_commit_callbacks(execute=True):
        household_declaration_update(actor=SYSTEM, reference=household.reference,
                                     declaration=Declaration.from_dict(data),
                                     declarant_idcs=aunt.idcs)
    household.refresh_from_db()
    assert household.declarant == aunt
    assert submitted_versions == [household.current_version]


def test_a_declarant_who_moves_out_leaving_minors_leaves_them_waiting_for_an_adult(
        minors_and_their_declarant, as_agent_a, submitted_versions):
    family = minors_and_their_declarant
    household = family["household"]
    r = as_agent_a.post("households", registration_payload(
        [(family["sister"], "head")], moving=[family["sister"].idcs]))
    assert r.status_code == 201, r.json()
    household.refresh_from_db()
    assert household.declarant == family["sister"]
    assert household.status == "submitted"
    assert household.events.filter(
        note="declarant moved: an adult member must be declared as declarant").exists()
    assert household.current_version == 2


def test_a_declarant_who_left_a_household_of_minors_no_longer_changes_it(
        minors_and_their_declarant, as_agent_a):
    family = minors_and_their_declarant
    household = family["household"]
    as_agent_a.post("households", registration_payload(
        [(family["sister"], "head")], moving=[family["sister"].idcs]))
    household.refresh_from_db()
    r = citizen_client(family["sister"]).post(
        f"households/{household.reference}/transitions", {"to": "cancelled"})
    assert r.status_code == 403, r.json()
    assert Household.objects.get(pk=household.pk).status == "submitted"
