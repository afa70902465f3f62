"""Targeting simulator: threshold ↔ budget, ties, breakdown by region and milieu, histogram."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sijill.programs import eligibility, simulator
from sijill.programs.models import Program
from sijill.programs.tests.factories import family, score


def test_the_threshold_of_a_budget_keeps_ties_together():
    scores = np.array([8.0, 8.5, 8.5, 9.0, 9.5])
    benefits = np.array([500, 500, 500, 500, 500])
    assert simulator.threshold_for_budget(scores, benefits, 1000, "<") == 8.5  # 8.0 only
    assert simulator.threshold_for_budget(scores, benefits, 1500, "<") == 9.0
    assert simulator.threshold_for_budget(scores, benefits, 1500, "<=") == 8.5
    assert simulator.threshold_for_budget(scores, benefits, 10_000, "<") > 9.5
    assert simulator.threshold_for_budget(scores, benefits, 100, "<") == 8.0  # nobody
    assert simulator.threshold_for_budget(scores, benefits, 100, "<=") < 8.0


def test_the_asd_benefit_rule():
    program = Program(benefit_per_child=250, benefit_minimum=500, benefit_child_age=18)
    assert simulator.benefit(program, pl.Series([0, 1, 2, 3, 5])).to_list() == [
        500, 500, 500, 750, 1250]
    program.benefit_max_children, program.benefit_cap = 3, 700
    assert simulator.benefit(program, pl.Series([0, 5])).to_list() == [500, 700]


def _frame():
    return pl.DataFrame({
        "household_id": [1, 2, 3, 4], "score": [8.0, 9.0, 9.5, 10.0],
        "conditions_met": [True, True, False, True], "milieu": ["urban", "rural", "urban",
                                                               "rural"],
        "region": ["04", "04", "06", "06"], "children": [0, 2, 1, 3],
        "benefit": [500, 500, 500, 750]})


def test_cost_of_a_threshold_and_threshold_of_a_budget():
    program = Program(code="x", threshold=9.743001, comparison="<")
    out = simulator.simulate(program, data=_frame())
    assert out["households_eligible"] == 2 and out["monthly_cost"] == 1000
    assert out["annual_cost"] == 12_000
    by_milieu = {r["milieu"]: r for r in out["by_milieu"]}
    assert by_milieu["rural"] == {"milieu": "rural", "scored": 2, "eligible": 1,
                                  "monthly_cost": 500, "coverage": 0.5}
    hist = out["histogram"]
    assert sum(hist["households"]) == 4 and sum(hist["eligible"]) == 2
    assert hist["edges"][hist["threshold_bin"]] <= 9.743001 <= hist["edges"][
        hist["threshold_bin"] + 1]
    solved = simulator.simulate(program, budget=600, data=_frame())
    assert solved["threshold"] == 9.0 and solved["households_eligible"] == 1
    assert solved["within_budget"] is True


@pytest.mark.django_db
def test_the_simulator_endpoint_for_analysts(as_analyst, as_agent_a):
    for age in (3, 5):
        h = family(children=[{"age": age}])
        score(h, 9.0)
    rural = family(commune="04.281.03.01", milieu="rural")
    score(rural, 9.6)
    eligibility.redecide_all()
    r = as_analyst.post("programs/asd/simulations", {})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["households_eligible"] == 3
    assert body["monthly_cost"] == 500 + 500 + 500  # 1 child: 250 < minimum 500
    r = as_analyst.post("programs/asd/simulations", {"budget": 1000})
    assert r.json()["threshold"] == 9.6 and r.json()["households_eligible"] == 2
    assert as_agent_a.post("programs/asd/simulations", {}).status_code == 403
