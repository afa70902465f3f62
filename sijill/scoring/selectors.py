"""Reads for scoring: formula versions, who may see a household's score, and the bulk reader of
every household's current declaration as Polars frames (for the batch engine).

The bulk reader never loops over ORM rows: it reads chunks of households by key (household id)
with one SQL statement for the households and one for their members, through PostgreSQL COPY
into Polars when on PostgreSQL, through a plain cursor elsewhere. No audit here: the services
that expose data audit.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from django.conf import settings
from django.db import connection, transaction

from sijill.accounts.actors import Actor
from sijill.declaration.model import HOUSEHOLD_FIELDS
from sijill.households.models import Household
from sijill.scoring.engine import Formula
from sijill.scoring.engine.derivations import MEMBER_CONTEXT_FIELDS
from sijill.scoring.models import FormulaVersion
from sijill.security.fields import decrypt_frame

#: Registration statuses whose current declaration is scored (drafts are not submitted yet;
#: rejected and cancelled registrations are out of the registry).
SCORABLE_STATUSES: tuple[str, ...] = ("submitted", "verifying", "scored", "notified")

#: Member fields read from the declaration (identity facts come from the population register).
_MEMBER_DECLARED = tuple(f for f in MEMBER_CONTEXT_FIELDS if f not in {"age", "sex"})
_BOOL_HOUSEHOLD = {
    "has_bathroom_or_shower", "has_kitchen", "has_toilet", "has_running_water", "has_garage",
    "has_secondary_residence", "has_professional_premises", "owns_non_agricultural_land",
    "owns_or_farms_irrigated_land", "has_satellite_dish", "has_landline", "has_loan",
}


# ---------------------------------------------------------------------------------------------
# Formula versions


@lru_cache(maxsize=32)
def _parse(pk: int, definition: str) -> Formula:
    return Formula.from_yaml(definition)


def formula_of(version: FormulaVersion) -> Formula:
    """The engine formula of a stored version (parsed once per version; versions never change
    their definition)."""
    return _parse(version.pk, version.definition)


def formula_current(identifier: str | None = None) -> FormulaVersion | None:
    """The active version of `identifier`, or (no identifier) the most recently activated
    active version: the one that scores new declarations."""
    qs = FormulaVersion.objects.filter(status=FormulaVersion.Status.ACTIVE)
    if identifier:
        qs = qs.filter(identifier=identifier)
    return qs.order_by("-activated_at", "-id").first()


# ---------------------------------------------------------------------------------------------
# Object-level access (the same rule as the household itself)


def household_visible(actor: Actor, household: Household) -> bool:
    """Admin: all; agent: households of their centre's provinces; citizen: the household they
    belong to or declare. Other roles see no household's score."""
    if actor.role == "admin":
        return True
    if actor.role == "agent":
        return household.commune.province_id in actor.province_codes
    if actor.role == "citizen":
        return bool(actor.idcs) and (
            household.memberships.filter(person__idcs=actor.idcs, end_date__isnull=True).exists()
            or household.declarant.idcs == actor.idcs)
    return False


# ---------------------------------------------------------------------------------------------
# Bulk reader


@dataclass(frozen=True)
class Chunk:
    """Households (one row each: ids, region, milieu, declared fields) and their members (the
    `household` column is the row number in `households`; `age` at the declaration's reference
    date, `sex` from the register)."""

    households: pl.DataFrame
    members: pl.DataFrame
    last: int = 0  # the last household id read (the key of the next chunk)

    @property
    def n(self) -> int:
        return self.households.height


_HOUSEHOLD_COLUMNS = ("household_id", "declaration_id", "created_at", "milieu", "commune_id",
                      *HOUSEHOLD_FIELDS)
_MEMBER_COLUMNS = ("declaration_id", "position", *_MEMBER_DECLARED, "sex", "birth_date")


_STATUSES_SQL = ", ".join(f"'{s}'" for s in SCORABLE_STATUSES)
_WHERE = f"h.status IN ({_STATUSES_SQL}) AND h.current_version > 0"


def _in_ids(column: str) -> str:
    """`column` among the ids of one array parameter (an indexed lookup on both backends)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])"
    return f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608


def _ids_param(ids: list[int]) -> Any:
    return ids if connection.vendor == "postgresql" else json.dumps(ids)


# The statements below are built from constant identifiers only; values are parameters.


def _households_sql() -> str:
    cols = ", ".join(f"d.{f}" for f in HOUSEHOLD_FIELDS)
    return (
        "SELECT h.id AS household_id, d.id AS declaration_id, d.created_at, d.milieu,"  # noqa: S608
        f" d.commune_id, {cols}"
        " FROM households_household h JOIN households_declarationversion d"
        " ON d.household_id = h.id AND d.version = h.current_version"
        f" WHERE {_WHERE} AND h.id > %s ORDER BY h.id LIMIT %s"
    )


def _members_sql() -> str:
    cols = ", ".join(f"m.{f}" for f in _MEMBER_DECLARED)
    return (
        f"SELECT m.declaration_id, m.position, {cols}, p.sex, p.birth_date"  # noqa: S608
        " FROM households_memberdeclaration m JOIN population_person p ON p.id = m.person_id"
        f" WHERE {_in_ids('m.declaration_id')}"
    )


def _scored_sql() -> str:
    return ("SELECT declaration_id FROM scoring_score"  # noqa: S608
            f" WHERE formula_id = %s AND {_in_ids('declaration_id')}")


def _schema(columns: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in columns:
        if c in {"household_id", "declaration_id", "position"} or c in {
                "rooms", "cows", "mobile_phones", "computers", "cars", "motorcycles",
                "monthly_water_dh", "monthly_electricity_dh", "monthly_butane_dh",
                "monthly_phone_internet_dh"}:
            out[c] = pl.Int64
        elif c in _BOOL_HOUSEHOLD or c == "literate":
            out[c] = pl.Boolean
        else:
            out[c] = pl.Utf8
    return out


def _read(sql: str, params: list[Any], columns: tuple[str, ...]) -> pl.DataFrame:
    schema = _schema(columns)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        buf = io.BytesIO()
        with connection.connection.cursor() as cur, cur.copy(
                f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            for data in copy:
                buf.write(data)
        if buf.tell() == 0:
            return pl.DataFrame(schema=schema)
        buf.seek(0)
        bools = {c for c, t in schema.items() if t == pl.Boolean}
        frame = pl.read_csv(buf, has_header=False, new_columns=list(columns),
                            schema_overrides={c: (pl.Utf8 if c in bools else t)
                                              for c, t in schema.items()})
        return frame.with_columns([(pl.col(c) == "t") for c in bools])
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    for c in ("created_at", "birth_date"):
        if c in data:
            data[c] = [v if isinstance(v, str) else v.isoformat() for v in data[c]]
    return pl.DataFrame(data, schema=schema)


def _reference_dates(created_at: pl.Series) -> pl.Series:
    """The declaration's reference date: its creation day in the register's time zone."""
    tz = settings.TIME_ZONE
    # PostgreSQL (session in UTC) writes "+00"; SQLite holds naive UTC text.
    naive = created_at.str.replace(r"\+00(:00)?$", "").str.replace("T", " ", literal=True)
    parsed = naive.str.to_datetime(time_zone="UTC", time_unit="us", strict=True)
    return parsed.dt.convert_time_zone(tz).dt.date()


def reference_date(created_at: datetime) -> date:
    """The declaration's reference date for one version (same rule as the bulk reader)."""
    return created_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def _ages(birth: pl.Expr, ref: pl.Expr) -> pl.Expr:
    """Completed years on the reference date (a 29 February birthday counts on 1 March)."""
    before = (ref.dt.month() < birth.dt.month()) | (
        (ref.dt.month() == birth.dt.month()) & (ref.dt.day() < birth.dt.day()))
    return (ref.dt.year() - birth.dt.year() - before.cast(pl.Int32)).cast(pl.Int64)


def read_chunk(*, after: int, limit: int, unscored_for: int | None = None) -> Chunk:
    """Up to `limit` scorable households with id > `after`, with their current declaration and
    members, read from one consistent snapshot. With `unscored_for` (a formula version id), only
    those whose current declaration has no score with that version yet.

    Three indexed statements per chunk (households by key; their members by declaration id;
    the already-scored among them by the unique (declaration, formula) index), so a pass over
    the registry reads each row once whatever the number of chunks."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                # Members and persons by index for this chunk, never a scan of the registry.
                cur.execute("SET LOCAL enable_hashjoin = off")
                cur.execute("SET LOCAL enable_mergejoin = off")
        households = _read(_households_sql(), [after, limit], _HOUSEHOLD_COLUMNS)
        if households.height == 0:
            return Chunk(households, pl.DataFrame(schema=_schema(_MEMBER_COLUMNS)), after)
        last = int(households["household_id"][-1])
        if unscored_for is not None:
            ids = households["declaration_id"].to_list()
            with connection.cursor() as cur:
                cur.execute(_scored_sql(), [unscored_for, _ids_param(ids)])
                scored = [r[0] for r in cur.fetchall()]
            if scored:
                households = households.filter(~pl.col("declaration_id").is_in(scored))
            if households.height == 0:
                return Chunk(households, pl.DataFrame(schema=_schema(_MEMBER_COLUMNS)), last)
        members = _read(_members_sql(), [_ids_param(households["declaration_id"].to_list())],
                        _MEMBER_COLUMNS)
        members = decrypt_frame(members)  # disability, health coverage: encrypted at rest
    return _assemble(households, members, last)


def _assemble(households: pl.DataFrame, members: pl.DataFrame, last: int) -> Chunk:
    households = households.with_columns(
        _reference_dates(households["created_at"]).alias("reference_date"),
        pl.col("commune_id").str.slice(0, 2).alias("region"),
    ).with_row_index("row")
    # A household without members cannot be scored (it cannot happen through the services).
    has_members = households["declaration_id"].is_in(
        members["declaration_id"].unique().implode())
    households = households.filter(has_members).drop("row").with_row_index("row")
    members = (
        members.join(households.select("declaration_id", "row", "reference_date"),
                     on="declaration_id", how="inner")
        .with_columns(pl.col("birth_date").str.to_date())
        .with_columns(_ages(pl.col("birth_date"), pl.col("reference_date")).alias("age"))
        .rename({"row": "household"})
        .with_columns(pl.col("household").cast(pl.Int64))
        .sort(["household", "position"])
    )
    return Chunk(households.drop("row"), members, last)


def iter_chunks(*, chunk_size: int = 20_000, unscored_for: int | None = None,
                after: int = 0) -> Iterator[Chunk]:
    """Every scorable household's current declaration, chunk by chunk (keyset on household id).
    With `unscored_for`, already-scored households are skipped (a rerun resumes)."""
    while True:
        chunk = read_chunk(after=after, limit=chunk_size, unscored_for=unscored_for)
        if chunk.last == after:
            return
        if chunk.n:
            yield chunk
        after = chunk.last


def count_scorable(*, scored_with: int | None = None) -> int:
    """Scorable households; with `scored_with`, those whose current declaration has a score
    with that formula version."""
    sql = ("SELECT COUNT(*) FROM households_household h"  # noqa: S608
           " JOIN households_declarationversion d"
           " ON d.household_id = h.id AND d.version = h.current_version"
           f" WHERE {_WHERE}")
    params: list[Any] = []
    if scored_with is not None:
        sql += (" AND EXISTS (SELECT 1 FROM scoring_score s WHERE s.declaration_id = d.id"
                " AND s.formula_id = %s)")
        params.append(scored_with)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return int(cur.fetchone()[0])
