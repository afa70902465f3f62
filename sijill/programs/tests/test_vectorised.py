"""The Polars translation of conditions gives CEL's answer, household by household."""

from __future__ import annotations

import random

import polars as pl
import pytest

from sijill.declaration import vocab
from sijill.programs import conditions as cond
from sijill.programs import selectors, vectorised

EXPRESSIONS = [
    'members.exists(m, m.age >= 6 && m.age <= 14 && m.schooling != "not_schooled")',
    'members.exists(m, m.disability != "none")',
    'members.exists(m, m.relationship == "head" && m.marital_status == "widowed")',
    'household.milieu == "rural" && size(members.filter(m, m.age < 18)) >= 3',
    'members.all(m, !(m.health_coverage in ["amo_salaried", "amo_public"]))',
    'household.region == "04" || household.size > 4',
    "members.exists_one(m, m.age >= 65)",
    "members.filter(m, m.sex == \"F\" && m.age >= 18).size() * 2 >= size(members)",
    'household.commune.startsWith("04.421") ? members.size() >= 2 : false',
    'members.exists(m, m.age > 60 && household.milieu == "urban")',
    "!members.exists(m, m.activity == \"employed\") && -household.size < -1",
]


def _frames(seed: int, n: int = 300) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = random.Random(seed)
    hh, mm = [], []
    for hid in range(1, n + 1):
        size = rng.choice([0, 1, 2, 3, 4, 5, 7])
        commune = rng.choice(["04.421.01.0", "04.281.03.01", "06.141.01.0"])
        hh.append({"household_id": hid, "milieu": rng.choice(["urban", "rural"]),
                   "commune": commune, "region": commune[:2], "province": commune[:6],
                   "size": size})
        for _ in range(size):
            mm.append({"household_id": hid, "age": rng.randint(0, 90),
                       "sex": rng.choice("MF"),
                       **{f: rng.choice(list(enum)).value for f, enum in (
                           ("relationship", vocab.Relationship),
                           ("marital_status", vocab.MaritalStatus),
                           ("education_level", vocab.EducationLevel),
                           ("schooling", vocab.Schooling), ("disability", vocab.Disability),
                           ("health_coverage", vocab.HealthCoverage),
                           ("activity", vocab.Activity))}})
    schema = {"household_id": pl.Int64, "age": pl.Int64,
              **{f: pl.Utf8 for f in cond.MEMBER_FIELDS if f != "age"}}
    return pl.DataFrame(hh), pl.DataFrame(mm, schema=schema)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_translation_agrees_with_cel(seed):
    households, members = _frames(seed)
    for e in EXPRESSIONS:
        assert cond.check(e) == [], e
    plans = {f"c{i}": vectorised.translate(e, prefix=f"_c{i}_")
             for i, e in enumerate(EXPRESSIONS)}
    got = vectorised.evaluate(plans, households, members).sort("household_id")
    parsed = [cond.Condition(f"c{i}", e) for i, e in enumerate(EXPRESSIONS)]
    expected = {hid: cond.evaluate(parsed, ctx)
                for hid, ctx in selectors.contexts_of_frames(households, members)}
    for row in got.iter_rows(named=True):
        hid = row.pop("household_id")
        assert row == expected[hid], (hid, row, expected[hid])


@pytest.mark.parametrize("expression", [
    "members[0].age > 3", "household.size / 2 > 1", "members.exists(m, members.exists(n, "
    "n.age > m.age))", "1u > 0u", "members.map(m, m.age).size() > 0",
])
def test_what_is_not_translated_is_refused(expression):
    with pytest.raises(vectorised.Unsupported):
        vectorised.translate(expression)
