"""Where the persons to deduplicate come from: the register (bulk SQL, no per-row ORM) or the
synthetic generator's frames (benchmarks, quality tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl
from django.db import connection

from sijill.dedup.linkage import INPUT_COLUMNS
from sijill.households.models import Membership
from sijill.population.models import Person

CHUNK_ROWS = 50_000

_SELECT = """
SELECT p.id, p.first_name_ar, p.family_name_ar, p.first_name_latin, p.family_name_latin,
       p.first_key_ar, p.family_key_ar, p.first_key_latin, p.family_key_latin, p.sex,
       p.birth_date, p.birth_year_only,
       COALESCE(p.birth_place_commune_id, NULLIF(p.birth_place_abroad, '')),
       p.mother_id, p.father_id, NULLIF(p.phone, ''),
       (p.cnie IS NOT NULL OR p.residence_card IS NOT NULL), m.household_id
FROM {table} p
LEFT JOIN {membership} m ON m.person_id = p.id AND m.end_date IS NULL
WHERE p.status <> 'retired'
ORDER BY p.id
"""


def register_frame(progress: Callable[[int], None] | None = None) -> pl.DataFrame:
    """Every person not retired, with the columns `linkage.prepare` needs, read in chunks of
    `CHUNK_ROWS` rows through one server-side cursor."""
    names = list(INPUT_COLUMNS)
    schema = {n: (pl.String if n == "birth_date" else t) for n, t in INPUT_COLUMNS.items()}
    parts: list[pl.DataFrame] = []
    sql = _SELECT.format(table=connection.ops.quote_name(Person._meta.db_table),
                         membership=connection.ops.quote_name(Membership._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            rows = [(*r[:10], _iso(r[10]), bool(r[11]), *r[12:16], bool(r[16]), r[17])
                    for r in rows]
            parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
            if progress is not None:
                progress(sum(p.height for p in parts))
    if not parts:
        return pl.DataFrame(schema=INPUT_COLUMNS)
    frame = pl.concat(parts)
    return frame.with_columns(pl.col("birth_date").str.to_date()).select(names)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def generated_frame(persons: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """The generator's persons as the register would hold them (names cleaned and keyed as the
    bulk loader does), the generator's person_key as unique_id, parents' keys as links and
    household_key as the current household."""
    from sijill.synthetic.load import person_frame

    household = persons.select("person_key").join(
        members.select("person_key", "household_key"), on="person_key", how="left")
    register = person_frame(persons).with_columns(household["household_key"]
                                                  .alias("household_id"))
    return register.with_columns(
        persons["person_key"].alias("unique_id"),
        persons["mother_key"].alias("mother_id"),
        persons["father_key"].alias("father_id"),
        pl.coalesce(pl.col("birth_place_commune_id"),
                    pl.when(pl.col("birth_place_abroad") == "").then(None)
                    .otherwise(pl.col("birth_place_abroad"))).alias("birth_place"),
        (pl.col("cnie").is_not_null() | pl.col("residence_card").is_not_null())
        .alias("has_document"),
    ).select(list(INPUT_COLUMNS))


def generated_truth(duplicate_of: pl.DataFrame) -> pl.DataFrame:
    """True pairs from the generator's duplicate_of table."""
    return duplicate_of.select(pl.col("person_key").alias("unique_id_l"),
                               pl.col("duplicate_of").alias("unique_id_r"))
