"""Registering a household: every member enrolled and alive, an adult declarant, one head."""

from __future__ import annotations

from datetime import date

import pytest

from sijill.accounts.actors import SYSTEM
from sijill.households.models import DeclarationVersion, Household, Membership
from sijill.households.tests.factories import child_create, member_data, registration_payload
from sijill.population.services import person_record_death

pytestmark = pytest.mark.django_db


def fields_of(response) -> dict[str, str]:
    return {f["field"]: f["code"] for f in response.json()["error"].get("fields", [])}


def test_an_agent_registers_a_family_and_it_is_submitted_with_its_first_declaration(
        as_agent_a, person_factory):
    father, mother = person_factory(sex="M"), person_factory(sex="F")
    son = child_create(mother=mother)
    body = registration_payload([(father, "head"), (mother, "spouse"), (son, "child")])
    r = as_agent_a.post("households", body)
    assert r.status_code == 201, r.json()
    out = r.json()
    assert out["reference"].startswith("MEN-") and len(out["reference"]) == 12
    assert out["status"] == "submitted"
    assert out["head_idcs"] == father.idcs and out["declarant_idcs"] == father.idcs
    assert {m["idcs"] for m in out["members"]} == {father.idcs, mother.idcs, son.idcs}
    assert out["declaration"]["version"] == 1
    assert out["region"] == "04" and out["province"] == "04.421"
    household = Household.objects.get(reference=out["reference"])
    assert household.memberships.filter(end_date__isnull=True).count() == 3


def test_a_person_living_alone_is_a_household(as_agent_a, person_factory):
    alone = person_factory()
    r = as_agent_a.post("households", registration_payload([(alone, "head")]))
    assert r.status_code == 201
    assert [m["idcs"] for m in r.json()["members"]] == [alone.idcs]


def test_a_registration_can_be_kept_as_a_draft_then_submitted(as_agent_a, person_factory):
    head = person_factory()
    r = as_agent_a.post("households", registration_payload([(head, "head")], submit=False))
    assert r.json()["status"] == "draft"
    ref = r.json()["reference"]
    r = as_agent_a.post(f"households/{ref}/submit")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    history = as_agent_a.get(f"households/{ref}/history").json()
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        ("", "draft"), ("draft", "submitted")]


def test_a_mistyped_idcs_is_refused_with_a_clear_error_on_that_member(as_agent_a,
                                                                      person_factory):
    head, spouse = person_factory(), person_factory()
    typo = spouse.idcs[:-1] + str((int(spouse.idcs[-1]) + 1) % 10)
    body = registration_payload([(head, "head"), (spouse, "spouse")])
    body["members"][1]["idcs"] = typo
    r = as_agent_a.post("households", body)
    assert r.status_code == 422
    assert fields_of(r)["members.1.idcs"] in {"idcs_checksum", "not_enrolled"}
    assert not Household.objects.exists()


def test_a_malformed_idcs_is_refused(as_agent_a, person_factory):
    head = person_factory()
    body = registration_payload([(head, "head")])
    body["members"].append(member_data("12345", "child"))
    r = as_agent_a.post("households", body)
    assert fields_of(r) == {"members.1.idcs": "idcs_format"}


def test_every_member_must_be_enrolled_in_the_population_register(as_agent_a, person_factory):
    from sijill.population import idcs as idcs_mod

    head = person_factory()
    stranger = idcs_mod.allocate_batch(1, lambda numbers: set())[0]
    body = registration_payload([(head, "head")])
    body["members"].append(member_data(stranger, "child"))
    r = as_agent_a.post("households", body)
    assert r.status_code == 422
    assert fields_of(r) == {"members.1.idcs": "not_enrolled"}
    assert stranger in r.json()["error"]["fields"][0]["message"]


def test_a_deceased_person_cannot_be_declared_a_member(as_agent_a, person_factory):
    head, late = person_factory(), person_factory()
    person_record_death(actor=SYSTEM, idcs=late.idcs, death_date=date(2024, 1, 2))
    r = as_agent_a.post("households", registration_payload([(head, "head"), (late, "parent")]))
    assert fields_of(r) == {"members.1.idcs": "deceased"}


def test_the_declarant_must_be_an_adult(as_agent_a, person_factory):
    teenager = child_create(birth_date=date(date.today().year - 16, 1, 1))
    r = as_agent_a.post("households", registration_payload([(teenager, "head")]))
    assert r.status_code == 422
    assert fields_of(r) == {"declarant_idcs": "declarant_not_adult"}


def test_the_declarant_must_be_a_member(as_agent_a, person_factory):
    head, outsider = person_factory(), person_factory()
    r = as_agent_a.post("households", registration_payload([(head, "head")],
                                                           declarant=outsider))
    assert fields_of(r) == {"declarant_idcs": "declarant_not_member"}


def test_a_household_needs_a_head(as_agent_a, person_factory):
    a, b = person_factory(), person_factory()
    r = as_agent_a.post("households", registration_payload([(a, "spouse"), (b, "spouse")]))
    assert fields_of(r) == {"members": "no_head"}


def test_a_household_has_only_one_head(as_agent_a, person_factory):
    a, b = person_factory(), person_factory()
    r = as_agent_a.post("households", registration_payload([(a, "head"), (b, "head")]))
    assert fields_of(r) == {"members.1.relationship": "several_heads"}


def test_a_person_cannot_be_listed_twice(as_agent_a, person_factory):
    a = person_factory()
    r = as_agent_a.post("households", registration_payload([(a, "head"), (a, "child")]))
    assert fields_of(r) == {"members.1.idcs": "duplicate_member"}


def test_an_unknown_commune_is_refused(as_admin, person_factory):
    a = person_factory()
    r = as_admin.post("households", registration_payload([(a, "head")], commune="04.421.99.9"))
    assert fields_of(r) == {"commune": "unknown_commune"}


def test_an_unknown_enumeration_value_is_refused_naming_the_field(as_agent_a, person_factory):
    a = person_factory()
    body = registration_payload([(a, "head")])
    body["household"]["dwelling_type"] = "castle"
    body["members"][0]["marital_status"] = "complicated"
    r = as_agent_a.post("households", body)
    assert r.status_code == 422
    assert fields_of(r) == {"household.dwelling_type": "enum",
                            "members.0.marital_status": "enum"}


def test_declared_numbers_out_of_range_are_refused(as_agent_a, person_factory):
    a = person_factory()
    body = registration_payload([(a, "head")])
    body["household"]["rooms"] = -1
    body["household"]["monthly_water_dh"] = 10_000_000
    r = as_agent_a.post("households", body)
    assert fields_of(r) == {"household.rooms": "greater_than_equal",
                            "household.monthly_water_dh": "less_than_equal"}


def test_a_failed_registration_leaves_nothing_behind(as_agent_a, person_factory):
    a, b = person_factory(), person_factory()
    as_agent_a.post("households", registration_payload([(a, "head"), (b, "head")]))
    assert not Household.objects.exists()
    assert not Membership.objects.exists()
    assert not DeclarationVersion.objects.exists()


def test_a_reference_already_taken_is_drawn_again(monkeypatch, as_agent_a, person_factory):
    """At national scale 8 hex digits collide now and then: the registration still succeeds."""
    from sijill.households import services

    first = as_agent_a.post("households", registration_payload([(person_factory(), "head")]))
    draws = iter([first.json()["reference"], "MEN-00C0FFEE"])
    monkeypatch.setattr(services, "_reference", lambda: next(draws))
    response = as_agent_a.post("households", registration_payload([(person_factory(), "head")]))
    assert response.status_code == 201, response.content
    assert response.json()["reference"] == "MEN-00C0FFEE"
    assert Household.objects.count() == 2
