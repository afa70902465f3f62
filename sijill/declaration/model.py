"""The declaration as typed, immutable records (plain Python, no Django).

A declaration is what a household states about itself at one moment: one `HouseholdData` and one
`MemberData` per member. Identity facts (names, sex, birth date, alive or not) are not declared:
they come from the population register and are joined in by whoever needs them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from functools import cache
from typing import Any

from sijill.declaration.vocab import (
    Activity,
    CookingFuel,
    Diploma,
    Disability,
    DwellingType,
    EducationLevel,
    ElectricityMeter,
    EmploymentStatus,
    HealthCoverage,
    MaritalStatus,
    Occupation,
    Relationship,
    Schooling,
)


@dataclass(frozen=True, slots=True)
class MemberData:
    """What is declared about one member."""

    idcs: str
    relationship: Relationship
    marital_status: MaritalStatus
    education_level: EducationLevel
    diploma: Diploma
    literate: bool
    activity: Activity
    employment_status: EmploymentStatus
    occupation: Occupation
    schooling: Schooling
    disability: Disability
    health_coverage: HealthCoverage


@dataclass(frozen=True, slots=True)
class HouseholdData:
    """What is declared about the dwelling, assets and spending (whole dirhams a month)."""

    dwelling_type: DwellingType
    rooms: int
    has_bathroom_or_shower: bool
    has_kitchen: bool
    has_toilet: bool
    has_running_water: bool
    electricity_meter: ElectricityMeter
    cooking_fuel: CookingFuel
    has_garage: bool
    has_secondary_residence: bool
    has_professional_premises: bool
    owns_non_agricultural_land: bool
    owns_or_farms_irrigated_land: bool
    cows: int
    mobile_phones: int
    computers: int
    has_satellite_dish: bool
    has_landline: bool
    cars: int
    motorcycles: int
    has_loan: bool
    monthly_water_dh: int
    monthly_electricity_dh: int
    monthly_butane_dh: int
    monthly_phone_internet_dh: int


@dataclass(frozen=True, slots=True)
class Declaration:
    household: HouseholdData
    members: tuple[MemberData, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "household": asdict(self.household),
            "members": [asdict(m) for m in self.members],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Declaration:
        return cls(
            household=_build(HouseholdData, data["household"]),
            members=tuple(_build(MemberData, m) for m in data["members"]),
        )


HOUSEHOLD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(HouseholdData))
MEMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MemberData))


def _build(cls: type, raw: dict[str, Any]) -> Any:
    """Build a record from plain values, coercing enum fields from their string values."""
    kwargs = {}
    for f in fields(cls):
        value = raw[f.name]
        kind = f.type if not isinstance(f.type, str) else _TYPES.get(f.type)
        if isinstance(kind, type) and issubclass(kind, str) and kind is not str:
            value = kind(value)
        kwargs[f.name] = value
    return cls(**kwargs)


_TYPES: dict[str, type] = {
    t.__name__: t
    for t in (
        Activity,
        CookingFuel,
        Diploma,
        Disability,
        DwellingType,
        EducationLevel,
        ElectricityMeter,
        EmploymentStatus,
        HealthCoverage,
        MaritalStatus,
        Occupation,
        Relationship,
        Schooling,
    )
}


@cache
def enum_fields(record: type) -> dict[str, type[StrEnum]]:
    """The enumerated fields of a declaration record (`HouseholdData`, `MemberData`): name →
    its enumeration, read from the record's own type hints (once per record)."""
    import typing

    hints = typing.get_type_hints(record)
    out = {}
    for f in fields(record):
        kind = hints[f.name]
        for candidate in (kind, *typing.get_args(kind)):
            if isinstance(candidate, type) and issubclass(candidate, StrEnum):
                out[f.name] = candidate
    return out
