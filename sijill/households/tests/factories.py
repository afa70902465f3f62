"""Factories for households: declaration payloads (API shape) and registered households."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sijill.accounts.actors import SYSTEM, Actor
from sijill.declaration.model import Declaration
from sijill.households.models import Household
from sijill.households.services import RegistrationInput, household_register
from sijill.population.models import Person
from sijill.testing.factories import person_create

RABAT = "04.421.01.0"
SALE = "04.441.01.0"
KENITRA = "04.281.01.01"
CASABLANCA = "06.141.01.0"
_n = itertools.count(1)


def household_data(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "dwelling_type": "apartment", "rooms": 3, "has_bathroom_or_shower": True,
        "has_kitchen": True, "has_toilet": True, "has_running_water": True,
        "electricity_meter": "own", "cooking_fuel": "gas", "has_garage": False,
        "has_secondary_residence": False, "has_professional_premises": False,
        "owns_non_agricultural_land": False, "owns_or_farms_irrigated_land": False,
        "cows": 0, "mobile_phones": 2, "computers": 1, "has_satellite_dish": True,
        "has_landline": False, "cars": 0, "motorcycles": 1, "has_loan": False,
        "monthly_water_dh": 120, "monthly_electricity_dh": 250, "monthly_butane_dh": 80,
        "monthly_phone_internet_dh": 150,
    }
    values.update(overrides)
    return values


def member_data(idcs: str, relationship: str = "head", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "idcs": idcs, "relationship": relationship, "marital_status": "married",
        "education_level": "primary", "diploma": "primary_certificate", "literate": True,
        "activity": "employed", "employment_status": "private_employee",
        "occupation": "labourer", "schooling": "not_schooled", "disability": "none",
        "health_coverage": "amo_tadamon",
    }
    values.update(overrides)
    return values


def child_create(*, birth_date: date = date(2016, 5, 1), mother: Person | None = None,
                 **overrides: Any) -> Person:
    mother = mother or person_create(sex="F")
    return person_create(basis="birth_certificate", cnie=None, birth_date=birth_date,
                         birth_certificate_ref=f"AN-{next(_n):06d}", mother_idcs=mother.idcs,
                         **overrides)


def registration_payload(people: list[tuple[Person, str]], *, commune: str = RABAT,
                         declarant: Person | None = None, **overrides: Any) -> dict[str, Any]:
    """API body registering `people` [(person, relationship)]; the first is the declarant."""
    body: dict[str, Any] = {
        "commune": commune, "milieu": "urban", "address": "12 rue Oqba, Agdal",
        "declarant_idcs": (declarant or people[0][0]).idcs, "notice_language": "ar",
        "household": household_data(),
        "members": [member_data(p.idcs, rel) for p, rel in people],
    }
    body.update(overrides)
    return body


def household_create(*, members: list[tuple[Person, str]] | None = None, commune: str = RABAT,
                     actor: Actor = SYSTEM, submit: bool = True) -> Household:
    """Register a household through the service (a lone head if no members are given)."""
    members = members or [(person_create(), "head")]
    body = registration_payload(members, commune=commune)
    return household_register(actor=actor, submit=submit, data=RegistrationInput(
        commune=commune, milieu="urban", address=body["address"],
        declarant_idcs=body["declarant_idcs"],
        declaration=Declaration.from_dict({"household": body["household"],
                                           "members": body["members"]})))
