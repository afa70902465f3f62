"""Against the synthetic population's own partner records (the simulator reads the truth the
loader wrote): an undeclared car in the vehicle registry."""

from __future__ import annotations

import polars as pl
import pytest
from django.utils import translation

from sijill.accounts.actors import SYSTEM
from sijill.households.models import Household
from sijill.scoring import services as scoring
from sijill.scoring.models import Score
from sijill.synthetic.generate import Options
from sijill.synthetic.load import population_load
from sijill.verification import services
from sijill.verification.models import Discrepancy, Verification
from sijill.verification.simulator import PartnerSimulator

pytestmark = pytest.mark.django_db
COMMUNE = "04.421.01.07"  # Touarga (Rabat)


@pytest.fixture
def synthetic(tmp_path, settings):
    population_load(COMMUNE, 7, Options(max_households=400), truth_dir=tmp_path / COMMUNE)
    sim = PartnerSimulator(data=tmp_path).start()
    settings.SIJILL = {**settings.SIJILL, "PARTNER_URL": sim.url, "VERIFICATION_TIMEOUT": 5.0}
    settings.SIJILL.pop("VERIFICATION_PARTNERS", None)
    try:
        yield tmp_path / COMMUNE
    finally:
        sim.stop()


def _households_with(truth, kind: str) -> list[str]:
    refs = pl.read_parquet(truth / "household_ids.parquet")
    disc = pl.read_parquet(truth / "discrepancies.parquet")
    dead = pl.read_parquet(truth / "deaths.parquet")["household_key"]
    keys = (disc.filter(pl.col("kind") == kind)
            .filter(~pl.col("household_key").is_in(dead.implode()))["household_key"])
    return refs.filter(pl.col("household_key").is_in(keys.implode()))["reference"].to_list()


def test_an_undeclared_car_in_the_registry_is_a_discrepancy_counts_and_is_explained(
        synthetic, django_capture_on_commit_callbacks):
    reference = _households_with(synthetic, "undeclared_car")[0]
    household = Household.objects.get(reference=reference)
    declared = household.versions.get(version=1).cars
    with django_capture_on_commit_callbacks(execute=True):
        verification = services.verification_start(household_id=household.pk, version=1)
        services.verification_process(verification.pk)
    verification = Verification.objects.get(pk=verification.pk)
    assert verification.status == "concluded"
    d = Discrepancy.objects.get(household=household, field="cars")
    assert d.partner == "vehicles" and d.verified == declared + 1 and d.declared == declared
    assert d.severity == "high" and d.status == "open"
    score = Score.objects.get(pk=verification.score_id)
    assert score.inputs["verified"]["cars"] == [declared + 1, "vehicles"]
    # The car counts: the score is the one of the declaration with one more car.
    declared_only = scoring.score_household(
        scoring.formula_of(score.formula), scoring.engine_input(score.declaration))
    assert score.value != pytest.approx(declared_only.value)
    with translation.override("en"):
        explanation = scoring.score_explanation(actor=SYSTEM, reference=reference,
                                                language="en")
    cars = [i for i in explanation["items"] if "verified_by" in i and "vehicles" in
            i["verified_by"]]
    assert cars and all(i["source"] == "verified" for i in cars)
    assert all(i["verified_by_names"] == ["Vehicle registry"] for i in cars)
    assert explanation["basis"] == 1 and explanation["unverified"] == []


def test_the_simulator_answers_from_the_truth_of_the_loaded_population(synthetic):
    sim_records = PartnerSimulator(data=synthetic.parent).records
    counts = sim_records.counts()
    vehicles = pl.read_parquet(synthetic / "vehicles.parquet").height
    assert counts["vehicles"] == vehicles
    assert counts["utilities"] == (pl.read_parquet(synthetic / "electricity_bills.parquet")
                                   .height + pl.read_parquet(synthetic / "water_bills.parquet")
                                   .height)
    assert counts["civil_status"] == pl.read_parquet(synthetic / "deaths.parquet").height
