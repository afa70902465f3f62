"""Reads for eligibility, as Polars frames (never a loop over ORM rows for many households).

- `current_scores`: each registered household's index for its current declaration with the
  active formula (null while it is not scored yet).
- `contexts`: the condition context of households (SCHEMA.md), from their current declaration,
  members' ages on the decision day.

PostgreSQL reads go through COPY into Polars; elsewhere through a plain cursor. No audit here:
the services that expose data audit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import polars as pl
from django.db import connection

from sijill.programs.conditions import MEMBER_FIELDS
from sijill.security.fields import decrypt_frame

#: Registration statuses whose households are in the registry (same as scoring's).
REGISTERED: tuple[str, ...] = ("submitted", "verifying", "scored", "notified")
ID_CHUNK = 5_000


def _in_list(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def frame(sql: str, params: Sequence[Any] | dict[str, Any],
          schema: dict[str, Any]) -> pl.DataFrame:
    """Run `sql` and return its rows as a frame of `schema` (COPY on PostgreSQL)."""
    columns = list(schema)
    args = params if isinstance(params, dict) else list(params)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        buf = io.BytesIO()
        with connection.connection.cursor() as cur, cur.copy(
                f"COPY ({sql}) TO STDOUT (FORMAT csv)", args) as copy:
            for data in copy:
                buf.write(data)
        if buf.tell() == 0:
            return pl.DataFrame(schema=schema)
        buf.seek(0)
        bools = [c for c, t in schema.items() if t == pl.Boolean]
        out = pl.read_csv(buf, has_header=False, new_columns=columns, infer_schema=False,
                          schema_overrides={c: (pl.Utf8 if t == pl.Boolean else t)
                                            for c, t in schema.items()})
        return out.with_columns([(pl.col(c) == "t") for c in bools]) if bools else out
    with connection.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


# ---------------------------------------------------------------------------------------------
# Scores


def active_formula_id() -> int | None:
    from sijill.scoring.selectors import formula_current

    fv = formula_current()
    return fv.pk if fv else None


SCORES_SCHEMA = {"household_id": pl.Int64, "current_version": pl.Int64, "score_id": pl.Int64,
                 "score_value": pl.Float64, "provisional": pl.Boolean}


def current_scores(household_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """Registered households with their current score (null when not scored yet).

    The current score is the one of the household's current declaration version with the
    active formula version: a household whose new declaration is not rescored yet has none."""
    formula_id = active_formula_id() or 0
    statuses = ", ".join(f"'{s}'" for s in REGISTERED)
    where = f"h.status IN ({statuses}) AND h.current_version > 0"
    if household_ids is not None:
        if not household_ids:
            return pl.DataFrame(schema=SCORES_SCHEMA)
        where += f" AND h.id IN ({_in_list(household_ids)})"
    sql = ("SELECT h.id, h.current_version, s.id, s.value, s.provisional, s.basis"  # noqa: S608
           " FROM households_household h"
           " JOIN households_declarationversion d"
           " ON d.household_id = h.id AND d.version = h.current_version"
           " LEFT JOIN scoring_score s ON s.declaration_id = d.id AND s.formula_id = %s"
           f" WHERE {where}")
    # The current score is the one of the highest verification basis (scoring.models.Score
    # .basis): chosen here, as the sort, rather than by a correlated subquery per household.
    rows = frame(sql, [formula_id], {**SCORES_SCHEMA, "basis": pl.Int64})
    return (rows.sort("household_id", "basis", nulls_last=False)
            .unique(subset="household_id", keep="last", maintain_order=True)
            .drop("basis"))


# ---------------------------------------------------------------------------------------------
# Condition contexts


_MEMBERS_SCHEMA = {"household_id": pl.Int64, "position": pl.Int64, "sex": pl.Utf8,
                   "birth_date": pl.Date, **{f: pl.Utf8 for f in MEMBER_FIELDS
                                             if f not in {"age", "sex"}}}
_HOUSEHOLDS_SCHEMA = {"household_id": pl.Int64, "milieu": pl.Utf8, "commune": pl.Utf8}


def _ages(birth: pl.Expr, today: date) -> pl.Expr:
    before = (pl.lit(today.month) < birth.dt.month()) | (
        (pl.lit(today.month) == birth.dt.month()) & (pl.lit(today.day) < birth.dt.day()))
    return (pl.lit(today.year) - birth.dt.year().cast(pl.Int64)
            - before.cast(pl.Int64)).cast(pl.Int64)


def _id_filter(household_ids: Sequence[int]) -> str:
    """A predicate on h.id and d.household_id (repeated so the planner reads the declarations
    by index too): a range when the ids are dense, else a list."""
    lo, hi = min(household_ids), max(household_ids)
    if hi - lo + 1 <= 2 * len(household_ids):
        return (f"h.id BETWEEN {int(lo)} AND {int(hi)}"
                f" AND d.household_id BETWEEN {int(lo)} AND {int(hi)}")
    ids = _in_list(household_ids)
    return f"h.id IN ({ids}) AND d.household_id IN ({ids})"


def context_frames(household_ids: Sequence[int], today: date,
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Households (id, milieu, commune, region, province, size) and their members (with age on
    `today`), from each household's current declaration."""
    where = _id_filter(household_ids)
    member_cols = ", ".join(f"m.{f}" for f in MEMBER_FIELDS if f not in {"age", "sex"})
    households = frame(
        "SELECT h.id, d.milieu, d.commune_id FROM households_household h"  # noqa: S608
        " JOIN households_declarationversion d"
        f" ON d.household_id = h.id AND d.version = h.current_version WHERE {where}",
        [], _HOUSEHOLDS_SCHEMA)
    members = frame(
        "SELECT h.id, m.position, p.sex, p.birth_date, "  # noqa: S608
        f"{member_cols} FROM households_household h"
        " JOIN households_declarationversion d"
        " ON d.household_id = h.id AND d.version = h.current_version"
        " JOIN households_memberdeclaration m ON m.declaration_id = d.id"
        f" JOIN population_person p ON p.id = m.person_id WHERE {where}",
        [], _MEMBERS_SCHEMA)
    members = decrypt_frame(members)  # disability, health coverage: encrypted at rest
    wanted = pl.DataFrame({"household_id": list(household_ids)},
                          schema={"household_id": pl.Int64})
    households = households.join(wanted, on="household_id", how="semi")
    members = members.join(wanted, on="household_id", how="semi")
    members = members.with_columns(_ages(pl.col("birth_date"), today).alias("age")).sort(
        ["household_id", "position"])
    sizes = members.group_by("household_id").len("size")
    households = households.join(sizes, on="household_id", how="left").with_columns(
        pl.col("size").fill_null(0).cast(pl.Int64),
        pl.col("commune").str.slice(0, 2).alias("region"),
        pl.col("commune").str.slice(0, 6).alias("province"))
    return households, members


def contexts_of_frames(households: pl.DataFrame, members: pl.DataFrame,
                       ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(household id, condition context) for each row of frames from `context_frames`."""
    by_household: dict[int, list[dict[str, Any]]] = {}
    cols = ["household_id", *MEMBER_FIELDS]
    for row in members.select(cols).iter_rows(named=True):
        hid = row.pop("household_id")
        by_household.setdefault(hid, []).append(row)
    for row in households.iter_rows(named=True):
        hid = row["household_id"]
        yield hid, {
            "household": {"milieu": row["milieu"], "region": row["region"],
                          "province": row["province"], "commune": row["commune"],
                          "size": row["size"]},
            "members": by_household.get(hid, []),
        }


def contexts(household_ids: Sequence[int], today: date) -> Iterator[tuple[int, dict[str, Any]]]:
    """(household id, condition context) for each household, chunk by chunk."""
    for start in range(0, len(household_ids), ID_CHUNK):
        yield from contexts_of_frames(*context_frames(household_ids[start:start + ID_CHUNK],
                                                      today))


def context_of(household_id: int, today: date) -> dict[str, Any] | None:
    for _hid, ctx in contexts([household_id], today):
        return ctx
    return None
