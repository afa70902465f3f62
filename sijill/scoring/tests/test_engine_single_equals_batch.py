"""The single-household path and the batch path (NumPy columns and the fused compiled kernel)
give the same scores, values and sources."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sijill.declaration.model import HouseholdData, MemberData
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
from sijill.scoring.engine import (
    HouseholdBatch,
    HouseholdInput,
    MemberInput,
    Verified,
    default_formula,
    score_batch,
    score_household,
)

FORMULA = default_formula()
SMALL = st.integers(min_value=0, max_value=6)
DH = st.integers(min_value=0, max_value=3000)


def member_data(relationship: st.SearchStrategy[Relationship]) -> st.SearchStrategy[MemberData]:
    return st.builds(
        MemberData,
        idcs=st.from_regex(r"[0-9]{10}", fullmatch=True),
        relationship=relationship,
        marital_status=st.sampled_from(MaritalStatus),
        education_level=st.sampled_from(EducationLevel),
        diploma=st.sampled_from(Diploma),
        literate=st.booleans(),
        activity=st.sampled_from(Activity),
        employment_status=st.sampled_from(EmploymentStatus),
        occupation=st.sampled_from(Occupation),
        schooling=st.sampled_from(Schooling),
        disability=st.sampled_from(Disability),
        health_coverage=st.sampled_from(HealthCoverage),
    )


MEMBER_OVERRIDES = st.dictionaries(
    st.sampled_from(["health_coverage", "schooling", "occupation", "diploma"]),
    st.sampled_from(["cnss", "schools_ministry"]),
    max_size=2,
)


@st.composite
def members(draw: st.DrawFn, relationship: st.SearchStrategy[Relationship]) -> MemberInput:
    data = draw(member_data(relationship))
    verified = {}
    for field, source in draw(MEMBER_OVERRIDES).items():
        enum_cls = type(getattr(data, field))
        verified[field] = Verified(draw(st.sampled_from(enum_cls)), source)
    return MemberInput(
        data=data,
        age=draw(st.integers(min_value=0, max_value=100)),
        sex=draw(st.sampled_from(Sex)),
        verified=verified,
    )


HOUSEHOLD_DATA = st.builds(
    HouseholdData,
    dwelling_type=st.sampled_from(DwellingType),
    rooms=st.integers(min_value=0, max_value=8),
    has_bathroom_or_shower=st.booleans(),
    has_kitchen=st.booleans(),
    has_toilet=st.booleans(),
    has_running_water=st.booleans(),
    electricity_meter=st.sampled_from(ElectricityMeter),
    cooking_fuel=st.sampled_from(CookingFuel),
    has_garage=st.booleans(),
    has_secondary_residence=st.booleans(),
    has_professional_premises=st.booleans(),
    owns_non_agricultural_land=st.booleans(),
    owns_or_farms_irrigated_land=st.booleans(),
    cows=SMALL,
    mobile_phones=SMALL,
    computers=SMALL,
    has_satellite_dish=st.booleans(),
    has_landline=st.booleans(),
    cars=st.integers(min_value=0, max_value=3),
    motorcycles=st.integers(min_value=0, max_value=3),
    has_loan=st.booleans(),
    monthly_water_dh=DH,
    monthly_electricity_dh=DH,
    monthly_butane_dh=DH,
    monthly_phone_internet_dh=DH,
)

NOT_HEAD = st.sampled_from([r for r in Relationship if r is not Relationship.HEAD])


@st.composite
def households(draw: st.DrawFn) -> HouseholdInput:
    head = draw(members(st.just(Relationship.HEAD)))
    others = draw(st.lists(members(NOT_HEAD), max_size=9))
    position = draw(st.integers(min_value=0, max_value=len(others)))
    everyone = tuple([*others[:position], head, *others[position:]])
    verified = {}
    if draw(st.booleans()):
        verified["cars"] = Verified(draw(st.integers(0, 2)), "vehicle_registry")
    if draw(st.booleans()):
        verified["monthly_electricity_dh"] = Verified(draw(DH), "electricity_distributor")
    return HouseholdInput(
        household=draw(HOUSEHOLD_DATA),
        members=everyone,
        region=draw(st.sampled_from(FORMULA.region_codes)),
        milieu=draw(st.sampled_from(Milieu)),
        verified=verified,
    )


@pytest.mark.parametrize("engine", ["numpy", "kernel"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(households(), min_size=1, max_size=25), st.integers(min_value=1, max_value=7))
def test_the_batch_path_scores_every_household_as_the_single_path_does(
    engine: str, inputs: list[HouseholdInput], chunk_size: int
) -> None:
    batch = HouseholdBatch.from_inputs(inputs, FORMULA.region_codes)
    result = score_batch(
        FORMULA,
        batch,
        values=True,
        contributions=True,
        sources=True,
        chunk_size=chunk_size,
        engine=engine,
    )
    column = {key: j for j, key in enumerate(result.columns)}
    for i, household in enumerate(inputs):
        single = score_household(FORMULA, household)
        assert math.isclose(result.score[i], single.value, rel_tol=0, abs_tol=1e-9)
        assert result.provisional[i] == single.provisional
        assert result.provisional_nonzero[i] == bool(single.provisional_variables)
        for v in single.variables:
            j = column[v.key]
            assert math.isclose(result.values[i, j], v.value, rel_tol=0, abs_tol=1e-9)
            assert math.isclose(result.contributions[i, j], v.contribution, abs_tol=1e-9)
            assert result.verified[i, j] == (v.source == "verified"), v.key
        in_model = {v.key for v in single.variables}
        outside = [j for key, j in column.items() if key not in in_model]
        assert np.all(np.isnan(result.values[i, outside]))
