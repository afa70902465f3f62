"""Small integer codes for the enumerations, so columnar batches hold one byte per value.

A code is the position of the value in its enumeration's definition order. Codes are internal to
one engine run: build columns with `code`/`encode` from this module and never persist them (the
stored data contract is the string value of the enum).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import numpy as np

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
    Milieu,
    Occupation,
    Relationship,
    Schooling,
    Sex,
)

#: Enum-typed columns of the engine input, household and member level alike.
ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "dwelling_type": DwellingType,
    "electricity_meter": ElectricityMeter,
    "cooking_fuel": CookingFuel,
    "relationship": Relationship,
    "marital_status": MaritalStatus,
    "education_level": EducationLevel,
    "diploma": Diploma,
    "activity": Activity,
    "employment_status": EmploymentStatus,
    "occupation": Occupation,
    "schooling": Schooling,
    "disability": Disability,
    "health_coverage": HealthCoverage,
    "sex": Sex,
    "milieu": Milieu,
}

_CODES: dict[type[StrEnum], dict[StrEnum, int]] = {
    cls: {member: i for i, member in enumerate(cls)} for cls in set(ENUM_FIELDS.values())
}


def code(value: StrEnum) -> int:
    """The code of one enum value."""
    return _CODES[type(value)][value]


def codes(*values: StrEnum) -> frozenset[int]:
    """The codes of several enum values, for membership tests in derivations."""
    return frozenset(code(v) for v in values)


def string_to_code(field: str) -> dict[str, int]:
    """Map the string values of an enum field to their codes (for Polars/CSV columns)."""
    cls = ENUM_FIELDS[field]
    return {member.value: i for i, member in enumerate(cls)}


def encode(field: str, values: Iterable[StrEnum | str]) -> np.ndarray:
    """Encode the values of an enum field as a uint8 column."""
    mapping = string_to_code(field)
    return np.fromiter((mapping[str(v)] for v in values), dtype=np.uint8)
