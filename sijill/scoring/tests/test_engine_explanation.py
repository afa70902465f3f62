"""A score explains itself: what raised and what lowered the index, largest first, in three
languages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sijill.scoring.engine import Direction, Verified, default_formula, explain, score_household
from sijill.scoring.tests.test_engine_hand_worked import RURAL_FAMILY, URBAN_FAMILY


def test_it_lists_contributions_largest_first() -> None:
    formula = default_formula()
    explanation = explain(score_household(formula, URBAN_FAMILY), formula)
    sizes = [abs(i.contribution) for i in explanation.items]
    assert sizes == sorted(sizes, reverse=True)
    assert explanation.items[0].key == "household_size"  # -0.177 x 5 = -0.885


def test_it_says_whether_each_item_raised_or_lowered_the_index() -> None:
    formula = default_formula()
    explanation = explain(score_household(formula, URBAN_FAMILY), formula)
    by_key = {i.key: i for i in explanation.items}
    assert by_key["household_size"].direction is Direction.LOWERED
    assert by_key["number_of_cars"].direction is Direction.RAISED
    assert {i.key for i in explanation.raised} & {i.key for i in explanation.lowered} == set()


def test_it_labels_items_in_arabic_french_and_english() -> None:
    formula = default_formula()
    item = explain(score_household(formula, URBAN_FAMILY), formula).items[0]
    assert item.label.ar == "عدد أفراد الأسرة"
    assert item.label.fr == "Nombre de membres du ménage"
    assert item.label.en == "Number of household members"


def test_it_leaves_out_what_added_nothing_unless_asked() -> None:
    formula = default_formula()
    result = score_household(formula, URBAN_FAMILY)
    assert "has_garage" not in {i.key for i in explain(result, formula).items}
    everything = explain(result, formula, include_zero=True)
    assert len(everything.items) == 35
    garage = next(i for i in everything.items if i.key == "has_garage")
    assert garage.direction is Direction.NONE


def test_it_can_say_a_value_came_from_the_vehicle_registry() -> None:
    formula = default_formula()
    household = replace(URBAN_FAMILY, verified={"cars": Verified(1, "vehicle_registry")})
    explanation = explain(score_household(formula, household), formula)
    cars = next(i for i in explanation.items if i.key == "number_of_cars")
    assert cars.source == "verified"
    assert cars.verified_by == ("vehicle_registry",)


def test_it_warns_that_a_rural_index_is_provisional() -> None:
    formula = default_formula()
    explanation = explain(score_household(formula, RURAL_FAMILY), formula)
    assert explanation.provisional is True
    assert explanation.provisional_variables == ("owns_car",)
    assert explanation.provisional_notice is not None
    assert explanation.provisional_notice.fr.startswith("Cet indice")
    assert explanation.region_name.fr == "Marrakech-Safi"


def test_it_refuses_to_explain_with_another_formula_version() -> None:
    formula = default_formula()
    result = score_household(formula, URBAN_FAMILY)
    with pytest.raises(ValueError, match="computed with"):
        explain(result, replace(formula, version="9.9.9"))
