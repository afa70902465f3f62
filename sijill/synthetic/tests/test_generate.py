"""The synthetic population of Jerada province (16 census cells, 23,833 households) against the
2024 census, plus determinism, the declaration contract and the injected ground truth.

Tolerances: households exact per cell; average size within 0.06 of the census figure (published
to one decimal); dwelling type shares within 1.5 points (the census "rural" type is the sum of
rural_stone and rural_other); amenity and cooking-fuel shares within 1.5 points. The generator
matches these by construction, so a wider gap means a bug, not bad luck.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
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
    Occupation,
    Relationship,
    Schooling,
)
from sijill.synthetic.census import cells_for
from sijill.synthetic.generate import Options, collect, generate_to_parquet
from sijill.synthetic.schema import SCHEMAS, TABLES

PROVINCE = "02.275"  # Jerada: urban and rural cells, communes with both milieus
SEED = 2024


@pytest.fixture(scope="module")
def jerada() -> dict[str, pl.DataFrame]:
    return collect(PROVINCE, SEED, Options(chunk_households=8_000))


def _census_by_cell() -> dict[tuple[str, str], object]:
    return {(c.commune_code, c.milieu): c for c in cells_for(PROVINCE)}


def test_every_commune_and_milieu_has_exactly_its_census_households(jerada):
    counts = jerada["households"].group_by("commune_code", "milieu").len()
    got = {(r["commune_code"], r["milieu"]): r["len"] for r in counts.iter_rows(named=True)}
    assert got == {key: cell.households for key, cell in _census_by_cell().items()}


def test_average_household_size_matches_the_census_in_every_cell(jerada):
    sizes = (
        jerada["members"]
        .group_by("household_key")
        .len()
        .join(jerada["households"], on="household_key")
        .group_by("commune_code", "milieu")
        .agg(pl.col("len").mean().alias("size"))
    )
    census = _census_by_cell()
    for row in sizes.iter_rows(named=True):
        cell = census[(row["commune_code"], row["milieu"])]
        assert abs(row["size"] - cell.average_size) <= 0.06, (row, cell.average_size)


def _shares(frame: pl.DataFrame, column: str) -> dict[tuple[str, str], dict[str, float]]:
    table = (
        frame.group_by("commune_code", "milieu", column)
        .len()
        .with_columns(
            (pl.col("len") / pl.col("len").sum().over("commune_code", "milieu")).alias("s")
        )
    )
    out: dict[tuple[str, str], dict[str, float]] = {}
    for r in table.iter_rows(named=True):
        out.setdefault((r["commune_code"], r["milieu"]), {})[str(r[column])] = r["s"]
    return out


def test_dwelling_type_shares_match_the_census_in_every_cell(jerada):
    shares = _shares(jerada["households"], "dwelling_type")
    for key, cell in _census_by_cell().items():
        got = shares[key]
        expected = dict(
            zip(["villa", "apartment", "moroccan_house", "basic_or_slum", "rural", "other"],
                cell.dwelling, strict=True)
        )  # fmt: skip
        got["rural"] = got.get("rural_stone", 0.0) + got.get("rural_other", 0.0)
        for kind, share in expected.items():
            assert abs(got.get(kind, 0.0) - share) <= 0.015, (key, kind, got, expected)


@pytest.mark.parametrize(
    ("column", "index"),
    [("has_kitchen", 0), ("has_toilet", 1), ("has_bathroom_or_shower", 2),
     ("has_running_water", 4)],
)  # fmt: skip
def test_amenity_shares_match_the_census_in_every_cell(jerada, column, index):
    got = jerada["households"].group_by("commune_code", "milieu").agg(pl.col(column).mean())
    census = _census_by_cell()
    for row in got.iter_rows(named=True):
        cell = census[(row["commune_code"], row["milieu"])]
        assert abs(row[column] - cell.amenities[index]) <= 0.015, (row, cell.amenities)


def test_electricity_share_matches_the_census_as_households_with_a_meter(jerada):
    got = (
        jerada["households"]
        .group_by("commune_code", "milieu")
        .agg((pl.col("electricity_meter") != "none").mean().alias("share"))
    )
    census = _census_by_cell()
    for row in got.iter_rows(named=True):
        cell = census[(row["commune_code"], row["milieu"])]
        assert abs(row["share"] - cell.amenities[3]) <= 0.015


def test_villas_and_apartments_never_cook_on_firewood_or_charcoal(jerada):
    h = jerada["households"]
    rich = h.filter(pl.col("dwelling_type").is_in(["villa", "apartment"]))
    assert rich.filter(pl.col("cooking_fuel").is_in(["firewood", "charcoal"])).height == 0


def test_rural_households_own_cows_more_often_than_urban_ones(jerada):
    by = jerada["households"].group_by("milieu").agg((pl.col("cows") > 0).mean().alias("cows"))
    share = dict(by.iter_rows())
    assert share["rural"] > 5 * share["urban"]


def test_richer_households_more_often_have_cars_and_private_schooling(jerada):
    c = jerada["consumption"].join(jerada["households"], on="household_key")
    top = c.filter(pl.col("wealth") > pl.col("wealth").quantile(0.8))
    bottom = c.filter(pl.col("wealth") < pl.col("wealth").quantile(0.2))
    assert (top["cars"] > 0).mean() > 3 * (bottom["cars"] > 0).mean()
    pupils = jerada["members"].join(c.select("household_key", "wealth"), on="household_key")
    pupils = pupils.filter(pl.col("schooling") != "not_schooled")
    rich = pupils.filter(pl.col("wealth") > 1)["schooling"].eq("private").mean()
    poor = pupils.filter(pl.col("wealth") < -1)["schooling"].eq("private").mean()
    assert rich > poor


def test_the_same_seed_gives_identical_output_and_another_seed_does_not():
    one = collect("02.275.09.13", 7)
    again = collect("02.275.09.13", 7)
    other = collect("02.275.09.13", 8)
    for table in TABLES:
        assert one[table].equals(again[table]), table
    assert not one["persons"].equals(other["persons"])
    assert not one["households"].equals(other["households"])


def test_a_commune_comes_out_the_same_alone_or_within_its_province(jerada):
    alone = collect("02.275.09.13", SEED)
    keys = alone["households"]["household_key"]
    within = jerada["households"].filter(pl.col("household_key").is_in(keys.implode()))
    assert alone["households"].equals(within)


def test_every_table_has_its_declared_schema(jerada):
    for table in TABLES:
        assert dict(jerada[table].schema) == {c: t() for c, t in SCHEMAS[table].items()}, table


def test_households_and_members_carry_every_field_of_the_declaration(jerada):
    assert set(HOUSEHOLD_FIELDS) <= set(jerada["households"].columns)
    assert set(MEMBER_FIELDS) - {"idcs"} <= set(jerada["members"].columns)


ENUMS = {
    "relationship": Relationship, "marital_status": MaritalStatus,
    "education_level": EducationLevel, "diploma": Diploma, "activity": Activity,
    "employment_status": EmploymentStatus, "occupation": Occupation, "schooling": Schooling,
    "disability": Disability, "health_coverage": HealthCoverage,
    "dwelling_type": DwellingType, "electricity_meter": ElectricityMeter,
    "cooking_fuel": CookingFuel,
}  # fmt: skip


def test_declared_values_are_all_valid_enum_values(jerada):
    for column, enum in ENUMS.items():
        frame = jerada["members"] if column in jerada["members"].columns else jerada["households"]
        used = set(frame[column].unique().to_list())
        assert used <= {m.value for m in enum}, (column, used)


def test_each_household_has_one_head_and_one_adult_declarant(jerada):
    m = jerada["members"].join(jerada["persons"], on="person_key")
    per = m.group_by("household_key").agg(
        (pl.col("relationship") == "head").sum().alias("heads"),
        pl.col("is_declarant").sum().alias("declarants"),
        pl.col("birth_date").filter(pl.col("is_declarant")).first().alias("born"),
    )
    assert (per["heads"] == 1).all() and (per["declarants"] == 1).all()
    assert (per["born"] <= date(2007, 1, 1)).all()


def test_adult_moroccans_hold_unique_cnie_numbers_and_children_none(jerada):
    p = jerada["persons"]
    cnie = p["cnie"].drop_nulls()
    assert cnie.is_unique().all()
    assert cnie.str.contains(r"^[A-Z]{1,2}\d{6}$").all()
    children = p.filter(pl.col("birth_date") > date(2007, 1, 2))
    assert children["cnie"].null_count() == children.height
    phones = p["phone"].drop_nulls()
    assert phones.str.contains(r"^\+212[67]\d{8}$").all()


def test_parent_links_point_to_members_of_the_same_household(jerada):
    m = jerada["members"].select("household_key", "person_key")
    linked = (
        jerada["persons"]
        .join(m, on="person_key")
        .filter(pl.col("mother_key").is_not_null())
        .join(m.rename({"person_key": "mother_key", "household_key": "mother_hh"}), on="mother_key")
    )
    assert linked.height > 0
    assert (linked["household_key"] == linked["mother_hh"]).all()


def test_duplicates_carry_the_ground_truth_of_who_they_copy(jerada):
    dup = jerada["duplicate_of"]
    assert dup.height > 0
    persons = jerada["persons"]
    members = set(jerada["members"]["person_key"].to_list())
    joined = dup.join(persons, on="person_key").join(
        persons, left_on="duplicate_of", right_on="person_key", suffix="_original"
    )
    assert joined.height == dup.height
    assert not set(dup["person_key"].to_list()) & members
    assert set(dup["duplicate_of"].to_list()) <= members
    assert (dup["errors"].str.len_chars() > 0).all()
    same = joined.filter(
        (pl.col("first_name_latin") == pl.col("first_name_latin_original"))
        & (pl.col("family_name_latin") == pl.col("family_name_latin_original"))
        & (pl.col("birth_date") == pl.col("birth_date_original"))
        & (pl.col("first_name_ar") == pl.col("first_name_ar_original"))
        & (pl.col("family_name_ar") == pl.col("family_name_ar_original"))
        & (pl.col("birth_date_precision") == pl.col("birth_date_precision_original"))
    )
    assert same.height == 0, "every duplicate differs from its original somewhere"


def test_discrepancies_are_what_the_partner_records_show(jerada):
    d = jerada["discrepancies"]
    kinds = set(d["kind"].unique().to_list())
    assert {"undeclared_car", "understated_electricity", "undeclared_job"} <= kinds
    cars = d.filter(pl.col("kind") == "undeclared_car").join(
        jerada["households"], on="household_key"
    )
    assert (cars["cars"] == cars["declared"].cast(pl.Int16)).all()
    owned = jerada["vehicles"].filter(pl.col("kind") == "car").group_by("household_key").len()
    check = cars.join(owned, on="household_key")
    assert (check["len"] == check["actual"].cast(pl.UInt32)).all()
    jobs = d.filter(pl.col("kind") == "undeclared_job")
    affiliated = set(jerada["social_security"]["person_key"].to_list())
    assert set(jobs["person_key"].to_list()) <= affiliated


def test_partner_bills_are_monthly_and_keyed_by_household(jerada):
    bills = jerada["electricity_bills"]
    per_meter = bills.group_by("meter_id").len()
    assert (per_meter["len"] == 12).all()
    own = jerada["households"].filter(pl.col("electricity_meter") == "own").height
    assert per_meter.height == own


def test_parquet_output_has_one_file_per_table_with_every_row(tmp_path: Path):
    summary = generate_to_parquet(
        "02.275.09.13", SEED, tmp_path, options=Options(chunk_households=100)
    )
    expected = collect("02.275.09.13", SEED)
    for table in TABLES:
        written = pl.read_parquet(tmp_path / f"{table}.parquet")
        assert written.equals(expected[table]), table
        assert summary.rows[table] == expected[table].height
