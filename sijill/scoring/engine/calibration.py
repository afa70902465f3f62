"""Fit a formula from survey microdata: OLS of log consumption per person, per milieu.

Input: one row per surveyed household with a column per variable key (already derived values),
`region` (code), `milieu` ("urban"/"rural") and consumption per person. Each milieu gets its own
model with region fixed effects (one reference region, term 0). The result is a new *draft*
formula (same structure, labels and derivations as the base formula) plus a report: classical
standard errors, R², and k-fold out-of-sample inclusion and exclusion errors.

Poverty and eligibility use one national line on the log scale: for a threshold t, a household is
poor when log(consumption per person) <= t and predicted eligible when its out-of-sample index
<= t; for a percentile p, t is the p-th percentile of true log consumption per person over the
whole sample. Inclusion error = share of the predicted eligible who are not poor; exclusion
error = share of the poor who are not predicted eligible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sijill.declaration.vocab import Milieu
from sijill.scoring.engine.formula import (
    Formula,
    FormulaStatus,
    MilieuModel,
    Provenance,
    default_formula,
)

CONSTANT = "constant"


@dataclass(frozen=True, slots=True)
class Coefficient:
    """An estimate: `name` is "constant", "region:<code>" or a variable key."""

    name: str
    estimate: float
    standard_error: float


@dataclass(frozen=True, slots=True)
class MilieuFit:
    milieu: Milieu
    n: int
    reference_region: str
    coefficients: tuple[Coefficient, ...]
    r2: float
    adjusted_r2: float
    residual_sd: float

    def coefficient(self, name: str) -> Coefficient:
        for c in self.coefficients:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class TargetingError:
    """Out-of-sample targeting errors in one group ("all" = every milieu or region)."""

    milieu: str
    region: str
    cutoff: str  # "threshold" or "percentile"
    cutoff_value: float  # the threshold, or the percentile (0-100)
    line: float  # the line on the log scale
    n: int
    poor: int
    eligible: int
    inclusion_error: float  # NaN when nobody is predicted eligible
    exclusion_error: float  # NaN when nobody is poor


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    formula: Formula
    fits: dict[Milieu, MilieuFit]
    errors: tuple[TargetingError, ...]
    folds: int


def calibrate(
    data: pl.DataFrame | str | Path,
    *,
    base: Formula | None = None,
    version: str | None = None,
    identifier: str | None = None,
    name: str | None = None,
    consumption_column: str = "consumption_per_person",
    region_column: str = "region",
    milieu_column: str = "milieu",
    reference_regions: Mapping[str, str] | None = None,
    folds: int = 5,
    thresholds: Sequence[float] = (),
    percentiles: Sequence[float] = (),
    seed: int = 0,
    now: datetime | None = None,
) -> CalibrationResult:
    """Fit the variables of `base` (default: the shipped formula) on `data` and return a draft.

    `reference_regions` maps a milieu to its reference region (default: a region whose term is
    0 in the base model, else the first region), so terms stay comparable with the base.
    """
    base = base or default_formula()
    frame, source = _read(data, region_column, milieu_column)
    now = now or datetime.now(UTC)
    version = version or f"{base.version}-calibrated-{now:%Y%m%d%H%M%S}"

    models: dict[Milieu, MilieuModel] = {}
    fits: dict[Milieu, MilieuFit] = {}
    y_all: list[np.ndarray] = []
    pred_all: list[np.ndarray] = []
    milieu_all: list[np.ndarray] = []
    region_all: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    for milieu, model in base.milieux.items():
        rows = frame.filter(pl.col(milieu_column) == milieu.value)
        if rows.height == 0:
            raise ValueError(f"no {milieu.value} rows in {source}")
        reference = (reference_regions or {}).get(milieu.value) or _default_reference(base, model)
        keys = [v.key for v in model.variables]
        missing = [k for k in [*keys, consumption_column] if k not in rows.columns]
        if missing:
            raise ValueError(f"{source} lacks columns {missing}")
        regions = rows[region_column].to_list()
        unknown = sorted(set(regions) - set(base.region_codes))
        if unknown:
            raise ValueError(f"{source} has unknown regions {unknown}")
        others = [c for c in base.region_codes if c != reference]
        absent = sorted(set(base.region_codes) - set(regions))
        if absent:
            raise ValueError(f"no {milieu.value} rows for regions {absent}: cannot fit their terms")
        consumption = rows[consumption_column].to_numpy().astype(np.float64)
        if np.any(~(consumption > 0)):
            raise ValueError("consumption per person must be positive")
        y = np.log(consumption)
        region_arr = np.array(regions, dtype=object)
        design = np.column_stack(
            [
                np.ones(rows.height),
                *[(region_arr == c).astype(np.float64) for c in others],
                rows.select(keys).to_numpy().astype(np.float64),
            ]
        )
        names = [CONSTANT, *(f"region:{c}" for c in others), *keys]
        beta, se, r2, adj_r2, sd = _ols(design, y)
        fits[milieu] = MilieuFit(
            milieu=milieu,
            n=rows.height,
            reference_region=reference,
            coefficients=tuple(
                Coefficient(n, float(b), float(s)) for n, b, s in zip(names, beta, se, strict=True)
            ),
            r2=r2,
            adjusted_r2=adj_r2,
            residual_sd=sd,
        )
        estimate = dict(zip(names, beta, strict=True))
        error = dict(zip(names, se, strict=True))
        models[milieu] = MilieuModel(
            constant=float(estimate[CONSTANT]),
            region_terms={
                c: 0.0 if c == reference else float(estimate[f"region:{c}"])
                for c in base.region_codes
            },
            variables=tuple(
                replace(
                    v,
                    coefficient=float(estimate[v.key]),
                    standard_error=float(error[v.key]),
                    provisional=False,
                    assumption=None,
                )
                for v in model.variables
            ),
        )
        y_all.append(y)
        pred_all.append(_cross_validated(design, y, folds, rng))
        milieu_all.append(np.full(rows.height, milieu.value, dtype=object))
        region_all.append(region_arr)

    errors = _targeting_errors(
        np.concatenate(y_all),
        np.concatenate(pred_all),
        np.concatenate(milieu_all),
        np.concatenate(region_all),
        thresholds,
        percentiles,
    )
    summary = "; ".join(
        f"{m.value}: n={f.n}, R2={f.r2:.4f}, reference region {f.reference_region}"
        for m, f in fits.items()
    )
    formula = Formula(
        identifier=identifier or base.identifier,
        name=name or base.name,
        version=version,
        status=FormulaStatus.DRAFT,
        provenance=Provenance(
            source=f"Calibrated by OLS of log consumption per person on {source}",
            files=(source,),
            verified_against_official_text=False,
            notes=f"Separate urban and rural models with region fixed effects. {summary}.",
            based_on=base.label,
            calibrated_from=source,
            calibrated_at=now,
        ),
        regions=base.regions,
        milieux=models,
        effective_date=None,
        scale=base.scale,
        thresholds=base.thresholds,
        choices=base.choices,
    )
    return CalibrationResult(formula=formula, fits=fits, errors=errors, folds=folds)


def _read(
    data: pl.DataFrame | str | Path, region_column: str, milieu_column: str
) -> tuple[pl.DataFrame, str]:
    if isinstance(data, pl.DataFrame):
        frame, source = data, "<polars DataFrame>"
    else:
        path = Path(data)
        source = str(path)
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(
                path, schema_overrides={region_column: pl.Utf8, milieu_column: pl.Utf8}
            )
    return frame.with_columns(pl.col(region_column).cast(pl.Utf8)), source


def _default_reference(base: Formula, model: MilieuModel) -> str:
    for code in base.region_codes:
        if model.region_terms[code] == 0:
            return code
    return base.region_codes[0]


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """Coefficients, classical standard errors, R², adjusted R² and residual SD (via QR)."""
    n, p = x.shape
    if n <= p:
        raise ValueError(f"{n} observations for {p} parameters")
    q, r = np.linalg.qr(x)
    if np.linalg.matrix_rank(r) < p:
        raise ValueError("singular design: a region or a variable has no variation")
    beta = np.linalg.solve(r, q.T @ y)
    resid = y - x @ beta
    rss = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum())
    sigma2 = rss / (n - p)
    r_inv = np.linalg.solve(r, np.eye(p))
    se = np.sqrt(sigma2 * (r_inv**2).sum(axis=1))
    r2 = 1 - rss / tss
    adj_r2 = 1 - (1 - r2) * (n - 1) / (n - p)
    return beta, se, r2, adj_r2, float(np.sqrt(sigma2))


def _cross_validated(x: np.ndarray, y: np.ndarray, folds: int, rng: np.random.Generator) -> Any:
    """Out-of-sample predictions: each row predicted by the model fitted without its fold."""
    if folds < 2:
        raise ValueError("k-fold needs at least 2 folds")
    fold = rng.permutation(len(y)) % folds
    pred = np.empty(len(y))
    for k in range(folds):
        test = fold == k
        beta, *_ = np.linalg.lstsq(x[~test], y[~test], rcond=None)
        pred[test] = x[test] @ beta
    return pred


def _targeting_errors(
    y: np.ndarray,
    pred: np.ndarray,
    milieu: np.ndarray,
    region: np.ndarray,
    thresholds: Sequence[float],
    percentiles: Sequence[float],
) -> tuple[TargetingError, ...]:
    cutoffs = [("threshold", float(t), float(t)) for t in thresholds] + [
        ("percentile", float(p), float(np.percentile(y, p))) for p in percentiles
    ]
    groups: list[tuple[str, str, np.ndarray]] = [("all", "all", np.ones(len(y), dtype=bool))]
    for m in sorted(set(milieu)):
        groups.append((m, "all", milieu == m))
    for r in sorted(set(region)):
        groups.append(("all", r, region == r))
    for m in sorted(set(milieu)):
        for r in sorted(set(region)):
            groups.append((m, r, (milieu == m) & (region == r)))
    out = []
    for kind, value, line in cutoffs:
        poor = y <= line
        eligible = pred <= line
        for m, r, mask in groups:
            n_poor = int(np.count_nonzero(poor & mask))
            n_eligible = int(np.count_nonzero(eligible & mask))
            included_rich = int(np.count_nonzero(eligible & ~poor & mask))
            excluded_poor = int(np.count_nonzero(poor & ~eligible & mask))
            out.append(
                TargetingError(
                    milieu=m,
                    region=r,
                    cutoff=kind,
                    cutoff_value=value,
                    line=line,
                    n=int(np.count_nonzero(mask)),
                    poor=n_poor,
                    eligible=n_eligible,
                    inclusion_error=included_rich / n_eligible if n_eligible else float("nan"),
                    exclusion_error=excluded_poor / n_poor if n_poor else float("nan"),
                )
            )
    return tuple(out)
