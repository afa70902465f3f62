"""Where verification has spoken, the verified value counts, and the score says where it came
from."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sijill.declaration.vocab import HealthCoverage
from sijill.scoring.engine import (
    ColumnOverride,
    HouseholdBatch,
    Verified,
    default_formula,
    score_batch,
    score_household,
)
from sijill.scoring.tests.test_engine_hand_worked import RURAL_FAMILY, URBAN_FAMILY


def test_a_verified_value_replaces_the_declared_one() -> None:
    formula = default_formula()
    declared = score_household(formula, URBAN_FAMILY)
    verified = score_household(
        formula, replace(URBAN_FAMILY, verified={"cars": Verified(0, "vehicle_registry")})
    )
    assert declared.variable("number_of_cars").value == 1
    assert verified.variable("number_of_cars").value == 0
    assert np.isclose(declared.value - verified.value, 0.226)


def test_the_score_records_which_variables_a_verified_value_fed() -> None:
    result = score_household(
        default_formula(),
        replace(URBAN_FAMILY, verified={"cars": Verified(2, "vehicle_registry")}),
    )
    cars = result.variable("number_of_cars")
    assert cars.source == "verified"
    assert cars.verified_by == ("vehicle_registry",)
    assert result.variable("has_computer").source == "declared"


def test_a_verified_member_field_marks_the_variables_that_count_members() -> None:
    son = RURAL_FAMILY.members[2]
    verified_son = replace(son, verified={"health_coverage": Verified(HealthCoverage.NONE, "cnss")})
    members = tuple(verified_son if m is son else m for m in RURAL_FAMILY.members)
    result = score_household(default_formula(), replace(RURAL_FAMILY, members=members))
    cover = result.variable("health_coverage_other_than_ramed")
    assert cover.value == 0
    assert cover.source == "verified"
    assert cover.verified_by == ("cnss",)
    assert result.variable("household_size").source == "declared"


def test_a_batch_column_override_counts_only_where_it_is_verified() -> None:
    formula = default_formula()
    batch = HouseholdBatch.from_inputs([URBAN_FAMILY, URBAN_FAMILY], formula.region_codes)
    batch.household_overrides["cars"] = ColumnOverride(
        values=np.array([0, 0]), verified=np.array([True, False]), source="vehicle_registry"
    )
    result = score_batch(formula, batch, values=True, sources=True)
    j = result.columns.index("number_of_cars")
    assert result.values[:, j].tolist() == [0.0, 1.0]
    assert result.verified[:, j].tolist() == [True, False]
    assert np.isclose(result.score[1] - result.score[0], 0.226)
