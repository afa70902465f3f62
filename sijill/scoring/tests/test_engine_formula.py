"""The formula is data: the shipped Moroccan formula, its YAML round trip and its validation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from sijill.declaration.vocab import Milieu
from sijill.scoring.engine import (
    DERIVATIONS,
    Formula,
    FormulaStatus,
    default_formula,
    dump_formula,
    load_formula,
)

# A verbatim copy of the shared reference transcription (../shared/reference/), kept in the
# repository so the comparison runs on any clean checkout.
REFERENCE = Path(__file__).parent / "data" / "morocco-rsu-formula.reference.yaml"


def test_the_shipped_formula_has_35_urban_and_28_rural_variables() -> None:
    formula = default_formula()
    assert formula.identifier == "ma-rsu-2021"
    assert formula.status is FormulaStatus.ACTIVE
    assert len(formula.model(Milieu.URBAN).variables) == 35
    assert len(formula.model(Milieu.RURAL).variables) == 28
    assert formula.region_codes == tuple(f"{i:02d}" for i in range(1, 13))


def test_the_shipped_formula_carries_the_unknown_rural_car_coefficient_as_provisional() -> None:
    formula = default_formula()
    car = formula.model(Milieu.RURAL).variable("owns_car")
    assert car.provisional is True
    assert car.coefficient == 0.0
    assert "UNKNOWN" in (car.assumption or "")
    assert formula.is_provisional is True
    assert formula.model(Milieu.RURAL).provisional_variables == ("owns_car",)
    assert formula.model(Milieu.URBAN).is_provisional is False


def test_every_variable_has_labels_in_arabic_french_and_english_and_a_known_derivation() -> None:
    for model in default_formula().milieux.values():
        for v in model.variables:
            assert v.label.ar and v.label.fr and v.label.en, v.key
            assert v.derivation in DERIVATIONS


def test_the_provenance_says_it_is_an_unverified_transcription() -> None:
    provenance = default_formula().provenance
    assert provenance.verified_against_official_text is False
    assert "rsu_calculator" in provenance.source
    assert "2-21-582" in provenance.source


def test_the_ambiguous_definitions_are_documented_choices() -> None:
    keys = {c.key for c in default_formula().choices}
    assert {
        "share_denominator",
        "persons_per_room",
        "rural_room_items_nested",
        "spending_amounts",
        "health_coverage_other_than_ramed",
        "head_basic_education",
        "rural_car",
    } <= keys


def test_the_published_thresholds_come_with_the_formula() -> None:
    thresholds = {t.program: t.value for t in default_formula().thresholds}
    assert thresholds == {"amo_tadamon": 9.3264284, "asd": 9.743001}


def test_the_coefficients_and_region_terms_are_those_of_the_reference_transcription() -> None:
    reference = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    formula = default_formula()
    for milieu in ("urban", "rural"):
        model = formula.model(milieu)
        assert model.constant == reference["constants"][milieu]
        for region in reference["regions"]:
            assert model.region_terms[region["code"]] == region[milieu]
        for item in reference["variables"][milieu]:
            variable = model.variable(item["key"])
            if item["coefficient"] is None:
                assert variable.provisional and variable.coefficient == 0.0
            else:
                assert variable.coefficient == item["coefficient"], item["key"]


def test_a_formula_survives_a_yaml_round_trip_unchanged(tmp_path: Path) -> None:
    formula = default_formula()
    path = tmp_path / "copy.yaml"
    dump_formula(formula, path)
    again = load_formula(path)
    assert again == formula
    assert again.to_yaml() == formula.to_yaml()


def test_region_codes_stay_strings_in_yaml() -> None:
    text = default_formula().to_yaml()
    assert "code: '08'" in text


def test_it_refuses_a_variable_with_an_unknown_derivation() -> None:
    data = default_formula().to_dict()
    data["milieux"]["urban"]["variables"][0]["derivation"] = "no_such_thing"
    with pytest.raises(ValueError, match="unknown derivation"):
        Formula.from_dict(data)


def test_it_refuses_a_provisional_variable_without_an_assumption() -> None:
    data = default_formula().to_dict()
    data["milieux"]["urban"]["variables"][0]["provisional"] = True
    with pytest.raises(ValueError, match="needs an assumption"):
        Formula.from_dict(data)


def test_it_refuses_a_model_missing_a_region_term() -> None:
    data = default_formula().to_dict()
    del data["milieux"]["rural"]["region_terms"]["12"]
    with pytest.raises(ValueError, match="region terms"):
        Formula.from_dict(data)


def test_a_new_version_is_a_new_formula_value() -> None:
    formula = default_formula()
    draft = replace(formula, version="1.1.0", status=FormulaStatus.DRAFT)
    assert draft != formula
    assert draft.label == "ma-rsu-2021@1.1.0"
