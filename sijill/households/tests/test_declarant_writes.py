"""On the citizen side only the declarant changes a household; its other members read it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.conftest import ApiClient
from sijill.declaration.model import Declaration
from sijill.households.models import Household, Membership, RegistrationEvent
from sijill.households.services import RegistrationInput, household_register
from sijill.households.tests.factories import household_data, member_data, registration_payload
from sijill.population.models import Person
from sijill.testing.factories import user_create

pytestmark = pytest.mark.django_db


def household_of(members: list[tuple[Person, str]], *, declarant: Person,
                 submit: bool = True) -> Household:
    body = registration_payload(members, declarant=declarant)
    return household_register(actor=SYSTEM, submit=submit, data=RegistrationInput(
        commune=body["commune"], milieu="urban", address=body["address"],
        declarant_idcs=declarant.idcs,
        declaration=Declaration.from_dict({"household": body["household"],
                                           "members": body["members"]})))


def citizen_client(person: Person) -> ApiClient:
    client = Client()
    client.force_login(user_create(username=f"citizen-{person.idcs}", role="citizen",
                                   idcs=person.idcs))
    return ApiClient(client)


@pytest.fixture
def family(person_factory: Any) -> dict[str, Any]:
    """A couple and their adult son: the husband heads and declares, the wife signs in."""
    head, wife, son = person_factory(), person_factory(sex="F"), person_factory()
    household = household_of([(head, "head"), (wife, "spouse"), (son, "child")], declarant=head)
    return {"household": household, "head": head, "wife": wife, "son": son,
            "as_wife": citizen_client(wife), "as_head": citizen_client(head)}


def _refused(r: Any) -> None:
    assert r.status_code == 403, r.json()
    error = r.json()["error"]
    assert error["code"] == "permission_denied"
    assert "declarant" in error["message"]


def _unchanged(household: Household, members: int = 3) -> None:
    fresh = Household.objects.get(pk=household.pk)
    assert fresh.current_version == household.current_version
    assert fresh.status == household.status
    assert fresh.declarant_id == household.declarant_id
    assert Membership.objects.filter(household=household, end_date__isnull=True).count() == members
    assert not RegistrationEvent.objects.filter(household=household,
                                                actor_label__startswith="citizen").exists()


def _update_body(family: dict[str, Any], **household: Any) -> dict[str, Any]:
    return {"household": household_data(**household),
            "members": [member_data(family["head"].idcs, "head"),
                        member_data(family["wife"].idcs, "spouse"),
                        member_data(family["son"].idcs, "child")]}


def test_a_member_who_is_not_the_declarant_still_reads_the_household(family):
    ref = family["household"].reference
    assert family["as_wife"].get(f"households/{ref}").status_code == 200
    assert family["as_wife"].get(f"households/{ref}/history").status_code == 200
    assert family["as_wife"].get(f"households/{ref}/memberships").status_code == 200


def test_a_member_who_is_not_the_declarant_cannot_update_the_declaration(family):
    ref = family["household"].reference
    _refused(family["as_wife"].post(f"households/{ref}/declarations",
                                    _update_body(family, cars=1)))
    _unchanged(family["household"])


def test_a_member_who_is_not_the_declarant_cannot_declare_a_move(family):
    ref = family["household"].reference
    body = {**_update_body(family), "commune": "04.441.01.0", "milieu": "urban",
            "address": "3 rue des Orangers, Salé"}
    _refused(family["as_wife"].post(f"households/{ref}/declarations", body))
    _unchanged(family["household"])
    assert Household.objects.get(pk=family["household"].pk).commune_id == "04.421.01.0"


def test_a_member_who_is_not_the_declarant_cannot_make_themselves_declarant(family):
    ref = family["household"].reference
    body = {**_update_body(family), "declarant_idcs": family["wife"].idcs}
    _refused(family["as_wife"].post(f"households/{ref}/declarations", body))
    _unchanged(family["household"])


def test_a_member_who_is_not_the_declarant_cannot_add_a_member(family, person_factory):
    ref = family["household"].reference
    r = family["as_wife"].post(f"households/{ref}/members",
                               {"member": member_data(person_factory().idcs, "child")})
    _refused(r)
    _unchanged(family["household"])


def test_a_member_who_is_not_the_declarant_cannot_remove_a_member(family):
    ref = family["household"].reference
    _refused(family["as_wife"].delete(f"households/{ref}/members/{family['son'].idcs}"))
    _refused(family["as_wife"].delete(f"households/{ref}/members/{family['wife'].idcs}"))
    _unchanged(family["household"])


def test_a_member_who_is_not_the_declarant_cannot_cancel_the_registration(family):
    ref = family["household"].reference
    _refused(family["as_wife"].post(f"households/{ref}/transitions", {"to": "cancelled"}))
    _unchanged(family["household"])


def test_a_member_who_is_not_the_declarant_cannot_submit_a_draft(person_factory):
    head, wife = person_factory(), person_factory(sex="F")
    draft = household_of([(head, "head"), (wife, "spouse")], declarant=head, submit=False)
    _refused(citizen_client(wife).post(f"households/{draft.reference}/submit"))
    assert Household.objects.get(pk=draft.pk).status == "draft"


def test_a_citizen_cannot_take_a_member_out_of_a_household_they_do_not_declare(
        family, person_factory):
    """Bringing in the son from his parents' household would change theirs: only its
    declarant (or an agent) may; the son may move himself."""
    neighbour = person_factory()
    mine = household_of([(neighbour, "head")], declarant=neighbour)
    body = {"household": household_data(),
            "members": [member_data(neighbour.idcs, "head"),
                        member_data(family["son"].idcs, "non_relative")],
            "moving": [family["son"].idcs]}
    r = citizen_client(neighbour).post(f"households/{mine.reference}/declarations", body)
    assert r.status_code == 403, r.json()
    assert r.json()["error"]["idcs"] == [family["son"].idcs]
    _unchanged(family["household"])
    assert Household.objects.get(pk=mine.pk).current_version == 1


def test_a_member_may_move_themselves_out_to_a_household_they_register(family):
    body = registration_payload([(family["son"], "head")], moving=[family["son"].idcs])
    r = citizen_client(family["son"]).post("households", body)
    assert r.status_code == 201, r.json()
    assert Membership.objects.get(person=family["son"], end_date__isnull=True
                                  ).household.reference == r.json()["reference"]


def test_the_declarant_still_changes_and_cancels_the_household(family, person_factory):
    ref = family["household"].reference
    as_head = family["as_head"]
    r = as_head.post(f"households/{ref}/declarations", _update_body(family, cars=1))
    assert r.status_code == 200, r.json()
    assert r.json()["declaration"]["household"]["cars"] == 1
    r = as_head.post(f"households/{ref}/members",
                     {"member": member_data(person_factory().idcs, "child")})
    assert r.status_code == 200, r.json()
    assert len(r.json()["members"]) == 4
    r = as_head.delete(f"households/{ref}/members/{family['son'].idcs}")
    assert r.status_code == 200, r.json()
    assert len(r.json()["members"]) == 3
    r = as_head.post(f"households/{ref}/transitions", {"to": "cancelled"})
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "cancelled"


def test_a_member_made_declarant_by_the_declarant_may_then_change_it(family):
    ref = family["household"].reference
    body = {**_update_body(family), "declarant_idcs": family["wife"].idcs}
    assert family["as_head"].post(f"households/{ref}/declarations", body).status_code == 200
    r = family["as_wife"].post(f"households/{ref}/declarations", _update_body(family, cars=2))
    assert r.status_code == 200, r.json()
    _refused(family["as_head"].post(f"households/{ref}/declarations", _update_body(family)))
