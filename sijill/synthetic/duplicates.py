"""Injected duplicate enrolments: extra person rows for people already enrolled, with the errors
that make real duplicates hard to catch (spelling variants, typos, swapped day and month).

A duplicate has its own person_key (the original's key + 16, a slot no member uses) and is no
household's member; `duplicate_of` tells which person it copies and which errors it carries.
Only the few chosen rows go through Python string handling: this is not the hot path.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from sijill.synthetic.names import ARABIC_NORMALISATION, VARIANTS, prefix_variant
from sijill.synthetic.schema import conform, empty
from sijill.synthetic.tables import cnie_numbers

ERRORS = (
    "first_name_variant", "family_name_prefix", "first_name_typo", "family_name_typo",
    "arabic_spelling", "day_month_swapped", "birth_day_missing", "birth_year_only",
)  # fmt: skip
ERROR_WEIGHTS = np.array([0.22, 0.12, 0.12, 0.12, 0.12, 0.12, 0.1, 0.08])
KEY_OFFSET = 16
#: Share of duplicates enrolled again with their parents' links (a birth certificate names the
#: parents, and the agent links those found in the register); the others carry none.
KEEP_PARENTS = 0.5


def _typo(text: str, r: float, r2: float) -> str:
    """One keyboard slip that changes the text: a dropped, doubled, swapped or replaced letter."""
    if len(text) < 3:
        return text + text[-1]
    i = 1 + int(r * (len(text) - 2))
    first = int(r2 * 4)
    for kind in (first, (first + 1) % 4, (first + 2) % 4, (first + 3) % 4):
        if kind == 0:
            out = text[:i] + text[i + 1 :]
        elif kind == 1:
            out = text[:i] + text[i] + text[i:]
        elif kind == 2 and i + 1 < len(text):
            out = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        else:
            pool = "aeiouy" if text[i].lower() in "aeiouy" else "rnmsltkd"
            letter = next(c for c in pool[int(r2 * 97) % len(pool) :] + pool if c != text[i])
            out = text[:i] + letter + text[i + 1 :]
        if out != text:
            return out
    return text + "e"


def inject(persons: pl.DataFrame, rng: np.random.Generator, rate: float, seed: int
           ) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """Duplicate person rows (to append to persons) and their ground truth."""
    n = persons.height
    chosen = np.flatnonzero(rng.random(n) < rate)
    if len(chosen) == 0:
        return empty("persons"), empty("duplicate_of")
    src = persons[chosen].to_dicts()
    rows: list[dict[str, object]] = []
    truth: list[dict[str, object]] = []
    n_err = np.where(rng.random(len(chosen)) < 0.3, 2, 1)
    picks = rng.random((len(chosen), 2))
    rnd = rng.random((len(chosen), 6))
    cum = np.cumsum(ERROR_WEIGHTS) / ERROR_WEIGHTS.sum()
    keep_parents = rng.random(len(chosen)) < KEEP_PARENTS
    for i, p in enumerate(src):
        row = dict(p)
        errors: list[str] = []
        for j in range(int(n_err[i])):
            err = ERRORS[int(np.searchsorted(cum, picks[i, j], side="right"))]
            if err in errors:
                continue
            r, r2 = rnd[i, 2 * j], rnd[i, 2 * j + 1]
            born: date = row["birth_date"]  # type: ignore[assignment]
            if err == "first_name_variant":
                options = VARIANTS.get(str(row["first_name_latin"]))
                if not options:
                    err = "first_name_typo"
                else:
                    row["first_name_latin"] = options[int(r * len(options))]
            if err == "family_name_prefix":
                row["family_name_latin"] = prefix_variant(str(row["family_name_latin"]), r)
            elif err == "first_name_typo":
                row["first_name_latin"] = _typo(str(row["first_name_latin"]), r, r2)
            elif err == "family_name_typo":
                row["family_name_latin"] = _typo(str(row["family_name_latin"]), r, r2)
            elif err == "arabic_spelling":
                before = f"{row['first_name_ar']}|{row['family_name_ar']}"
                row["first_name_ar"] = str(row["first_name_ar"]).translate(ARABIC_NORMALISATION)
                row["family_name_ar"] = str(row["family_name_ar"]).translate(ARABIC_NORMALISATION)
                if before == f"{row['first_name_ar']}|{row['family_name_ar']}":
                    row["family_name_ar"] = _typo(str(row["family_name_ar"]), r, r2)
            elif err == "day_month_swapped":
                if (
                    born.day <= 12
                    and born.day != born.month
                    and row["birth_date_precision"] == "day"
                ):
                    row["birth_date"] = born.replace(day=born.month, month=born.day)
                else:
                    row["birth_date"] = born + timedelta(days=1 + int(r * 3))
                    err = "birth_date_off_by_days"
            elif err == "birth_day_missing":
                row["birth_date"] = born.replace(day=1)
                row["birth_date_precision"] = "month"
            elif err == "birth_year_only":
                row["birth_date"] = born.replace(month=1, day=1)
                row["birth_date_precision"] = "year"
            errors.append(err)
        original = int(p["person_key"])  # type: ignore[arg-type]
        row["person_key"] = original + KEY_OFFSET
        if not keep_parents[i]:  # enrolled without naming parents found in the register
            row["mother_key"] = None
            row["father_key"] = None
        if rnd[i, 4] < 0.7:  # enrolled again on a birth certificate or witnesses: no card
            row["cnie"] = None
        if rnd[i, 5] < 0.5:
            row["phone"] = None
        rows.append(row)
        truth.append({"person_key": original + KEY_OFFSET, "duplicate_of": original,
                      "errors": ",".join(errors)})  # fmt: skip
    dups = conform("persons", pl.DataFrame(rows, schema=persons.schema))
    # A duplicate that kept a card got a second one: a new number, still unique.
    new_cnie = cnie_numbers(dups["person_key"].to_numpy(), seed)
    dups = dups.with_columns(pl.when(pl.col("cnie").is_not_null()).then(new_cnie).alias("cnie"))
    return dups, conform("duplicate_of", pl.DataFrame(truth))
