"""Column names and dtypes of every table the generator yields, in output order.

Enumerated columns hold the string values of `sijill.declaration.vocab` (plain strings, so they
load into any database through COPY); amounts are whole dirhams. One row per entity.
"""

from __future__ import annotations

import polars as pl

from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS

S, I64, I32, I16, B, F64, D = (
    pl.String,
    pl.Int64,
    pl.Int32,
    pl.Int16,
    pl.Boolean,
    pl.Float64,
    pl.Date,
)

_HOUSEHOLD_TYPES: dict[str, type[pl.DataType]] = {
    "dwelling_type": S, "rooms": I16, "has_bathroom_or_shower": B, "has_kitchen": B,
    "has_toilet": B, "has_running_water": B, "electricity_meter": S, "cooking_fuel": S,
    "has_garage": B, "has_secondary_residence": B, "has_professional_premises": B,
    "owns_non_agricultural_land": B, "owns_or_farms_irrigated_land": B, "cows": I16,
    "mobile_phones": I16, "computers": I16, "has_satellite_dish": B, "has_landline": B,
    "cars": I16, "motorcycles": I16, "has_loan": B, "monthly_water_dh": I32,
    "monthly_electricity_dh": I32, "monthly_butane_dh": I32, "monthly_phone_internet_dh": I32,
}  # fmt: skip
_MEMBER_TYPES: dict[str, type[pl.DataType]] = {
    "relationship": S, "marital_status": S, "education_level": S, "diploma": S, "literate": B,
    "activity": S, "employment_status": S, "occupation": S, "schooling": S, "disability": S,
    "health_coverage": S,
}  # fmt: skip
assert tuple(_HOUSEHOLD_TYPES) == HOUSEHOLD_FIELDS, "HouseholdData changed: update the schema"
assert tuple(_MEMBER_TYPES) == tuple(f for f in MEMBER_FIELDS if f != "idcs")

SCHEMAS: dict[str, dict[str, type[pl.DataType]]] = {
    "persons": {
        "person_key": I64, "first_name_ar": S, "first_name_latin": S, "family_name_ar": S,
        "family_name_latin": S, "sex": S, "birth_date": D, "birth_date_precision": S,
        "birth_commune_code": S, "nationality": S, "cnie": S, "phone": S, "mother_key": I64,
        "father_key": I64,
    },
    "households": {
        "household_key": I64, "region_code": S, "province_code": S, "commune_code": S,
        "milieu": S, "address": S, **_HOUSEHOLD_TYPES,
    },
    "members": {"household_key": I64, "person_key": I64, **_MEMBER_TYPES, "is_declarant": B},
    "consumption": {
        "household_key": I64, "annual_consumption_per_person_dh": F64,
        "log_consumption_per_person": F64, "model_mean": F64, "noise": F64, "wealth": F64,
    },
    "electricity_bills": {
        "meter_id": S, "household_key": I64, "holder_person_key": I64, "month": D, "kwh": I32,
        "amount_dh": I32,
    },
    "water_bills": {
        "meter_id": S, "household_key": I64, "holder_person_key": I64, "month": D, "m3": I32,
        "amount_dh": I32,
    },
    "phone_lines": {
        "msisdn": S, "household_key": I64, "person_key": I64, "line_type": S, "operator": S,
        "monthly_spend_dh": I32,
    },
    "vehicles": {
        "plate": S, "household_key": I64, "owner_person_key": I64, "kind": S,
        "first_registration_year": I16, "fiscal_horsepower": I16,
    },
    "land_titles": {
        "title_number": S, "household_key": I64, "owner_person_key": I64, "kind": S,
        "commune_code": S, "area_m2": I32,
    },
    "social_security": {
        "person_key": I64, "household_key": I64, "scheme": S, "regime": S,
        "affiliation_number": S, "monthly_salary_dh": I32, "since": D,
    },
    "deaths": {"person_key": I64, "household_key": I64, "death_date": D, "commune_code": S},
    "discrepancies": {
        "household_key": I64, "person_key": I64, "kind": S, "declared": S, "actual": S,
    },
    "duplicate_of": {"person_key": I64, "duplicate_of": I64, "errors": S},
}  # fmt: skip

TABLES: tuple[str, ...] = tuple(SCHEMAS)
DECLARATION_TABLES = ("persons", "households", "members")
TRUTH_TABLES = tuple(t for t in TABLES if t not in DECLARATION_TABLES)


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with exactly the table's columns, in order and with its dtypes."""
    schema = SCHEMAS[table]
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        frame = frame.with_columns([pl.lit(None).alias(c) for c in missing])
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])


def empty(table: str) -> pl.DataFrame:
    """An empty frame of the table's schema."""
    return pl.DataFrame(schema=SCHEMAS[table])
