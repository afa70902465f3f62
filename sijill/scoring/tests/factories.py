"""Households for the scoring tests: registered through the real services, urban or rural,
with chosen or random declared data (seeded)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from sijill.accounts.actors import SYSTEM
from sijill.declaration import vocab
from sijill.declaration.model import Declaration
from sijill.households.models import DeclarationVersion, Household
from sijill.households.services import RegistrationInput, household_register
from sijill.households.tests.factories import RABAT, household_data, member_data
from sijill.population.models import Person
from sijill.testing.factories import person_create

RURAL_KENITRA = "04.281.03.01"  # Ameur Seflia, a rural commune of the pilot region


def register(members: list[tuple[Person, str]] | None = None, *, commune: str = RABAT,
             milieu: str = "urban", household: dict[str, Any] | None = None,
             member_overrides: list[dict[str, Any]] | None = None,
             submit: bool = True) -> Household:
    """Register a household through the service (a lone head if no members are given)."""
    members = members or [(person_create(), "head")]
    overrides = member_overrides or [{} for _ in members]
    data = Declaration.from_dict({
        "household": household or household_data(),
        "members": [member_data(p.idcs, rel, **o)
                    for (p, rel), o in zip(members, overrides, strict=True)],
    })
    adult = next(p for p, rel in members if rel == "head")
    return household_register(actor=SYSTEM, submit=submit, data=RegistrationInput(
        commune=commune, milieu=milieu, address="1 rue de l'Essai", declarant_idcs=adult.idcs,
        declaration=data))


def current_declaration(household: Household) -> DeclarationVersion:
    household.refresh_from_db()
    return DeclarationVersion.objects.get(household=household, version=household.current_version)


def _choice(rng: random.Random, enum: type) -> str:
    return rng.choice(list(enum)).value


def random_household(rng: random.Random) -> Household:
    """A household with random declared data and members of varied ages and sexes."""
    rural = rng.random() < 0.4
    n = rng.randint(1, 6)
    people: list[tuple[Person, str]] = []
    overrides: list[dict[str, Any]] = []
    for i in range(n):
        if i == 0:
            rel, birth = "head", date(rng.randint(1940, 2000), rng.randint(1, 12), 1)
        elif i == 1 and rng.random() < 0.7:
            rel, birth = "spouse", date(rng.randint(1945, 2002), rng.randint(1, 12), 15)
        else:
            rel = rng.choice(["child", "child", "parent", "other_relative", "non_relative"])
            birth = date(rng.randint(1950, 2024), rng.randint(1, 12), rng.randint(1, 28))
        person = person_create(sex=rng.choice("MF"), birth_date=birth)
        people.append((person, rel))
        overrides.append({
            "marital_status": _choice(rng, vocab.MaritalStatus),
            "education_level": _choice(rng, vocab.EducationLevel),
            "diploma": _choice(rng, vocab.Diploma), "literate": rng.random() < 0.6,
            "activity": _choice(rng, vocab.Activity),
            "employment_status": _choice(rng, vocab.EmploymentStatus),
            "occupation": _choice(rng, vocab.Occupation),
            "schooling": _choice(rng, vocab.Schooling),
            "disability": _choice(rng, vocab.Disability),
            "health_coverage": _choice(rng, vocab.HealthCoverage),
        })
    data = household_data(
        dwelling_type=_choice(rng, vocab.DwellingType), rooms=rng.randint(0, 6),
        has_bathroom_or_shower=rng.random() < 0.5, has_kitchen=rng.random() < 0.7,
        has_toilet=rng.random() < 0.8, has_running_water=rng.random() < 0.7,
        electricity_meter=_choice(rng, vocab.ElectricityMeter),
        cooking_fuel=_choice(rng, vocab.CookingFuel), has_garage=rng.random() < 0.1,
        has_secondary_residence=rng.random() < 0.05,
        has_professional_premises=rng.random() < 0.05,
        owns_non_agricultural_land=rng.random() < 0.1,
        owns_or_farms_irrigated_land=rng.random() < 0.2, cows=rng.randint(0, 4),
        mobile_phones=rng.randint(0, 5), computers=rng.randint(0, 2),
        has_satellite_dish=rng.random() < 0.7, has_landline=rng.random() < 0.1,
        cars=rng.choice([0, 0, 0, 1, 2]), motorcycles=rng.randint(0, 2),
        has_loan=rng.random() < 0.2, monthly_water_dh=rng.randint(0, 300),
        monthly_electricity_dh=rng.randint(0, 600), monthly_butane_dh=rng.randint(0, 200),
        monthly_phone_internet_dh=rng.randint(0, 400))
    return register(people, commune=RURAL_KENITRA if rural else RABAT,
                    milieu="rural" if rural else "urban", household=data,
                    member_overrides=overrides)
