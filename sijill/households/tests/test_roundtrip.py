"""A declaration with every field goes through the API and comes back unchanged."""

from __future__ import annotations

import pytest

from sijill.declaration import vocab
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from sijill.households.api import HouseholdDataIn, MemberDataIn
from sijill.households.tests.factories import child_create, member_data, registration_payload

pytestmark = pytest.mark.django_db


def test_the_api_schemas_carry_every_field_of_the_declaration_contract():
    assert tuple(HouseholdDataIn.model_fields) == HOUSEHOLD_FIELDS
    assert tuple(MemberDataIn.model_fields) == MEMBER_FIELDS


def test_a_declaration_with_every_field_round_trips_unchanged(as_admin, person_factory):
    head, spouse, grandmother = person_factory(), person_factory(sex="F"), person_factory()
    kid = child_create(mother=spouse)
    household = {
        "dwelling_type": "rural_stone", "rooms": 4, "has_bathroom_or_shower": False,
        "has_kitchen": True, "has_toilet": False, "has_running_water": False,
        "electricity_meter": "shared", "cooking_fuel": "firewood", "has_garage": True,
        "has_secondary_residence": True, "has_professional_premises": True,
        "owns_non_agricultural_land": True, "owns_or_farms_irrigated_land": True,
        "cows": 7, "mobile_phones": 3, "computers": 0, "has_satellite_dish": True,
        "has_landline": True, "cars": 1, "motorcycles": 2, "has_loan": True,
        "monthly_water_dh": 0, "monthly_electricity_dh": 95, "monthly_butane_dh": 120,
        "monthly_phone_internet_dh": 99,
    }
    members = [
        member_data(head.idcs, "head", marital_status="married", education_level="higher",
                    diploma="higher", activity="employed", employment_status="employer",
                    occupation="senior_executive", health_coverage="amo_self_employed"),
        member_data(spouse.idcs, "spouse", marital_status="married",
                    education_level="upper_secondary", diploma="baccalaureate",
                    literate=True, activity="homemaker", employment_status="none",
                    occupation="none", disability="visual", health_coverage="amo_salaried"),
        member_data(grandmother.idcs, "parent", marital_status="widowed",
                    education_level="none", diploma="none", literate=False,
                    activity="unable_to_work", employment_status="none", occupation="none",
                    disability="multiple", health_coverage="none"),
        member_data(kid.idcs, "child", marital_status="single", education_level="primary",
                    diploma="none", activity="student", employment_status="none",
                    occupation="none", schooling="private", health_coverage="amo_tadamon"),
    ]
    # A rural household lives in a rural commune (Ameur Seflia, Kénitra).
    body = registration_payload([], declarant=head, household=household, members=members,
                                milieu="rural", notice_language="fr", commune="04.281.03.01")
    r = as_admin.post("households", body)
    assert r.status_code == 201, r.json()
    ref = r.json()["reference"]
    out = as_admin.get(f"households/{ref}").json()
    assert out["declaration"]["household"] == household
    assert out["declaration"]["members"] == members
    assert out["milieu"] == "rural" and out["notice_language"] == "fr"
    assert out["address"] == body["address"] and out["commune"] == body["commune"]


def test_every_enumeration_value_is_accepted_and_stored(as_agent_a, person_factory):
    """Each value of each member enumeration, spread over members, round-trips."""
    enums = {"marital_status": vocab.MaritalStatus, "education_level": vocab.EducationLevel,
             "diploma": vocab.Diploma, "activity": vocab.Activity,
             "employment_status": vocab.EmploymentStatus, "occupation": vocab.Occupation,
             "schooling": vocab.Schooling, "disability": vocab.Disability,
             "health_coverage": vocab.HealthCoverage}
    width = max(len(e) for e in enums.values())
    people = [person_factory() for _ in range(width)]
    relationships = [r.value for r in vocab.Relationship]
    members = [member_data(p.idcs, relationships[i % len(relationships)] if i else "head",
                           **{name: list(e)[i % len(e)].value for name, e in enums.items()})
               for i, p in enumerate(people)]
    members = [m if i == 0 or m["relationship"] != "head" else {**m, "relationship": "spouse"}
               for i, m in enumerate(members)]
    r = as_agent_a.post("households", registration_payload([], declarant=people[0],
                                                           members=members))
    assert r.status_code == 201, r.json()
    assert r.json()["declaration"]["members"] == members


@pytest.mark.parametrize("dwelling", [d.value for d in vocab.DwellingType])
def test_every_dwelling_type_is_accepted_and_stored(as_agent_a, person_factory, dwelling):
    body = registration_payload([(person_factory(), "head")])
    body["household"]["dwelling_type"] = dwelling
    r = as_agent_a.post("households", body)
    assert r.json()["declaration"]["household"]["dwelling_type"] == dwelling
