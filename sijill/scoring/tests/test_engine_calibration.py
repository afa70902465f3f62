"""Calibration recovers a known formula from synthetic survey data generated with noise."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist

import numpy as np
import polars as pl
import pytest

from sijill.declaration.vocab import Milieu
from sijill.scoring.engine import Formula, FormulaStatus, default_formula
from sijill.scoring.engine.calibration import CalibrationResult, calibrate

NOISE_SD = 0.35
ROWS_PER_MILIEU = 12_000
HYPOTHETICAL_RURAL_CAR = 0.25  # for the synthetic truth only; the real coefficient is unknown


def true_formula() -> Formula:
    formula = default_formula()
    rural = formula.model(Milieu.RURAL)
    car = replace(
        rural.variable("owns_car"),
        coefficient=HYPOTHETICAL_RURAL_CAR,
        provisional=False,
        assumption=None,
    )
    variables = tuple(car if v.key == "owns_car" else v for v in rural.variables)
    return replace(
        formula, milieux={**formula.milieux, Milieu.RURAL: replace(rural, variables=variables)}
    )


def draw_values(kind: str, key: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "binary":
        return (rng.random(n) < 0.35).astype(float)
    if key == "household_size":
        return rng.integers(1, 11, n).astype(float)
    if key == "head_age":
        return rng.integers(20, 91, n).astype(float)
    if kind == "count":
        return rng.integers(0, 5, n).astype(float)
    if kind.startswith("share"):
        return rng.random(n)
    if kind.startswith("amount"):
        return rng.uniform(0, 3000, n)
    raise AssertionError(f"no generator for {key} ({kind})")


def survey(formula: Formula, seed: int) -> pl.DataFrame:
    """One row per household: variable values, region, milieu and consumption per person."""
    rng = np.random.default_rng(seed)
    frames = []
    for milieu, model in formula.milieux.items():
        n = ROWS_PER_MILIEU
        columns: dict[str, np.ndarray] = {}
        for v in model.variables:
            if v.kind.startswith("squared_of:"):
                continue
            columns[v.key] = draw_values(v.kind, v.key, n, rng)
        for v in model.variables:
            if v.kind.startswith("squared_of:"):
                columns[v.key] = columns[v.kind.split(":", 1)[1]] ** 2
        region = rng.choice(formula.region_codes, n)
        log_c = (
            model.constant
            + np.array([model.region_terms[r] for r in region])
            + sum(v.coefficient * columns[v.key] for v in model.variables)
            + rng.normal(0, NOISE_SD, n)
        )
        frames.append(
            pl.DataFrame(
                {
                    **columns,
                    "region": region,
                    "milieu": [milieu.value] * n,
                    "consumption_per_person": np.exp(log_c),
                }
            )
        )
    return pl.concat(frames, how="diagonal")


@pytest.fixture(scope="module")
def truth() -> Formula:
    return true_formula()


@pytest.fixture(scope="module")
def calibrated(truth: Formula) -> CalibrationResult:
    return calibrate(
        survey(truth, seed=20240403),
        version="synthetic-1",
        thresholds=(9.3264284, 9.743001),
        percentiles=(20.0,),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_it_recovers_every_coefficient_within_its_99_percent_confidence_interval(
    truth: Formula, calibrated: CalibrationResult
) -> None:
    # Simultaneous 99% intervals (Bonferroni over all the estimates of a milieu model).
    for milieu, fit in calibrated.fits.items():
        model = truth.model(milieu)
        z = NormalDist().inv_cdf(1 - 0.01 / (2 * len(fit.coefficients)))
        expected = {"constant": model.constant}
        expected |= {
            f"region:{c}": model.region_terms[c] - model.region_terms[fit.reference_region]
            for c in truth.region_codes
            if c != fit.reference_region
        }
        expected |= {v.key: v.coefficient for v in model.variables}
        for c in fit.coefficients:
            assert abs(c.estimate - expected[c.name]) <= z * c.standard_error, (milieu, c)


def test_most_coefficients_lie_within_their_pointwise_99_percent_interval(
    truth: Formula, calibrated: CalibrationResult
) -> None:
    inside = total = 0
    for milieu, fit in calibrated.fits.items():
        model = truth.model(milieu)
        for v in model.variables:
            c = fit.coefficient(v.key)
            inside += abs(c.estimate - v.coefficient) <= 2.576 * c.standard_error
            total += 1
    assert inside / total >= 0.95


def test_it_fits_with_the_expected_precision(calibrated: CalibrationResult) -> None:
    for fit in calibrated.fits.values():
        assert fit.n == ROWS_PER_MILIEU
        assert math.isclose(fit.residual_sd, NOISE_SD, rel_tol=0.05)
        assert 0 < fit.r2 < 1
    # The reference region is the first whose term is 0 in the base formula.
    assert calibrated.fits[Milieu.URBAN].reference_region == "05"
    assert calibrated.fits[Milieu.RURAL].reference_region == "08"


def test_it_returns_a_draft_formula_that_says_it_was_calibrated(
    calibrated: CalibrationResult,
) -> None:
    formula = calibrated.formula
    assert formula.status is FormulaStatus.DRAFT
    assert formula.version == "synthetic-1"
    assert formula.provenance.calibrated_from == "<polars DataFrame>"
    assert formula.provenance.calibrated_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert formula.provenance.based_on == "ma-rsu-2021@1.0.0"
    assert formula.is_provisional is False
    car = formula.model(Milieu.RURAL).variable("owns_car")
    assert car.standard_error is not None
    assert Formula.from_yaml(formula.to_yaml()) == formula


def test_it_reports_inclusion_and_exclusion_errors_by_milieu_and_region(
    calibrated: CalibrationResult,
) -> None:
    errors = calibrated.errors
    groups = {(e.milieu, e.region) for e in errors}
    assert ("all", "all") in groups
    assert ("urban", "all") in groups and ("rural", "all") in groups
    assert ("all", "04") in groups and ("rural", "12") in groups
    overall = {
        (e.cutoff, e.cutoff_value): e for e in errors if (e.milieu, e.region) == ("all", "all")
    }
    assert set(overall) == {("threshold", 9.3264284), ("threshold", 9.743001), ("percentile", 20.0)}
    for e in overall.values():
        assert 0 <= e.inclusion_error <= 1 and 0 <= e.exclusion_error <= 1
        assert e.n == 2 * ROWS_PER_MILIEU
    twentieth = overall[("percentile", 20.0)]
    assert math.isclose(twentieth.poor / twentieth.n, 0.20, abs_tol=0.001)


def test_it_reads_survey_microdata_from_a_csv_or_parquet_file(
    tmp_path: Path, truth: Formula
) -> None:
    data = survey(truth, seed=7)
    data.write_csv(tmp_path / "survey.csv")
    data.write_parquet(tmp_path / "survey.parquet")
    from_csv = calibrate(tmp_path / "survey.csv", version="csv", folds=2)
    from_parquet = calibrate(tmp_path / "survey.parquet", version="parquet", folds=2)
    assert from_csv.formula.provenance.calibrated_from == str(tmp_path / "survey.csv")
    for milieu in (Milieu.URBAN, Milieu.RURAL):
        a = from_csv.formula.model(milieu)
        b = from_parquet.formula.model(milieu)
        assert math.isclose(a.constant, b.constant, abs_tol=1e-9)


def test_it_refuses_microdata_missing_a_variable(truth: Formula) -> None:
    data = survey(truth, seed=1).drop("owns_car")
    with pytest.raises(ValueError, match="lacks columns"):
        calibrate(data, version="x")
