"""Targeting simulator: what a threshold costs, what a budget buys, where the money goes.

Candidates are the households with a current index that meet the program's conditions (the
conditions' results of their current decision: they do not depend on the threshold). Each
candidate's monthly benefit follows the program's benefit rule:

    benefit = clamp(per_household + per_child × min(children, max_children), minimum, cap)

where a child is a member younger than `benefit_child_age` today. Aggregates only: no household
is named in the answer.

- threshold → cost: households covered and monthly cost, by region and milieu;
- budget → threshold: the highest threshold whose cost stays within the budget (households
  with the same index are all in or all out);
- the distribution of the index (histogram) with the threshold marked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl
from django.utils import timezone

from sijill.programs.models import Program
from sijill.programs.selectors import frame

_SCHEMA = {"household_id": pl.Int64, "score": pl.Float64, "conditions_met": pl.Boolean,
           "milieu": pl.Utf8, "region": pl.Utf8, "children": pl.Int64}


def candidates(program: Program, today: date | None = None) -> pl.DataFrame:
    """Every household with a current decision and an index: score, conditions met, region,
    milieu, number of children, benefit."""
    today = today or timezone.localdate()
    born_after = today.replace(year=today.year - program.benefit_child_age,
                               day=min(today.day, 28) if today.month == 2 else today.day)
    sql = ("SELECT d.household_id, d.score_value, d.conditions_met, dv.milieu,"
           " substr(dv.commune_id, 1, 2),"
           " (SELECT COUNT(*) FROM households_memberdeclaration m"
           "  JOIN population_person p ON p.id = m.person_id"
           "  WHERE m.declaration_id = dv.id AND p.birth_date > %s)"
           " FROM programs_eligibilitydecision d"
           " JOIN households_household h ON h.id = d.household_id"
           " JOIN households_declarationversion dv"
           " ON dv.household_id = h.id AND dv.version = h.current_version"
           " WHERE d.program_id = %s AND d.current AND d.score_value IS NOT NULL")
    out = frame(sql, [born_after, program.pk], _SCHEMA)
    out = out.with_columns(pl.col("conditions_met").cast(pl.Boolean))
    return out.with_columns(benefit(program, out["children"]).alias("benefit"))


def benefit(program: Program, children: pl.Series) -> pl.Series:
    kids = children.to_numpy().astype(np.int64)
    if program.benefit_max_children is not None:
        kids = np.minimum(kids, program.benefit_max_children)
    amount = program.benefit_per_household + program.benefit_per_child * kids
    amount = np.maximum(amount, program.benefit_minimum)
    if program.benefit_cap is not None:
        amount = np.minimum(amount, program.benefit_cap)
    return pl.Series(amount.astype(np.int64))


def _mask(scores: np.ndarray, threshold: float, comparison: str) -> np.ndarray:
    return scores < threshold if comparison == "<" else scores <= threshold


def threshold_for_budget(scores: np.ndarray, benefits: np.ndarray, budget: float,
                         comparison: str) -> float | None:
    """The highest threshold whose candidates cost at most `budget` (None: no candidates)."""
    if len(scores) == 0:
        return None
    order = np.argsort(scores, kind="stable")
    s, cost = scores[order], np.cumsum(benefits[order])
    # The last position of each distinct score: ties enter together.
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    affordable = last[cost[last] <= budget]
    if comparison == "<=":
        if len(affordable) == 0:
            return float(np.nextafter(s[0], -np.inf))
        return float(s[affordable[-1]])
    if len(affordable) == 0:
        return float(s[0])
    k = affordable[-1]
    return float(s[k + 1]) if k + 1 < len(s) else float(np.nextafter(s[-1], np.inf))


def _breakdown(frame_: pl.DataFrame, by: list[str]) -> list[dict[str, Any]]:
    grouped = frame_.group_by(by).agg(
        pl.len().alias("scored"),
        pl.col("eligible").sum().alias("eligible"),
        (pl.col("benefit") * pl.col("eligible").cast(pl.Int64)).sum().alias("monthly_cost"),
    ).sort(by)
    rows = grouped.to_dicts()
    for r in rows:
        r["coverage"] = round(r["eligible"] / r["scored"], 6) if r["scored"] else 0.0
    return rows


def histogram(scores: np.ndarray, eligible: np.ndarray, threshold: float,
              bins: int) -> dict[str, Any]:
    if len(scores) == 0:
        return {"edges": [], "households": [], "eligible": [], "threshold": threshold,
                "threshold_bin": None}
    low, high = float(min(scores.min(), threshold)), float(max(scores.max(), threshold))
    if low == high:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    counts, _ = np.histogram(scores, bins=edges)
    elig, _ = np.histogram(scores[eligible], bins=edges)
    at = int(np.clip(np.searchsorted(edges, threshold, side="right") - 1, 0, bins - 1))
    return {"edges": [round(float(e), 6) for e in edges], "households": counts.tolist(),
            "eligible": elig.tolist(), "threshold": threshold, "threshold_bin": at}


def simulate(program: Program, *, threshold: float | None = None, budget: float | None = None,
             comparison: str | None = None, bins: int = 40,
             data: pl.DataFrame | None = None) -> dict[str, Any]:
    """Cost of a threshold (default: the program's), or the threshold of a budget when one is
    given; the breakdown by region and milieu, and the histogram, at that threshold."""
    comparison = comparison or program.comparison
    data = data if data is not None else candidates(program)
    scores = data["score"].to_numpy()
    met = data["conditions_met"].to_numpy().astype(bool)
    benefits = data["benefit"].to_numpy()
    solved = None
    if budget is not None:
        solved = threshold_for_budget(scores[met], benefits[met], budget, comparison)
        threshold = solved if solved is not None else program.threshold
    elif threshold is None:
        threshold = program.threshold
    eligible = _mask(scores, threshold, comparison) & met
    data = data.with_columns(pl.Series("eligible", eligible))
    cost = int(benefits[eligible].sum())
    return {
        "program": program.code,
        "comparison": comparison,
        "threshold": threshold,
        "budget": budget,
        "threshold_from_budget": budget is not None,
        "households_scored": len(scores),
        "households_meeting_conditions": int(met.sum()),
        "households_eligible": int(eligible.sum()),
        "monthly_cost": cost,
        "annual_cost": cost * 12,
        "within_budget": None if budget is None else cost <= budget,
        "by_region": _breakdown(data, ["region"]),
        "by_milieu": _breakdown(data, ["milieu"]),
        "by_region_and_milieu": _breakdown(data, ["region", "milieu"]),
        "histogram": histogram(scores, eligible, threshold, bins),
    }
