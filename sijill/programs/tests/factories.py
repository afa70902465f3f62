"""Households with chosen members and an index of a chosen value, for the programs' tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from sijill.households.models import DeclarationVersion, Household
from sijill.households.tests.factories import child_create
from sijill.scoring.models import Score
from sijill.scoring.selectors import formula_current
from sijill.scoring.tests.factories import register
from sijill.testing.factories import person_create


def years_ago(years: int, today: date | None = None) -> date:
    today = today or timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def family(*, children: list[dict[str, Any]] | None = None, head: dict[str, Any] | None = None,
           commune: str = "04.421.01.0", milieu: str = "urban") -> Household:
    """A head (35) and children: each child dict gives `age` and member overrides."""
    people = [(person_create(birth_date=years_ago(35)), "head")]
    overrides: list[dict[str, Any]] = [head or {}]
    for c in children or []:
        c = dict(c)
        age = c.pop("age")
        people.append((child_create(birth_date=years_ago(age)), "child"))
        overrides.append({"marital_status": "single", "activity": "student",
                          "employment_status": "none", "occupation": "none", **c})
    return register(people, commune=commune, milieu=milieu, member_overrides=overrides)


def score(household: Household, value: float) -> Score:
    """Give the household's current declaration an index of `value` (active formula)."""
    household.refresh_from_db()
    version = DeclarationVersion.objects.get(household=household,
                                             version=household.current_version)
    fv = formula_current()
    assert fv is not None
    Score.objects.filter(declaration=version, formula=fv).exists() and _fail()
    return Score.objects.create(
        household=household, declaration=version, formula=fv, value=value, provisional=False,
        milieu=version.milieu, region=version.commune_id[:2], constant=0.0, region_term=0.0,
        values=[], contributions=[], computed_at=timezone.now())


def _fail() -> None:
    raise AssertionError("this declaration version is already scored")
