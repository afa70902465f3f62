"""A person belongs to at most one active household: checked, enforced, and raced."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sijill.conftest import ApiClient
from sijill.households import services
from sijill.households.models import Household, Membership
from sijill.households.tests.factories import (
    household_create,
    household_data,
    member_data,
    registration_payload,
)
from sijill.testing.concurrency import at_once

pytestmark = pytest.mark.django_db


def test_a_person_already_in_a_household_cannot_be_registered_in_another(as_agent_a,
                                                                         person_factory):
    head, lodger = person_factory(), person_factory()
    household_create(members=[(lodger, "head")])
    r = as_agent_a.post("households", registration_payload([(head, "head"),
                                                            (lodger, "non_relative")]))
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "conflict"
    assert lodger.idcs in error["message"]
    assert error["idcs"] == [lodger.idcs]
    assert error["fields"][0]["field"] == "members.1.idcs"
    assert Household.objects.count() == 1


@pytest.mark.parametrize(("language", "words"), [
    ("en", "The persons with IDCS"), ("fr", "Les personnes d'IDCS"),
    ("ar", "الأشخاص أصحاب المعرفات")])
def test_several_people_of_other_households_are_named_together_in_the_plural(
        as_agent_a, person_factory, language, words):
    head, lodger, cousin = person_factory(), person_factory(), person_factory()
    household_create(members=[(lodger, "head"), (cousin, "other_relative")])
    r = as_agent_a.post("households", registration_payload(
        [(head, "head"), (lodger, "non_relative"), (cousin, "other_relative")]), lang=language)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["message"].startswith(words)
    assert error["idcs"] == sorted([lodger.idcs, cousin.idcs])
    assert sorted(f["field"] for f in error["fields"]) == ["members.1.idcs", "members.2.idcs"]


def test_a_declared_move_ends_the_old_membership_and_starts_a_new_one(as_agent_a,
                                                                      person_factory):
    parent, daughter, husband = person_factory(), person_factory(sex="F"), person_factory()
    old = household_create(members=[(parent, "head"), (daughter, "child")])
    body = registration_payload([(husband, "head"), (daughter, "spouse")],
                                moving=[daughter.idcs])
    r = as_agent_a.post("households", body)
    assert r.status_code == 201, r.json()
    rows = list(Membership.objects.filter(person=daughter).order_by("id"))
    assert [(m.household_id, m.end_reason) for m in rows] == [
        (old.pk, "moved"), (Household.objects.get(reference=r.json()["reference"]).pk, "")]
    assert rows[0].end_date is not None and rows[1].end_date is None
    old.refresh_from_db()
    assert old.current_version == 2  # the old household's declaration no longer lists her
    assert [m.idcs for m in services.declaration_of(old.versions.get(version=2)).members] == [
        parent.idcs]
    assert [m.idcs for m in services.declaration_of(old.versions.get(version=1)).members] == [
        parent.idcs, daughter.idcs]


def test_the_head_of_a_household_with_others_cannot_move_out(as_agent_a, person_factory):
    head, child, other = person_factory(), person_factory(), person_factory()
    household_create(members=[(head, "head"), (child, "child")])
    r = as_agent_a.post("households", registration_payload([(other, "head"), (head, "spouse")],
                                                           moving=[head.idcs]))
    assert r.status_code == 409
    assert head.idcs in r.json()["error"]["message"]


def test_a_person_alone_who_moves_out_leaves_the_old_registration_cancelled(as_agent_a,
                                                                           person_factory):
    single, partner = person_factory(), person_factory()
    old = household_create(members=[(single, "head")])
    r = as_agent_a.post("households", registration_payload([(partner, "head"),
                                                            (single, "spouse")],
                                                           moving=[single.idcs]))
    assert r.status_code == 201
    old.refresh_from_db()
    assert old.status == "cancelled"


def test_the_database_refuses_a_second_active_membership(person_factory):
    from django.db import IntegrityError, transaction

    person = person_factory()
    household_create(members=[(person, "head")])
    other = household_create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(household=other, person=person, relationship="child",
                                  start_date="2025-01-01")


def test_the_database_refuses_a_second_active_head(person_factory):
    from django.db import IntegrityError, transaction

    household = household_create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(household=household, person=person_factory(),
                                  relationship="head", start_date="2025-01-01")


def test_a_constraint_violation_becomes_a_conflict_naming_the_person(as_agent_a, person_factory,
                                                                     monkeypatch):
    """The Python check is the first line; the database index is the one that cannot be raced.
    With the check disabled, the index's refusal still reaches the caller as a 409."""
    taken = person_factory()
    household_create(members=[(taken, "head")])
    monkeypatch.setattr(services, "_leave_other_households", lambda **kw: None)
    r = as_agent_a.post("households", registration_payload([(person_factory(), "head"),
                                                            (taken, "sibling")]))
    assert r.status_code == 409
    assert r.json()["error"]["idcs"] == [taken.idcs]
    assert taken.idcs in r.json()["error"]["message"]


def test_an_update_naming_a_member_of_another_household_is_refused_by_the_index_too(
        as_agent_a, person_factory, monkeypatch):
    """The same last line for an updated declaration: the index refuses, the caller gets the
    409 naming the person, and nothing of the update stays."""
    head, taken = person_factory(), person_factory()
    household = household_create(members=[(head, "head")])
    household_create(members=[(taken, "head")])
    monkeypatch.setattr(services, "_leave_other_households", lambda **kw: None)
    r = as_agent_a.post(f"households/{household.reference}/declarations", {
        "household": household_data(),
        "members": [member_data(head.idcs, "head"), member_data(taken.idcs, "sibling")]})
    assert r.status_code == 409
    assert r.json()["error"]["idcs"] == [taken.idcs]
    household.refresh_from_db()
    assert household.current_version == 1


def _race(clients: list[ApiClient], bodies: list[dict[str, Any]]) -> list[Any]:
    return at_once([lambda c=c, b=b: c.post("households", b)
                    for c, b in zip(clients, bodies, strict=True)])


def _client(user: Any) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_registrations_naming_one_person_exactly_one_succeeds(
        agent_a, person_factory):
    shared = person_factory()
    heads = [person_factory() for _ in range(2)]
    bodies = [registration_payload([(h, "head"), (shared, "parent")]) for h in heads]
    results = _race([_client(agent_a), _client(agent_a)], bodies)
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409], [r.json() for r in results]
    loser = next(r for r in results if r.status_code == 409).json()["error"]
    assert shared.idcs in loser["message"] and loser["idcs"] == [shared.idcs]
    assert Household.objects.count() == 1
    assert Membership.objects.filter(person=shared, end_date__isnull=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_registrations_of_the_same_person_with_the_python_check_off_still_conflict(
        agent_a, person_factory, monkeypatch):
    """Only the partial unique index stands between the two: one wins, one gets the 409."""
    monkeypatch.setattr(services, "_leave_other_households", lambda **kw: None)
    shared = person_factory()
    bodies = [registration_payload([(person_factory(), "head"), (shared, "parent")])
              for _ in range(4)]
    results = _race([_client(agent_a) for _ in range(4)], bodies)
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409], [r.json() for r in results]
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"]["idcs"] == [shared.idcs]
    assert Membership.objects.filter(person=shared, end_date__isnull=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_updates_of_one_household_each_write_their_own_version(agent_a):
    from sijill.households.models import DeclarationVersion
    from sijill.households.tests.factories import household_data, member_data

    household = household_create()
    head = household.head.idcs
    bodies = [{"household": household_data(cows=n), "members": [member_data(head, "head")]}
              for n in (1, 2, 3)]
    clients = [_client(agent_a) for _ in bodies]
    codes = at_once([
        lambda c=c, b=b: c.post(f"households/{household.reference}/declarations", b).status_code
        for c, b in zip(clients, bodies, strict=True)])
    assert codes == [200, 200, 200]
    versions = list(DeclarationVersion.objects.filter(household=household)
                    .order_by("version").values_list("version", "cows"))
    assert [v for v, _ in versions] == [1, 2, 3, 4]
    assert sorted(c for v, c in versions[1:]) == [1, 2, 3]
    household.refresh_from_db()
    assert household.current_version == 4
