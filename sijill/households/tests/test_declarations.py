"""Each submission or change writes a new immutable declaration version; nothing is
overwritten. Members are added and removed with their membership history kept."""

from __future__ import annotations

import pytest

from sijill.households import services
from sijill.households.models import DeclarationVersion, Membership
from sijill.households.tests.factories import (
    child_create,
    household_create,
    household_data,
    member_data,
)

pytestmark = pytest.mark.django_db


def _declaration(household, members, **household_overrides):
    return {"household": household_data(**household_overrides), "members": members}


def test_an_updated_declaration_is_a_new_version_and_the_old_one_is_kept(as_agent_a):
    household = household_create()
    ref, head = household.reference, household.head.idcs
    r = as_agent_a.post(f"households/{ref}/declarations",
                        _declaration(household, [member_data(head, "head")], cars=2))
    assert r.status_code == 200, r.json()
    assert r.json()["declaration"]["version"] == 2
    assert r.json()["declaration"]["household"]["cars"] == 2
    v1 = DeclarationVersion.objects.get(household=household, version=1)
    assert v1.cars == 0 and v1.reason == "registration"


def test_a_declaration_version_cannot_be_changed_or_deleted():
    household = household_create()
    version = DeclarationVersion.objects.get(household=household, version=1)
    version.cars = 5
    with pytest.raises(RuntimeError):
        version.save()
    with pytest.raises(RuntimeError):
        version.delete()


def test_the_database_refuses_a_second_version_with_the_same_number():
    from django.db import IntegrityError, transaction

    household = household_create()
    v1 = DeclarationVersion.objects.get(household=household, version=1)
    v1.pk = None
    v1._state.adding = True
    with pytest.raises(IntegrityError), transaction.atomic():
        v1.save()


def test_the_database_refuses_declared_numbers_out_of_range():
    from django.db import IntegrityError, transaction

    household = household_create()
    version = DeclarationVersion.objects.get(household=household)
    fields = {f.attname: getattr(version, f.attname) for f in DeclarationVersion._meta.fields
              if not f.primary_key}
    with pytest.raises(IntegrityError), transaction.atomic():
        DeclarationVersion.objects.bulk_create([DeclarationVersion(
            **{**fields, "version": version.version + 1, "rooms": 500})])


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_delete_a_declaration_or_an_event_even_in_bulk():
    from django.db import DatabaseError, connection, transaction

    from sijill.core.immutable import rekeying
    from sijill.households.models import MemberDeclaration, RegistrationEvent

    household = household_create()
    attempts = [
        lambda: DeclarationVersion.objects.filter(household=household).update(rooms=4),
        lambda: RegistrationEvent.objects.filter(household=household)._raw_delete("default"),
        lambda: MemberDeclaration.objects.filter(declaration__household=household).update(
            literate=False),
        lambda: RegistrationEvent.objects.filter(household=household).update(note="edited"),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            attempt()
    # Rewriting only the encrypted columns in place: refused outside a key rotation, allowed
    # in a transaction marked as one.
    member = MemberDeclaration.objects.filter(declaration__household=household).first()
    rewrite = ("UPDATE households_memberdeclaration SET disability = disability, "
               "health_coverage = health_coverage WHERE id = %s")
    with (pytest.raises(DatabaseError, match="immutable"), transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute(rewrite, [member.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        rekeying(connection)
        cursor.execute(rewrite, [member.pk])
        assert cursor.rowcount == 1


def test_adding_a_newborn_adds_a_member_and_a_version(as_agent_a, person_factory):
    mother = person_factory(sex="F")
    household = household_create(members=[(mother, "head")])
    baby = child_create(mother=mother)
    r = as_agent_a.post(f"households/{household.reference}/members",
                        {"member": member_data(baby.idcs, "child", marital_status="single")})
    assert r.status_code == 200, r.json()
    assert {m["idcs"] for m in r.json()["members"]} == {mother.idcs, baby.idcs}
    assert r.json()["declaration"]["version"] == 2
    assert [m["idcs"] for m in r.json()["declaration"]["members"]] == [mother.idcs, baby.idcs]


def test_adding_a_member_of_another_household_needs_the_move_declared(as_agent_a,
                                                                     person_factory):
    household = household_create()
    elsewhere = person_factory()
    household_create(members=[(elsewhere, "head")])
    member = member_data(elsewhere.idcs, "parent")
    r = as_agent_a.post(f"households/{household.reference}/members", {"member": member})
    assert r.status_code == 409 and elsewhere.idcs in r.json()["error"]["message"]
    r = as_agent_a.post(f"households/{household.reference}/members",
                        {"member": member, "moving": True})
    assert r.status_code == 200, r.json()
    assert Membership.objects.filter(person=elsewhere).count() == 2
    assert Membership.objects.filter(person=elsewhere, end_date__isnull=True).get(
        ).household_id == household.pk


def test_a_member_who_leaves_keeps_their_membership_history(as_agent_a, person_factory):
    head, lodger = person_factory(), person_factory()
    household = household_create(members=[(head, "head"), (lodger, "non_relative")])
    r = as_agent_a.delete(f"households/{household.reference}/members/{lodger.idcs}")
    assert r.status_code == 200, r.json()
    assert [m["idcs"] for m in r.json()["members"]] == [head.idcs]
    history = as_agent_a.get(f"households/{household.reference}/memberships").json()
    ended = next(m for m in history if m["idcs"] == lodger.idcs)
    assert ended["end_date"] is not None and ended["end_reason"] == "left"
    assert r.json()["declaration"]["version"] == 2


def test_the_head_cannot_leave_while_others_remain(as_agent_a, person_factory):
    head, spouse = person_factory(), person_factory()
    household = household_create(members=[(head, "head"), (spouse, "spouse")])
    r = as_agent_a.delete(f"households/{household.reference}/members/{head.idcs}")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["code"] == "head_cannot_leave"


def test_a_new_head_is_named_by_an_updated_declaration(as_agent_a, person_factory):
    old_head, new_head = person_factory(), person_factory()
    household = household_create(members=[(old_head, "head"), (new_head, "spouse")])
    r = as_agent_a.post(f"households/{household.reference}/declarations", _declaration(
        household, [member_data(old_head.idcs, "spouse"), member_data(new_head.idcs, "head")]))
    assert r.status_code == 200, r.json()
    assert r.json()["head_idcs"] == new_head.idcs
    # relationship changes end one membership and start another: history kept
    assert Membership.objects.filter(person=old_head).count() == 2
    assert Membership.objects.filter(person=old_head, end_reason="relationship_changed").exists()


def test_an_update_after_scoring_sends_the_registration_back_to_verification(
        as_agent_a, as_admin):
    household = household_create()
    ref, head = household.reference, household.head.idcs
    for step in ("verifying", "scored", "notified"):
        assert as_admin.post(f"households/{ref}/transitions", {"to": step}).status_code == 200
    r = as_agent_a.post(f"households/{ref}/declarations",
                        _declaration(household, [member_data(head, "head")], cows=3))
    assert r.json()["status"] == "submitted"
    history = [(e["from_status"], e["to_status"]) for e in
               as_agent_a.get(f"households/{ref}/history").json()]
    assert history == [("", "draft"), ("draft", "submitted"), ("submitted", "verifying"),
                       ("verifying", "scored"), ("scored", "notified"),
                       ("notified", "submitted")]


def test_each_status_change_records_when_and_who(as_admin, admin_user):
    household = household_create()
    as_admin.post(f"households/{household.reference}/transitions",
                  {"to": "rejected", "note": "address not found"})
    last = as_admin.get(f"households/{household.reference}/history").json()[-1]
    assert last["to_status"] == "rejected" and last["note"] == "address not found"
    assert last["actor"] == f"user:{admin_user.pk}" and last["at"]


def test_an_agent_cannot_mark_a_household_scored(as_agent_a):
    household = household_create()
    r = as_agent_a.post(f"households/{household.reference}/transitions", {"to": "verifying"})
    assert r.status_code == 403


def test_an_impossible_transition_is_a_conflict(as_admin):
    household = household_create()
    r = as_admin.post(f"households/{household.reference}/transitions", {"to": "notified"})
    assert r.status_code == 409


def test_cancelling_a_registration_frees_its_members(as_agent_a, person_factory):
    person = person_factory()
    household = household_create(members=[(person, "head")])
    r = as_agent_a.post(f"households/{household.reference}/transitions", {"to": "cancelled"})
    assert r.status_code == 200
    assert not Membership.objects.filter(person=person, end_date__isnull=True).exists()
    household_create(members=[(person, "head")])


def test_submission_signals_are_sent_after_commit(django_capture_on_commit_callbacks):
    from sijill.households.signals import household_submitted

    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs["reference"])

    household_submitted.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            household = household_create()
        assert seen == []
        for callback in callbacks:
            callback()
        assert seen == [household.reference]
    finally:
        household_submitted.disconnect(receiver)


def test_services_refuse_out_of_range_numbers_given_directly(person_factory):
    from sijill.core.errors import ValidationFailed
    from sijill.declaration.model import Declaration

    head = person_factory()
    with pytest.raises(ValidationFailed) as caught:
        services.household_register(actor=services.SYSTEM, data=services.RegistrationInput(
            commune="04.421.01.0", milieu="urban", address="x", declarant_idcs=head.idcs,
            declaration=Declaration.from_dict({"household": household_data(cows=-2),
                                               "members": [member_data(head.idcs)]})))
    assert [f.field for f in caught.value.fields] == ["household.cows"]
