"""Bulk import of households from a CSV or Parquet file: all or nothing, every bad row reported.

File layout: one row per member; the rows of a household share its `household_key`.

    household_key   any text, unique to the household within the file (groups its rows)
    commune         HCP commune code, e.g. 04.421.01.0
    milieu          urban | rural
    address         free text (1-300 characters)
    declarant_idcs  IDCS of the declarant (an adult member of the household)
    notice_language ar | fr | en (optional column; empty means ar)
    <household fields of sijill.declaration.model.HouseholdData>
        dwelling_type, rooms, has_bathroom_or_shower, has_kitchen, has_toilet,
        has_running_water, electricity_meter, cooking_fuel, has_garage,
        has_secondary_residence, has_professional_premises, owns_non_agricultural_land,
        owns_or_farms_irrigated_land, cows, mobile_phones, computers, has_satellite_dish,
        has_landline, cars, motorcycles, has_loan, monthly_water_dh, monthly_electricity_dh,
        monthly_butane_dh, monthly_phone_internet_dh
    <member fields of sijill.declaration.model.MemberData>
        idcs, relationship, marital_status, education_level, diploma, literate, activity,
        employment_status, occupation, schooling, disability, health_coverage

Household columns (commune ... monthly_phone_internet_dh) are repeated on every row of the
household and must be identical on all of them. Enumerations take the values of
sijill.declaration.vocab; booleans are true/false (or 1/0); counts and amounts are whole numbers
in the ranges of households.models.RANGES. In Parquet, columns may be typed (bool, int) or text.

    moving          optional column: true on the row of a member who leaves the household
                    they belong to today (empty or absent means false)

The same rules as a registration through the API apply (enrolled and alive members, one head,
an adult declarant member, one household per person, roll-out open). Moves are explicit, as
through the API: a person already in another household is a bad row (`in_another_household`)
unless the row says `moving=true`; then the old membership ends (`moved`) and the old household
gets its next declaration version without the person (cancelled if nobody is left), history
kept. The head of a household whose other members stay cannot move out by file
(`head_has_members`: that household names a new head first). A registry would rather refuse
than guess: an IDCS typed into the wrong household of a file must not silently take a person
out of their family. If any row is bad, nothing is imported and the report lists every bad
row: `row` is the 1-based data row (line row+1 of a CSV, after the header), `field` the column,
`code` and `reason` what is wrong. A household-level problem (no head) is reported on the
household's first row.

On PostgreSQL the rows are written with COPY; elsewhere with batched INSERTs (the writers of
`households.bulkwrite`, shared with the synthetic loader; each household records the same
lifecycle as a registration: draft, then submitted). Everything is one transaction; the partial
unique index on memberships still guards against a concurrent registration of the same person
(the import then fails whole and can be retried). After the commit, one background task per
`ANNOUNCE_CHUNK` households (`tasks.households_submitted_task`) sends `household_submitted` for
each of them (verification starts, then scoring): the import itself queues a handful of tasks,
not one per household.

Where the time goes (PostgreSQL 15, 100,000 households of 1-5 members: 1,000,000 rows in five
tables; CPU seconds, as wall time on the shared 2-core bench machine varies 2x with its load):
the rows' foreign keys, checked one row at a time at COMMIT (2,000,000 checks of ~3.5 us each),
~7 s of the server; the COPYs with their indexes and checks ~4 s; validation and preparing the
frames ~4 s of the client; the rest ~1 s. Everything but the last two is what any writer of
these rows pays for the schema (`bench/bench_households.py` measures it as a COPY of exactly
these rows, next to the import).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sijill.accounts.actors import SYSTEM, Actor
from sijill.audit.services import audit_record
from sijill.core.errors import ValidationFailed
from sijill.declaration import vocab
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from sijill.geography.models import Commune
from sijill.geography.selectors import commune_milieux
from sijill.households import services
from sijill.households.bulkwrite import (
    household_references,
    lifecycle_event_frame,
    reserve_ids,
    write_frame,
)
from sijill.households.models import (
    RANGES,
    DeclarationVersion,
    Household,
    MemberDeclaration,
    Membership,
    RegistrationEvent,
)
from sijill.population import idcs as idcs_mod
from sijill.population.models import Person

PLACE_COLUMNS = ("commune", "milieu", "address", "declarant_idcs", "notice_language")
HOUSEHOLD_COLUMNS = PLACE_COLUMNS + HOUSEHOLD_FIELDS
COLUMNS = ("household_key", *HOUSEHOLD_COLUMNS, *MEMBER_FIELDS)
OPTIONAL = {"notice_language", "moving"}

ENUMS: dict[str, Iterable[str]] = {
    "milieu": vocab.Milieu, "dwelling_type": vocab.DwellingType,
    "electricity_meter": vocab.ElectricityMeter, "cooking_fuel": vocab.CookingFuel,
    "relationship": vocab.Relationship, "marital_status": vocab.MaritalStatus,
    "education_level": vocab.EducationLevel, "diploma": vocab.Diploma,
    "activity": vocab.Activity, "employment_status": vocab.EmploymentStatus,
    "occupation": vocab.Occupation, "schooling": vocab.Schooling,
    "disability": vocab.Disability, "health_coverage": vocab.HealthCoverage,
}
ENUMS_EXTRA: dict[str, Iterable[str]] = {"notice_language": ("ar", "fr", "en")}
BOOLEANS = tuple(n for n in (*HOUSEHOLD_FIELDS, *MEMBER_FIELDS)
                 if n.startswith(("has_", "owns_")) or n == "literate")
INTEGERS = tuple(RANGES)
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
ANNOUNCE_CHUNK = 5000  # households per household_submitted_task


@dataclass(frozen=True, slots=True)
class BadRow:
    row: int
    field: str
    code: str
    reason: str


@dataclass
class ImportResult:
    households: int = 0
    members: int = 0
    errors: list[BadRow] = field(default_factory=list)
    method: str = ""
    #: Wall time of each phase: reading + validation, writing + commit, announcing (the
    #: household_submitted receivers, e.g. queued scoring tasks); "commit" is the part of
    #: "write" spent in the COMMIT, where PostgreSQL checks the deferred foreign keys of every
    #: row written (0 when the caller holds the transaction).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Errors:
    def __init__(self) -> None:
        self.items: list[BadRow] = []

    def add(self, row: int, name: str, code: str, reason: str) -> None:
        self.items.append(BadRow(row, name, code, reason))

    def add_mask(self, frame: pl.DataFrame, mask: pl.Series, name: str, code: str,
                 reason: str) -> None:
        if not mask.any():  # the usual case: one pass over the mask, nothing filtered
            return
        for row in frame["_row"].filter(mask.fill_null(False)).to_list():
            self.add(row, name, code, reason)


def read_file(path: Path) -> pl.DataFrame:
    """Every column as text (stripped; empty is null), plus `_row` (1-based data row)."""
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
        frame = frame.with_columns(
            [pl.col(c).cast(pl.Utf8).str.to_lowercase() if frame[c].dtype == pl.Boolean
             else pl.col(c).cast(pl.Utf8) for c in frame.columns])
    elif path.suffix.lower() == ".csv":
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    else:
        raise ValueError(f"unsupported file type {path.suffix!r}: use .csv or .parquet")
    # Stripped, then empty -> null by length (half the time of replace("", None)).
    frame = (frame.lazy().with_columns(pl.all().str.strip_chars())
             .with_columns(pl.when(pl.all().str.len_bytes() > 0).then(pl.all()).name.keep())
             .collect())
    return frame.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))


def idcs_problems(values: pl.Series) -> pl.Series:
    """`population.idcs.problem` of every value at once: "idcs_format", "idcs_checksum" or
    null (a valid IDCS, or no value)."""
    well_formed = values.str.contains(r"^[1-9][0-9]{9}$")
    ok = well_formed.fill_null(False).to_numpy()
    valid = np.zeros(len(values), dtype=bool)
    if ok.any():
        text = "".join(values.filter(pl.Series(ok)).to_list()).encode("ascii")
        digits = (np.frombuffer(text, dtype=np.uint8) - 48).reshape(-1, idcs_mod.LENGTH)
        valid[ok] = idcs_mod.checksums_ok(digits)
    return _codes(well_formed, valid)


def _codes(well_formed: pl.Series, valid: np.ndarray) -> pl.Series:
    frame = pl.DataFrame({"w": well_formed, "v": valid})
    return frame.select(
        pl.when(pl.col("w").is_null()).then(pl.lit(None, dtype=pl.Utf8))
        .when(~pl.col("w")).then(pl.lit("idcs_format"))
        .when(pl.col("v")).then(pl.lit(None, dtype=pl.Utf8))
        .otherwise(pl.lit("idcs_checksum")).alias("code"))["code"]


def _check_columns(frame: pl.DataFrame, errors: _Errors) -> bool:
    missing = [c for c in COLUMNS if c not in frame.columns and c not in OPTIONAL]
    for name in missing:
        errors.add(0, name, "missing_column", _("This column is missing from the file."))
    return not missing


def _check_values(frame: pl.DataFrame, errors: _Errors) -> pl.DataFrame:
    """Row-level checks; returns the frame with typed columns (null where invalid)."""
    if "notice_language" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("notice_language"))
    frame = frame.with_columns(pl.col("notice_language").fill_null("ar"))
    if "moving" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("moving"))
    moving = frame["moving"].str.to_lowercase()
    errors.add_mask(frame, moving.is_not_null() & ~moving.is_in([*TRUE, *FALSE]), "moving",
                    "not_a_boolean", _("Use true or false."))
    frame = frame.with_columns(moving.is_in(TRUE).fill_null(False).alias("moving"))
    for name in COLUMNS:
        errors.add_mask(frame, frame[name].is_null(), name, "required",
                        _("This field is required."))
    for name, enum in {**ENUMS, **ENUMS_EXTRA}.items():
        allowed = [str(v) for v in enum]
        bad = frame[name].is_not_null() & ~frame[name].is_in(allowed)
        errors.add_mask(frame, bad, name, "invalid_choice",
                        _("This value is not one of the allowed choices: %(expected)s.")
                        % {"expected": ", ".join(allowed)})
    typed = []
    for name in BOOLEANS:
        lowered = frame[name].str.to_lowercase()
        bad = lowered.is_not_null() & ~lowered.is_in([*TRUE, *FALSE])
        errors.add_mask(frame, bad, name, "not_a_boolean", _("Use true or false."))
        typed.append(lowered.is_in(TRUE).alias(name))
    for name in INTEGERS:
        low, high = RANGES[name]
        number = frame[name].str.to_integer(strict=False)
        not_int = frame[name].is_not_null() & number.is_null()
        errors.add_mask(frame, not_int, name, "not_an_integer", _("Give a whole number."))
        out = number.is_not_null() & ((number < low) | (number > high))
        errors.add_mask(frame, out, name, "out_of_range",
                        _("This value must be between %(low)s and %(high)s.")
                        % {"low": low, "high": high})
        typed.append(number.alias(name))
    for name in ("idcs", "declarant_idcs"):
        code = idcs_problems(frame[name])
        errors.add_mask(frame, code == "idcs_format", name, "idcs_format",
                        _("An IDCS has exactly 10 digits and does not start with 0."))
        errors.add_mask(frame, code == "idcs_checksum", name, "idcs_checksum",
                        _("This IDCS is mistyped: its check digit does not match."))
    address_long = frame["address"].is_not_null() & (frame["address"].str.len_chars() > 300)
    errors.add_mask(frame, address_long, "address", "too_long",
                    _("This value is too long (at most %(max)s characters).") % {"max": 300})
    return frame.with_columns(typed)


def _check_households(frame: pl.DataFrame, errors: _Errors, *, actor: Actor, day: date,
                      ) -> None:
    """Household-level checks: consistency, commune and roll-out, head, declarant."""
    first = frame.group_by("household_key", maintain_order=True).first()
    joined = frame.join(first.select("household_key", *[pl.col(c).alias(f"{c}__first")
                                                          for c in HOUSEHOLD_COLUMNS]),
                        on="household_key", how="left")
    for name in HOUSEHOLD_COLUMNS:
        differs = joined[name].ne_missing(joined[f"{name}__first"])
        errors.add_mask(joined, differs, name, "household_mismatch",
                        _("This differs from the household's first row."))
    communes = {c.code: c for c in Commune.objects.select_related("province")
                .filter(code__in=frame["commune"].drop_nulls().unique().to_list())}
    closed: dict[str, str | None] = {}
    for code, commune in communes.items():
        if actor.role == "agent" and commune.province_id not in actor.province_codes:
            closed[code] = _("This commune is not served by your citizen service centre.")
            continue
        try:
            services.rollout_check(commune=commune, day=day)
        except ValidationFailed as exc:
            closed[code] = str(exc.fields[0].message)
    named = first["commune"].is_not_null()
    errors.add_mask(first, named & ~first["commune"].is_in(list(communes)), "commune",
                    "unknown_commune", _("No commune has this code."))
    for code, reason in closed.items():
        errors.add_mask(first, first["commune"] == code, "commune", "rollout_not_open",
                        reason)  # type: ignore[arg-type]
    # The milieu must be one the 2024 census found in the commune (it picks the formula's model):
    # one filter over the file, whatever the number of communes.
    found = {code: commune_milieux(code) for code in communes}
    allowed = [f"{code}|{m}" for code, milieux in found.items() for m in milieux]
    wrong = first.filter(pl.col("commune").is_in([c for c, m in found.items() if m])
                         & pl.col("milieu").is_in(["urban", "rural"])
                         & ~pl.concat_str(["commune", "milieu"], separator="|").is_in(allowed))
    for row, code in wrong.select("_row", "commune").iter_rows():
        errors.add(row, "milieu", "milieu_not_in_commune",
                   services.milieu_message(communes[code], found[code]))
    heads = frame.filter(pl.col("relationship") == "head")
    head_count = heads.group_by("household_key").len()
    no_head = first.join(head_count, on="household_key", how="left").filter(
        pl.col("len").is_null())
    for row in no_head["_row"].to_list():
        errors.add(row, "relationship", "no_head",
                   _("Name exactly one member as the household head."))
    extra_heads = heads.filter(pl.int_range(pl.len()).over("household_key") > 0)
    for row in extra_heads["_row"].to_list():
        errors.add(row, "relationship", "several_heads", _("A household has exactly one head."))
    outsiders = first.filter(pl.col("declarant_idcs").is_not_null()).join(
        frame.select("household_key", pl.col("idcs").alias("declarant_idcs")),
        on=["household_key", "declarant_idcs"], how="anti")
    errors.add_mask(outsiders, pl.Series([True] * outsiders.height, dtype=pl.Boolean),
                    "declarant_idcs", "declarant_not_member",
                    _("The declarant must be a member of the household."))


def _chunks(values: list[str], size: int = 5000) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


@dataclass
class Persons:
    """What the register says of the file's persons: their pks (idcs, person_id: a frame, not
    a dict, as Polars maps a column through a frame's columns in half the time), and the active
    memberships of those who move (person pk, household pk, membership pk)."""

    ids: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"idcs": pl.Utf8, "person_id": pl.Int64}))
    moves: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"person_id": pl.Int64, "household_id": pl.Int64, "membership_id": pl.Int64}))


_PERSON_SCHEMA = {"idcs": pl.Utf8, "person_id": pl.Int64, "birth_date": pl.Date,
                  "status": pl.Utf8}
_BUSY_SCHEMA = {"person_id": pl.Int64, "household_id": pl.Int64, "membership_id": pl.Int64,
                "old_relationship": pl.Utf8}


def _register_rows(wanted: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Persons (idcs, person_id, birth_date, status) and their active memberships (person_id,
    household_id, membership_id, old_relationship). PostgreSQL: the file's IDCS are copied into
    a temporary table and joined in one statement, read back with COPY; elsewhere chunks of
    5,000 IDCS."""
    if connection.vendor == "postgresql":
        return _register_rows_copy(wanted)
    persons: list[tuple[Any, ...]] = []
    busy: list[tuple[Any, ...]] = []
    for part in _chunks(wanted):
        persons += Person.objects.filter(idcs__in=part).values_list(
            "idcs", "pk", "birth_date", "status")
        busy += Membership.objects.filter(person__idcs__in=part, end_date__isnull=True) \
            .values_list("person_id", "household_id", "pk", "relationship")
    return (pl.DataFrame(persons, orient="row", schema=_PERSON_SCHEMA),
            pl.DataFrame(busy, orient="row", schema=_BUSY_SCHEMA))


def _register_rows_copy(wanted: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    person, membership = Person._meta.db_table, Membership._meta.db_table
    # One transaction: the temporary table's rows live until its commit.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bulk_import_idcs (idcs text) "
                       "ON COMMIT DELETE ROWS")
        cursor.execute("TRUNCATE bulk_import_idcs")
        with cursor.copy("COPY bulk_import_idcs (idcs) FROM STDIN") as copy:
            copy.write("\n".join(wanted) + ("\n" if wanted else ""))
        cursor.execute("ANALYZE bulk_import_idcs")
        # The rows come back as a few text values of 20,000 CSV lines each (format() writes
        # NULL as nothing): read row by row, COPY TO cost 2.4 us of Python per row (0.7 s per
        # 300,000 members).
        cursor.execute(
            "SELECT string_agg(line, %s) FROM (SELECT format('%%s,%%s,%%s,%%s,%%s,%%s,%%s', "  # noqa: S608
            "p.idcs, p.id, p.birth_date, p.status, m.household_id, m.id, m.relationship) AS line, "
            "(row_number() OVER ()) / 20000 AS part "
            f'FROM bulk_import_idcs w JOIN "{person}" p ON p.idcs = w.idcs '
            f'LEFT JOIN "{membership}" m ON m.person_id = p.id AND m.end_date IS NULL) lines '
            "GROUP BY part", ["\n"])
        text = "\n".join(r[0] for r in cursor.fetchall())
    names = ["idcs", "person_id", "birth_date", "status", "household_id", "membership_id",
             "old_relationship"]
    if not text:
        return pl.DataFrame(schema=_PERSON_SCHEMA), pl.DataFrame(schema=_BUSY_SCHEMA)
    rows = pl.read_csv(text.encode(), has_header=False, new_columns=names,
                       schema_overrides={**_PERSON_SCHEMA, **_BUSY_SCHEMA})
    return (rows.select(*_PERSON_SCHEMA).unique("idcs"),
            rows.filter(pl.col("membership_id").is_not_null()).select(*_BUSY_SCHEMA))


def _check_persons(frame: pl.DataFrame, errors: _Errors, *, day: date) -> Persons:
    """Enrolled, alive, adult declarant, listed once, in no other household unless moving
    (and then not the head of a household whose other members stay). Set-based: the file's
    rows joined to what the register says of their persons."""
    valid = frame.filter(pl.col("idcs").is_not_null() & idcs_problems(frame["idcs"]).is_null())
    wanted = valid["idcs"].unique().sort().to_list()
    persons, busy = _register_rows(wanted)
    rows = (valid.select("_row", "idcs", "moving")
            .with_columns(pl.col("idcs").is_first_distinct().alias("_first"))
            .join(persons, on="idcs", how="left")
            .join(busy, on="person_id", how="left"))
    duplicate = ~pl.col("_first")
    known = pl.col("_first") & pl.col("person_id").is_not_null()
    alive = known & ~pl.col("status").is_in([Person.Status.DECEASED, Person.Status.RETIRED])
    elsewhere = alive & pl.col("household_id").is_not_null()

    def add(condition: pl.Expr, code: str, message: Any) -> None:
        for row, idcs in rows.filter(condition).select("_row", "idcs").iter_rows():
            errors.add(row, "idcs", code, message % {"idcs": idcs})

    errors.add_mask(rows, rows.select(duplicate)["_first"], "idcs", "duplicate_member",
                    _("This person is listed more than once in the file."))
    add(pl.col("_first") & pl.col("person_id").is_null(), "not_enrolled",
        _("No person is enrolled in the population register with IDCS %(idcs)s: enrol them "
          "first."))
    add(known & (pl.col("status") == Person.Status.DECEASED), "deceased",
        _("The person with IDCS %(idcs)s is recorded deceased."))
    add(known & (pl.col("status") == Person.Status.RETIRED), "retired",
        _("IDCS %(idcs)s was retired: use the person's current IDCS."))
    add(elsewhere & ~pl.col("moving"), "in_another_household",
        _("IDCS %(idcs)s already belongs to another household (set moving to true to move "
          "them here)."))
    moves = rows.filter(elsewhere & pl.col("moving"))
    heads = moves.filter(pl.col("old_relationship") == "head")
    if heads.height:
        # A head moves out only with every other member of that household moving too.
        staying = set(Membership.objects.filter(
            household_id__in=heads["household_id"].to_list(), end_date__isnull=True)
            .exclude(person_id__in=moves["person_id"].to_list())
            .values_list("household_id", flat=True))
        for row, idcs in heads.filter(pl.col("household_id").is_in(list(staying))) \
                .select("_row", "idcs").iter_rows():
            errors.add(row, "idcs", "head_has_members",
                       _("IDCS %(idcs)s is the head of a household that has other members: "
                         "that household must first name a new head.") % {"idcs": idcs})

    adult = settings.SIJILL["ADULT_AGE"]
    born_by = _years_before(day, adult)
    first = frame.group_by("household_key", maintain_order=True).first() \
        .select("_row", "declarant_idcs") \
        .join(persons.select(pl.col("idcs").alias("declarant_idcs"), "birth_date"),
              on="declarant_idcs", how="inner")
    errors.add_mask(first, first["birth_date"] > born_by, "declarant_idcs",
                    "declarant_not_adult",
                    _("The declarant must be an adult (%(age)s or older).") % {"age": adult})
    return Persons(ids=persons.select("idcs", "person_id"),
                   moves=moves.select("person_id", "household_id", "membership_id"))


def _years_before(day: date, years: int) -> date:
    """The latest birth date of someone `years` old on `day` (29 February: 28 in other years),
    the same cut as `population.validation.age_on`."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def validate(frame: pl.DataFrame, *, actor: Actor = SYSTEM, day: date | None = None,
             ) -> tuple[pl.DataFrame, Persons, list[BadRow]]:
    day = day or timezone.localdate()
    errors = _Errors()
    if not _check_columns(frame, errors):
        return frame, Persons(), errors.items
    frame = _check_values(frame, errors)
    _check_households(frame, errors, actor=actor, day=day)
    persons = _check_persons(frame, errors, day=day)
    unique = sorted(set(errors.items), key=lambda e: (e.row, e.field, e.code))
    return frame, persons, unique


# ---------------------------------------------------------------------------------------------
# Writing


def _insert(frame: pl.DataFrame, person_ids: pl.DataFrame, *, actor: Actor, day: date,
            note: str) -> list[tuple[int, str]]:
    now = datetime.now(UTC)
    idcs, pks = person_ids["idcs"], person_ids["person_id"]
    frame = frame.with_columns(
        pl.col("idcs").replace_strict(idcs, pks, return_dtype=pl.Int64).alias("person_id"),
        pl.col("declarant_idcs").replace_strict(idcs, pks, return_dtype=pl.Int64)
        .alias("declarant_id"))
    households = frame.group_by("household_key", maintain_order=True).agg(
        *[pl.col(c).first() for c in (*HOUSEHOLD_COLUMNS, "declarant_id")],
        pl.col("person_id").filter(pl.col("relationship") == "head").first().alias("head_id"))
    n = households.height
    households = households.with_columns(reserve_ids(Household, n),
                                         reserve_ids(DeclarationVersion, n).alias("version_id"),
                                         pl.Series("reference", household_references(n),
                                                   dtype=pl.Utf8))
    when = pl.lit(now, dtype=pl.Datetime("us", "UTC"))
    write_frame(Household, households.select(
        "id", "reference", pl.col("commune").alias("commune_id"), "milieu", "address",
        "declarant_id", "head_id", pl.lit(Household.Status.SUBMITTED).alias("status"),
        "notice_language", pl.lit(1).alias("current_version"),
        pl.lit(None, dtype=pl.Int64).alias("centre_id"), pl.lit(actor.label).alias("created_by"),
        when.alias("created_at"), when.alias("updated_at"),
        when.alias("verification_requested_at")))  # announced after the commit
    write_frame(RegistrationEvent, lifecycle_event_frame(households["id"],
                                                         actor_label=actor.label, at=now,
                                                         note=note))
    write_frame(DeclarationVersion, households.select(
        pl.col("version_id").alias("id"), pl.col("id").alias("household_id"),
        pl.lit(1).alias("version"), pl.lit("bulk_import").alias("reason"),
        when.alias("created_at"), pl.lit(actor.label).alias("created_by"), "declarant_id",
        pl.col("commune").alias("commune_id"), "milieu", "address", *HOUSEHOLD_FIELDS))
    members = frame.join(households.select("household_key", pl.col("id").alias("household_id"),
                                           "version_id"), on="household_key", how="left")
    members = members.with_columns(
        (pl.int_range(pl.len()).over("household_key")).alias("position"))
    member_fields = [f for f in MEMBER_FIELDS if f != "idcs"]
    write_frame(MemberDeclaration, members.select(
        pl.col("version_id").alias("declaration_id"), "position", "person_id", *member_fields))
    write_frame(Membership, members.select(
        "household_id", "person_id", "relationship", pl.lit(day).alias("start_date"),
        pl.lit(None, dtype=pl.Date).alias("end_date"), pl.lit("").alias("end_reason")))
    return list(households.select("id", "reference").iter_rows())


def _moves(persons: Persons, *, actor: Actor, day: date) -> None:
    """End the old memberships of the members who move (`moved`) and write each old
    household's next version without them, as a declared move through the API does."""
    if persons.moves.height == 0:
        return
    leaving = Membership.objects.select_related("person").in_bulk(
        persons.moves["membership_id"].to_list())
    by_household: dict[int, list[Membership]] = {}
    for m in leaving.values():
        by_household.setdefault(m.household_id, []).append(m)
    for household in (Household.objects.select_for_update(of=("self",))
                      .select_related("declarant", "head")
                      .filter(pk__in=sorted(by_household)).order_by("pk")):
        services._remove_members(household=household, leaving=by_household[household.pk],
                                 reason=Membership.EndReason.MOVED, actor=actor, day=day)


def _announce(created: list[tuple[int, str]]) -> None:
    """Queue one `households_submitted_task` per ANNOUNCE_CHUNK imported households (each
    sends household_submitted for its households in the background)."""
    from sijill.households.tasks import households_submitted_task

    ids = [pk for pk, _ in created]
    for start in range(0, len(ids), ANNOUNCE_CHUNK):
        households_submitted_task.enqueue(household_ids=ids[start:start + ANNOUNCE_CHUNK],
                                          version=1)


def households_import(*, path: Path, actor: Actor = SYSTEM, day: date | None = None,
                      ) -> ImportResult:
    """Validate the whole file; import every household in one transaction, or nothing."""
    day = day or timezone.localdate()
    started = time.perf_counter()
    frame = read_file(path)
    frame, persons, errors = validate(frame, actor=actor, day=day)
    result = ImportResult(errors=errors,
                          method="copy" if connection.vendor == "postgresql" else "insert")
    result.timings["validate"] = time.perf_counter() - started
    if errors:
        return result
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    started = time.perf_counter()
    with transaction.atomic():
        _moves(persons, actor=actor, day=day)
        created = _insert(frame, persons.ids, actor=actor, day=day,
                          note=f"bulk import {path.name}")
        audit_record(actor=actor, action="bulk_import", entity="household_file",
                     entity_id=digest[:16],
                     detail={"file": path.name, "sha256": digest, "households": len(created),
                             "members": frame.height,
                             "references": [ref for _, ref in created]})
        written = time.perf_counter()
    result.timings["write"] = time.perf_counter() - started
    result.timings["commit"] = time.perf_counter() - written

    def announce() -> None:
        begun = time.perf_counter()
        _announce(created)
        result.timings["announce"] = time.perf_counter() - begun

    # After the commit: at once when the caller holds no transaction, else when it commits.
    transaction.on_commit(announce)
    result.households, result.members = len(created), frame.height
    return result
