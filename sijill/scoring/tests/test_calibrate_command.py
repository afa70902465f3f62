"""`manage.py calibrate_formula`: fits from survey microdata, prints the report, saves a draft."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from sijill.scoring import selectors
from sijill.scoring.models import FormulaVersion
from sijill.scoring.tests.test_engine_calibration import (
    HYPOTHETICAL_RURAL_CAR,
    survey,
    true_formula,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey_csv(tmp_path):
    path = tmp_path / "survey.csv"
    survey(true_formula(), seed=7).write_csv(path)
    return path


def test_the_command_saves_a_calibrated_draft_and_prints_the_report(survey_csv):
    out = io.StringIO()
    call_command("calibrate_formula", str(survey_csv), "--base", "ma-rsu-2021@1.0.0",
                 "--formula-version", "2.0.0-cal", "--percentile", "20", stdout=out)
    text = out.getvalue()
    assert "== urban: n=" in text and "R²=" in text and "(SE " in text
    assert "threshold 9.32643" in text and "p20" in text
    fv = FormulaVersion.objects.get(identifier="ma-rsu-2021", version="2.0.0-cal")
    assert fv.status == "draft" and fv.provisional is False
    assert fv.provenance["calibrated_from"] == str(survey_csv)
    assert fv.provenance["based_on"] == "ma-rsu-2021@1.0.0"
    car = selectors.formula_of(fv).model("rural").variable("owns_car")
    assert abs(car.coefficient - HYPOTHETICAL_RURAL_CAR) < 4 * car.standard_error
    assert "Saved draft ma-rsu-2021@2.0.0-cal" in text


def test_a_dry_run_saves_nothing(survey_csv):
    before = FormulaVersion.objects.count()
    out = io.StringIO()
    call_command("calibrate_formula", str(survey_csv), "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue()
    assert FormulaVersion.objects.count() == before


def test_bad_input_is_a_clear_command_error(tmp_path, survey_csv):
    with pytest.raises(CommandError, match="No such file"):
        call_command("calibrate_formula", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="No formula version"):
        call_command("calibrate_formula", str(survey_csv), "--base", "nope@1")
    broken = tmp_path / "broken.csv"
    broken.write_text("region,milieu,consumption_per_person\n04,urban,1000\n")
    with pytest.raises(CommandError, match="Calibration failed"):
        call_command("calibrate_formula", str(broken))


def test_an_unreadable_survey_or_a_bad_option_is_one_line_not_a_traceback(tmp_path,
                                                                          survey_csv):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="Calibration failed"):
        call_command("calibrate_formula", str(empty))
    no_region = tmp_path / "no_region.csv"
    import polars as pl

    pl.read_csv(survey_csv).drop("region").write_csv(no_region)
    with pytest.raises(CommandError, match="Calibration failed"):
        call_command("calibrate_formula", str(no_region))
    with pytest.raises(CommandError, match="MILIEU=REGION"):
        call_command("calibrate_formula", str(survey_csv), "--reference-region", "foo")
