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

The same rules as a registration through the API apply (enrolled and alive members, one head,
an adult declarant member, one household per person, roll-out open); a person already in a
household is an error (moves are not imported). If any row is bad, nothing is imported and the
report lists every bad row: `row` is the 1-based data row (line row+1 of a CSV, after the
header), `field` the column, `code` and `reason` what is wrong. A household-level problem (no
head) is reported on the household's first row.

On PostgreSQL the rows are written with COPY; elsewhere with batched INSERTs. Everything is one
transaction; the partial unique index on memberships still guards against a concurrent
registration of the same person (the import then fails whole and can be retried).
"""

from __future__ import annotations

import hashlib
import io
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sijill.accounts.actors import SYSTEM, Actor
from sijill.audit.services import audit_record
from sijill.core.errors import ValidationFailed
from sijill.declaration import vocab
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from sijill.geography.models import Commune
from sijill.households import services
from sijill.households.models import (
    RANGES,
    DeclarationVersion,
    Household,
    MemberDeclaration,
    Membership,
    RegistrationEvent,
)
from sijill.households.signals import household_submitted
from sijill.population import idcs as idcs_mod
from sijill.population.models import Person
from sijill.population.validation import age_on
from sijill.security.fields import encrypt_model_frame

PLACE_COLUMNS = ("commune", "milieu", "address", "declarant_idcs", "notice_language")
HOUSEHOLD_COLUMNS = PLACE_COLUMNS + HOUSEHOLD_FIELDS
COLUMNS = ("household_key", *HOUSEHOLD_COLUMNS, *MEMBER_FIELDS)
OPTIONAL = {"notice_language"}

ENUMS: dict[str, type] = {
    "milieu": vocab.Milieu, "dwelling_type": vocab.DwellingType,
    "electricity_meter": vocab.ElectricityMeter, "cooking_fuel": vocab.CookingFuel,
    "relationship": vocab.Relationship, "marital_status": vocab.MaritalStatus,
    "education_level": vocab.EducationLevel, "diploma": vocab.Diploma,
    "activity": vocab.Activity, "employment_status": vocab.EmploymentStatus,
    "occupation": vocab.Occupation, "schooling": vocab.Schooling,
    "disability": vocab.Disability, "health_coverage": vocab.HealthCoverage,
}
ENUMS_EXTRA = {"notice_language": ("ar", "fr", "en")}
BOOLEANS = tuple(n for n in (*HOUSEHOLD_FIELDS, *MEMBER_FIELDS)
                 if n.startswith(("has_", "owns_")) or n == "literate")
INTEGERS = tuple(RANGES)
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
BATCH = 2000


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
    #: household_submitted receivers, e.g. queued scoring tasks).
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
        for row in frame.filter(mask)["_row"].to_list():
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
    frame = frame.with_columns(pl.col(c).str.strip_chars().replace("", None)
                               for c in frame.columns)
    return frame.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))


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
        low = frame[name].str.to_lowercase()
        bad = low.is_not_null() & ~low.is_in([*TRUE, *FALSE])
        errors.add_mask(frame, bad, name, "not_a_boolean", _("Use true or false."))
        typed.append(low.is_in(TRUE).alias(name))
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
        values = frame[name].to_list()
        rows = frame["_row"].to_list()
        for row, value in zip(rows, values, strict=True):
            if value is None:
                continue
            code = idcs_mod.problem(value)
            if code == "idcs_format":
                errors.add(row, name, code,
                           _("An IDCS has exactly 10 digits and does not start with 0."))
            elif code == "idcs_checksum":
                errors.add(row, name, code,
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
    for row, code in zip(first["_row"].to_list(), first["commune"].to_list(), strict=True):
        if code is None:
            continue
        if code not in communes:
            errors.add(row, "commune", "unknown_commune", _("No commune has this code."))
        elif code in closed:
            errors.add(row, "commune", "rollout_not_open", closed[code])  # type: ignore[arg-type]
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
    member_of = set(zip(frame["household_key"].to_list(), frame["idcs"].to_list(), strict=True))
    for row, key, declarant in zip(first["_row"].to_list(), first["household_key"].to_list(),
                                   first["declarant_idcs"].to_list(), strict=True):
        if declarant is not None and (key, declarant) not in member_of:
            errors.add(row, "declarant_idcs", "declarant_not_member",
                       _("The declarant must be a member of the household."))


def _chunks(values: list[str], size: int = 5000) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _check_persons(frame: pl.DataFrame, errors: _Errors, *, day: date) -> dict[str, Any]:
    """Enrolled, alive, adult declarant, listed once, in no other household.

    Returns {idcs: (person_id, birth_date)} of the persons found."""
    wanted = sorted(set(frame["idcs"].drop_nulls().to_list()))
    found: dict[str, tuple[int, date, str]] = {}
    busy: set[int] = set()
    for part in _chunks(wanted):
        for pk, idcs, birth, status in Person.objects.filter(idcs__in=part).values_list(
                "pk", "idcs", "birth_date", "status"):
            found[idcs] = (pk, birth, status)
        busy.update(Membership.objects.filter(person__idcs__in=part, end_date__isnull=True)
                    .values_list("person_id", flat=True))
    seen: set[str] = set()
    adult = settings.SIJILL["ADULT_AGE"]
    for row, idcs in zip(frame["_row"].to_list(), frame["idcs"].to_list(), strict=True):
        if idcs is None or idcs_mod.problem(idcs):
            continue
        if idcs in seen:
            errors.add(row, "idcs", "duplicate_member",
                       _("This person is listed more than once in the file."))
            continue
        seen.add(idcs)
        person = found.get(idcs)
        if person is None:
            errors.add(row, "idcs", "not_enrolled",
                       _("No person is enrolled in the population register with IDCS "
                         "%(idcs)s: enrol them first.") % {"idcs": idcs})
        elif person[2] == Person.Status.DECEASED:
            errors.add(row, "idcs", "deceased", _("The person with IDCS %(idcs)s is recorded "
                                                  "deceased.") % {"idcs": idcs})
        elif person[2] == Person.Status.RETIRED:
            errors.add(row, "idcs", "retired", _("IDCS %(idcs)s was retired: use the person's "
                                                 "current IDCS.") % {"idcs": idcs})
        elif person[0] in busy:
            errors.add(row, "idcs", "in_another_household",
                       _("IDCS %(idcs)s already belongs to another household.")
                       % {"idcs": idcs})
    first = frame.group_by("household_key", maintain_order=True).first()
    for row, declarant in zip(first["_row"].to_list(), first["declarant_idcs"].to_list(),
                              strict=True):
        person = found.get(declarant) if declarant else None
        if person is not None and age_on(person[1], day) < adult:
            errors.add(row, "declarant_idcs", "declarant_not_adult",
                       _("The declarant must be an adult (%(age)s or older).") % {"age": adult})
    return {k: v[0] for k, v in found.items()}


def validate(frame: pl.DataFrame, *, actor: Actor = SYSTEM, day: date | None = None,
             ) -> tuple[pl.DataFrame, dict[str, int], list[BadRow]]:
    day = day or timezone.localdate()
    errors = _Errors()
    if not _check_columns(frame, errors):
        return frame, {}, errors.items
    frame = _check_values(frame, errors)
    _check_households(frame, errors, actor=actor, day=day)
    person_ids = _check_persons(frame, errors, day=day)
    unique = sorted(set(errors.items), key=lambda e: (e.row, e.field, e.code))
    return frame, person_ids, unique


# ---------------------------------------------------------------------------------------------
# Writing


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                           "FROM generate_series(1, %s)", [table, count])
            return [r[0] for r in cursor.fetchall()]
        # SQLite: the IMMEDIATE transaction holds the write lock from BEGIN.
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
        first = cursor.fetchone()[0] + 1
        return list(range(first, first + count))


def _write(model: type[models.Model], frame: pl.DataFrame) -> None:
    """Insert rows whose columns are the table's column names: COPY on PostgreSQL."""
    if frame.height == 0:
        return
    frame = encrypt_model_frame(model, frame)  # sensitive columns: ciphertext on both paths
    table = model._meta.db_table
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    if connection.vendor == "postgresql":
        sql = f'COPY "{table}" ({cols}) FROM STDIN WITH (FORMAT csv)'
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for start in range(0, frame.height, 50_000):
                buffer = io.BytesIO()
                frame.slice(start, 50_000).write_csv(
                    buffer, include_header=False, null_value="",
                    datetime_format="%Y-%m-%dT%H:%M:%S%.f%z")
                copy.write(buffer.getvalue())
        return
    marks = ", ".join(["%s"] * len(frame.columns))
    sql = f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, frame.height, BATCH):
            cursor.executemany(sql, frame.slice(start, BATCH).rows())


def _references(count: int) -> list[str]:
    chosen: set[str] = set()
    while len(chosen) < count:
        fresh = {"MEN-" + secrets.token_hex(4).upper() for _ in range(count - len(chosen))}
        fresh -= chosen
        for part in _chunks(sorted(fresh)):
            fresh -= set(Household.objects.filter(reference__in=part)
                         .values_list("reference", flat=True))
        chosen |= fresh
    return sorted(chosen)


def _insert(frame: pl.DataFrame, person_ids: dict[str, int], *, actor: Actor, day: date,
            note: str) -> list[tuple[int, str]]:
    now = datetime.now(UTC)
    frame = frame.with_columns(
        pl.col("idcs").replace_strict(person_ids, return_dtype=pl.Int64).alias("person_id"),
        pl.col("declarant_idcs").replace_strict(person_ids, return_dtype=pl.Int64)
        .alias("declarant_id"))
    households = frame.group_by("household_key", maintain_order=True).agg(
        *[pl.col(c).first() for c in (*HOUSEHOLD_COLUMNS, "declarant_id")],
        pl.col("person_id").filter(pl.col("relationship") == "head").first().alias("head_id"))
    n = households.height
    ids = _reserve_ids(Household, n)
    version_ids = _reserve_ids(DeclarationVersion, n)
    refs = _references(n)
    households = households.with_columns(pl.Series("id", ids, dtype=pl.Int64),
                                         pl.Series("version_id", version_ids, dtype=pl.Int64),
                                         pl.Series("reference", refs, dtype=pl.Utf8))
    when = pl.lit(now, dtype=pl.Datetime("us", "UTC"))
    _write(Household, households.select(
        "id", "reference", pl.col("commune").alias("commune_id"), "milieu", "address",
        "declarant_id", "head_id", pl.lit(Household.Status.SUBMITTED).alias("status"),
        "notice_language", pl.lit(1).alias("current_version"),
        pl.lit(None, dtype=pl.Int64).alias("centre_id"), pl.lit(actor.label).alias("created_by"),
        when.alias("created_at"), when.alias("updated_at")))
    _write(RegistrationEvent, households.select(
        pl.col("id").alias("household_id"), pl.lit("").alias("from_status"),
        pl.lit(Household.Status.SUBMITTED).alias("to_status"), when.alias("at"),
        pl.lit(actor.label).alias("actor_label"), pl.lit(note[:300]).alias("note")))
    _write(DeclarationVersion, households.select(
        pl.col("version_id").alias("id"), pl.col("id").alias("household_id"),
        pl.lit(1).alias("version"), pl.lit("bulk_import").alias("reason"),
        when.alias("created_at"), pl.lit(actor.label).alias("created_by"), "declarant_id",
        pl.col("commune").alias("commune_id"), "milieu", "address", *HOUSEHOLD_FIELDS))
    members = frame.join(households.select("household_key", pl.col("id").alias("household_id"),
                                           "version_id"), on="household_key", how="left")
    members = members.with_columns(
        (pl.int_range(pl.len()).over("household_key")).alias("position"))
    member_fields = [f for f in MEMBER_FIELDS if f != "idcs"]
    _write(MemberDeclaration, members.select(
        pl.col("version_id").alias("declaration_id"), "position", "person_id", *member_fields))
    _write(Membership, members.select(
        "household_id", "person_id", "relationship", pl.lit(day).alias("start_date"),
        pl.lit(None, dtype=pl.Date).alias("end_date"), pl.lit("").alias("end_reason")))
    return list(zip(ids, refs, strict=True))


def _announce(created: list[tuple[int, str]]) -> None:
    """Send household_submitted for each imported household; what receivers write (queued
    scoring tasks) commits once per batch instead of once per household."""
    for start in range(0, len(created), 5000):
        with transaction.atomic():
            for pk, ref in created[start:start + 5000]:
                household_submitted.send(sender=Household, household_id=pk, reference=ref,
                                         version=1)


def households_import(*, path: Path, actor: Actor = SYSTEM, day: date | None = None,
                      ) -> ImportResult:
    """Validate the whole file; import every household in one transaction, or nothing."""
    day = day or timezone.localdate()
    started = time.perf_counter()
    frame = read_file(path)
    frame, person_ids, errors = validate(frame, actor=actor, day=day)
    result = ImportResult(errors=errors,
                          method="copy" if connection.vendor == "postgresql" else "insert")
    result.timings["validate"] = time.perf_counter() - started
    if errors:
        return result
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    started = time.perf_counter()
    with transaction.atomic():
        created = _insert(frame, person_ids, actor=actor, day=day,
                          note=f"bulk import {path.name}")
        audit_record(actor=actor, action="bulk_import", entity="household_file",
                     entity_id=digest[:16],
                     detail={"file": path.name, "sha256": digest, "households": len(created),
                             "members": frame.height,
                             "references": [ref for _, ref in created]})
    result.timings["write"] = time.perf_counter() - started

    def announce() -> None:
        begun = time.perf_counter()
        _announce(created)
        result.timings["announce"] = time.perf_counter() - begun

    # After the commit: at once when the caller holds no transaction, else when it commits.
    transaction.on_commit(announce)
    result.households, result.members = len(created), frame.height
    return result
