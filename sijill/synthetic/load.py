"""Load a synthetic population into the register through the bulk path (see LOADING.md).

`population_load` streams `generate(scope, seed, options)` chunk by chunk and writes, for every
chunk and in one transaction:

- population: Person (IDCS from `idcs_allocate_many`, names cleaned and keyed exactly as at
  enrolment) and its first PersonVersion (the same snapshot `person_enrol` stores);
- households: Household (status "submitted", like `household_register(submit=True)`), its two
  RegistrationEvents (created as draft, then submitted), the first DeclarationVersion with one
  MemberDeclaration per member, and the active Memberships;
- one audit entry for the chunk (who loaded what, never one entry per person).

On PostgreSQL each table is written with COPY (CSV from Polars, psycopg 3 `cursor.copy`); on
SQLite with batched INSERTs (the writers of `households.bulkwrite`, shared with the household
file import). Primary keys are reserved first (PostgreSQL: `nextval` on the table's sequence;
SQLite: after MAX(id), under the write lock the transaction holds), so the foreign keys are
computed in Polars, not looked up row by row. Memory stays flat: one chunk
(`options.chunk_households`) at a time.

The hidden truth never enters the register: with `truth_dir`, the truth tables go to Parquet
files there, with `person_ids.parquet` / `household_ids.parquet` mapping the generator's keys to
the IDCS and household references that were allocated (the verification simulator joins on them).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import IntegrityError, connection, connections, models, transaction
from django.utils import timezone

from sijill.accounts.actors import SYSTEM, Actor
from sijill.audit.services import audit_record
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from sijill.households.bulkwrite import (
    household_references,
    lifecycle_event_frame,
    reserve_ids,
    write_frame,
)
from sijill.households.models import (
    DeclarationVersion,
    Household,
    MemberDeclaration,
    Membership,
    RegistrationEvent,
)
from sijill.population import normalize
from sijill.population.models import Person, PersonVersion
from sijill.population.services import PERSON_NAME_KEYS, idcs_allocate_many
from sijill.synthetic.generate import Chunk, Options, generate, peak_rss_mb
from sijill.synthetic.schema import SCHEMAS, TRUTH_TABLES
from sijill.synthetic.tables import scramble

BATCH_SIZE = 2000  # bulk_create batch on SQLite
CHUNK_RETRIES = 3  # a chunk whose IDCS or reference collided with a concurrent writer is redone
LOADER_LABEL = "synthetic-loader"
MEMBER_DATA_FIELDS = tuple(f for f in MEMBER_FIELDS if f != "idcs")
_random = random.SystemRandom()


@dataclass(slots=True)
class LoadSummary:
    """What a load wrote (row counts per table), how, how long it took and the peak memory."""

    scope: str | None
    seed: int
    method: str = ""  # "copy" or "insert"
    households: int = 0
    persons: int = 0
    duplicates: int = 0  # injected duplicate enrolments loaded (include_duplicates)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    truth_dir: Path | None = None


# ---------------------------------------------------------------------------------------------
# Frames for each table, columns named like the database columns


def _mapped(column: pl.Series, fn: Callable[[str], str]) -> pl.Series:
    """fn applied once per distinct value (names repeat: a few thousand distinct per chunk)."""
    uniques = column.unique().drop_nulls().to_list()
    return column.replace_strict({u: fn(u) for u in uniques}, return_dtype=pl.String)


def _clean_latin(text: str) -> str:
    return " ".join(text.split())


def person_frame(persons: pl.DataFrame) -> pl.DataFrame:
    """Register columns of the persons (without id, idcs and parents): names cleaned as at
    enrolment (`population.services._validate`) and keyed with `PERSON_NAME_KEYS`.

    Mapping of the generator's columns: birth_date_precision "year" and "month" both give
    `birth_year_only` (birth_date then 1 January: the register records a full date or a year,
    and a month-only date must not pass as an exact one); no birth commune gives
    `birth_place_abroad` = the nationality; a foreigner is a "resident" enrolled with a residence
    card (adults) or a birth certificate (minors); a Moroccan with a CNIE by document, without
    one (children) by birth certificate. Residence card and birth certificate numbers are made
    up from the person key (unique, deterministic for a seed).
    """
    clean = persons.with_columns(
        _mapped(persons["first_name_ar"], normalize.arabic_name).alias("first_name_ar"),
        _mapped(persons["family_name_ar"], normalize.arabic_name).alias("family_name_ar"),
        _mapped(persons["first_name_latin"], _clean_latin).alias("first_name_latin"),
        _mapped(persons["family_name_latin"], _clean_latin).alias("family_name_latin"),
    )
    keys = [_mapped(clean[name], fn).alias(key) for key, (name, fn) in PERSON_NAME_KEYS.items()]
    year_only = pl.col("birth_date_precision").is_in(["year", "month"])
    birth = pl.when(year_only).then(pl.date(pl.col("birth_date").dt.year(), 1, 1)) \
        .otherwise(pl.col("birth_date"))
    foreign = pl.col("nationality") != "MA"
    numbers = pl.Series(scramble(persons["person_key"].to_numpy(), 7_919)).cast(pl.String) \
        .str.zfill(9)
    has_cnie = pl.col("cnie").is_not_null()
    today = timezone.localdate()
    adult_born_by = date(today.year - settings.SIJILL["ADULT_AGE"], today.month,
                         min(today.day, 28))
    adult_foreigner = foreign & (pl.col("birth_date") <= adult_born_by)
    return clean.with_columns(*keys, numbers.alias("_number")).select(
        "first_name_ar", "family_name_ar", "first_name_latin", "family_name_latin",
        *PERSON_NAME_KEYS, "sex",
        birth.alias("birth_date"),
        year_only.alias("birth_year_only"),
        pl.col("birth_date").dt.year().cast(pl.Int32).alias("birth_year"),
        pl.col("birth_commune_code").alias("birth_place_commune_id"),
        pl.when(pl.col("birth_commune_code").is_null()).then(pl.col("nationality"))
        .otherwise(pl.lit("")).alias("birth_place_abroad"),
        "nationality",
        pl.when(foreign).then(pl.lit("resident")).otherwise(pl.lit("citizen"))
        .alias("residence_status"),
        pl.when(foreign).then(None).otherwise(pl.col("cnie")).alias("cnie"),
        pl.when(adult_foreigner).then(pl.lit("RC") + pl.col("_number")).otherwise(None)
        .alias("residence_card"),
        pl.when(has_cnie | adult_foreigner).then(pl.lit(""))
        .otherwise(pl.col("birth_date").dt.year().cast(pl.String) + "/" + pl.col("_number"))
        .alias("birth_certificate_ref"),
        pl.col("phone").fill_null(""),
        pl.when(has_cnie | adult_foreigner).then(pl.lit("document"))
        .otherwise(pl.lit("birth_certificate")).alias("enrolment_basis"),
    )


def _person_snapshot_fields() -> list[models.Field[Any, Any]]:
    """The fields `model_to_dict` puts in a PersonVersion snapshot (editable, not the id)."""
    return [f for f in Person._meta.concrete_fields if f.editable and f.name != "id"]


def person_version_frame(people: pl.DataFrame, *, reason: str, actor: Actor,
                         now: datetime) -> pl.DataFrame:
    """One PersonVersion per person, its `data` the same JSON as `services._snapshot`."""
    parts = []
    for f in _person_snapshot_fields():
        col = pl.col(f.attname) if f.attname in people.columns else pl.lit(None)
        if isinstance(f, models.DateField):
            col = col.cast(pl.String)
        parts.append(col.alias(f.name))
    data = people.select(pl.struct(parts).struct.json_encode().alias("data"))["data"]
    return pl.DataFrame({
        "person_id": people["id"], "version": pl.Series([1] * people.height, dtype=pl.Int32),
        "data": data,
    }).with_columns(pl.lit(reason).alias("reason"), pl.lit(actor.label).alias("actor_label"),
                    pl.lit(now).alias("changed_at"))


# ---------------------------------------------------------------------------------------------
# Keys, references and writers


# Shared with the household file import (households.bulkwrite): key reservation, references,
# COPY / INSERT writers (encrypting what must be), the lifecycle events.


# ---------------------------------------------------------------------------------------------
# One chunk


@dataclass(slots=True)
class _ChunkResult:
    rows: dict[str, int]
    person_ids: pl.DataFrame  # person_key, idcs
    household_ids: pl.DataFrame  # household_key, reference


def _persons_to_load(chunk: Chunk, include_duplicates: bool) -> pl.DataFrame:
    persons = chunk["persons"]
    if include_duplicates:
        return persons
    return persons.filter(~pl.col("person_key").is_in(chunk["duplicate_of"]["person_key"]
                                                      .to_list()))


def _idcs_for(count: int, prefetched: list[str], exclude: set[str]) -> list[str]:
    """`count` IDCS: the prefetched ones not in `exclude` (the chunk being loaded while they
    were drawn, not yet committed), topped up with `idcs_allocate_many`."""
    chosen = list(dict.fromkeys(x for x in prefetched if x not in exclude))[:count]
    while len(chosen) < count:
        have = set(chosen)
        chosen += [x for x in idcs_allocate_many(count=count - len(chosen)) if x not in have]
    return chosen


def _load_chunk(chunk: Chunk, persons: pl.DataFrame, idcs: list[str], *, actor: Actor,
                scope: str | None, seed: int) -> _ChunkResult:
    now = datetime.now(UTC)
    today = timezone.localdate()
    households = chunk["households"]
    members = chunk["members"].with_columns(
        pl.int_range(pl.len()).over("household_key").cast(pl.Int32).alias("position"))

    # Persons, with their ids, IDCS (shuffled: an IDCS says nothing of place or order) and parents.
    idcs = list(idcs)
    _random.shuffle(idcs)
    people = person_frame(persons).with_columns(
        reserve_ids(Person, persons.height),
        pl.Series("idcs", idcs, dtype=pl.String),
        persons["person_key"],
        persons["mother_key"], persons["father_key"],
    )
    key_to_id = people.select(pl.col("person_key"), pl.col("id").alias("_pid"))
    for parent in ("mother", "father"):
        people = people.join(key_to_id.rename({"person_key": f"{parent}_key",
                                               "_pid": f"{parent}_id"}),
                             on=f"{parent}_key", how="left")
    people = people.with_columns(
        pl.lit("active").alias("status"), pl.lit("bulk").alias("enrolment_channel"),
        pl.lit(1).cast(pl.Int32).alias("version"), pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"))
    person_cols = [c for c in people.columns
                   if c not in ("person_key", "mother_key", "father_key")]

    # Households: ids, references, head and declarant.
    members = members.join(key_to_id, on="person_key", how="left")
    head = members.filter(pl.col("relationship") == "head") \
        .select("household_key", pl.col("_pid").alias("head_id"))
    declarant = members.filter(pl.col("is_declarant")) \
        .select("household_key", pl.col("_pid").alias("declarant_id"))
    hh = households.with_columns(
        reserve_ids(Household, households.height),
        pl.Series("reference", household_references(households.height), dtype=pl.String),
    ).join(head, on="household_key", how="left").join(declarant, on="household_key", how="left")
    hh_rows = hh.select(
        "id", "reference", pl.col("commune_code").alias("commune_id"), "milieu", "address",
        "declarant_id", "head_id", pl.lit("submitted").alias("status"),
        pl.lit("ar").alias("notice_language"), pl.lit(1).cast(pl.Int32).alias("current_version"),
        pl.lit(actor.label).alias("created_by"), pl.lit(now).alias("created_at"),
        pl.lit(now).alias("updated_at"))
    events = lifecycle_event_frame(hh["id"], actor_label=actor.label, at=now,
                                   note="synthetic population")
    decl = hh.with_columns(reserve_ids(DeclarationVersion, hh.height).alias("declaration_id"))
    decl_rows = decl.select(
        pl.col("declaration_id").alias("id"), pl.col("id").alias("household_id"),
        pl.lit(1).cast(pl.Int32).alias("version"), pl.lit("registration").alias("reason"),
        pl.lit(now).alias("created_at"), pl.lit(actor.label).alias("created_by"),
        "declarant_id", pl.col("commune_code").alias("commune_id"), "milieu", "address",
        *HOUSEHOLD_FIELDS)
    ids = decl.select("household_key", pl.col("id").alias("household_id"), "declaration_id")
    members = members.join(ids, on="household_key", how="left")
    member_rows = members.select("declaration_id", "position", pl.col("_pid").alias("person_id"),
                                 *MEMBER_DATA_FIELDS)
    membership_rows = members.select(
        "household_id", pl.col("_pid").alias("person_id"), "relationship",
        pl.lit(today).alias("start_date"), pl.lit(None, dtype=pl.Date).alias("end_date"),
        pl.lit("").alias("end_reason"))

    rows = {
        "persons": write_frame(Person, people.select(person_cols)),
        "person_versions": write_frame(PersonVersion, person_version_frame(
            people, reason="enrolment", actor=actor, now=now)),
        "households": write_frame(Household, hh_rows),
        "registration_events": write_frame(RegistrationEvent, events),
        "declarations": write_frame(DeclarationVersion, decl_rows),
        "member_declarations": write_frame(MemberDeclaration, member_rows),
        "memberships": write_frame(Membership, membership_rows),
    }
    audit_record(actor=actor, action="bulk_load", entity="synthetic_population",
                 entity_id=f"{scope or 'country'}:{seed}",
                 detail={"households": hh.height, "persons": people.height,
                         "first_reference": hh_rows["reference"][0] if hh.height else ""})
    return _ChunkResult(
        rows=rows,
        person_ids=people.select("person_key", "idcs"),
        household_ids=hh.select("household_key", "reference"),
    )


# ---------------------------------------------------------------------------------------------
# The loader


class _TruthWriter:
    """Parquet files, one per truth table, one row group per chunk."""

    def __init__(self, out: Path, include_duplicates: bool):
        self.out = out
        self.include_duplicates = include_duplicates
        self.writers: dict[str, Any] = {}
        out.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, frame: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        arrow = frame.to_arrow()
        if name not in self.writers:
            self.writers[name] = pq.ParquetWriter(self.out / f"{name}.parquet", arrow.schema,
                                                  compression="zstd")
        self.writers[name].write_table(arrow.cast(self.writers[name].schema))

    def chunk(self, chunk: Chunk, result: _ChunkResult) -> None:
        for t in TRUTH_TABLES:
            self.write(t, chunk[t])
        if not self.include_duplicates:  # the injected duplicates, still to be enrolled
            dup = chunk["persons"].filter(
                pl.col("person_key").is_in(chunk["duplicate_of"]["person_key"].to_list()))
            self.write("duplicate_persons", dup)
        self.write("person_ids", result.person_ids)
        self.write("household_ids", result.household_ids)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
        empties: dict[str, dict[str, type[pl.DataType]]] = {
            **{t: SCHEMAS[t] for t in TRUTH_TABLES},
            "duplicate_persons": SCHEMAS["persons"],
            "person_ids": {"person_key": pl.Int64, "idcs": pl.String},
            "household_ids": {"household_key": pl.Int64, "reference": pl.String}}
        for name, schema in empties.items():
            if name not in self.writers and (name != "duplicate_persons"
                                             or not self.include_duplicates):
                pl.DataFrame(schema=schema).write_parquet(self.out / f"{name}.parquet")


def _allocate(count: int) -> list[str]:
    return idcs_allocate_many(count=count)


def population_load(scope: str | None, seed: int, options: Options | None = None, *,
                    include_duplicates: bool = False, truth_dir: str | Path | None = None,
                    actor: Actor = SYSTEM,
                    progress: Callable[[LoadSummary], None] | None = None) -> LoadSummary:
    """Generate the population of `scope` (commune, province or region code; None: Morocco)
    and write it into the register, chunk by chunk, each chunk in its own transaction.

    `include_duplicates` also enrols the generator's injected duplicate persons (each with its
    own IDCS, in no household: the register then holds the duplicates that deduplication must
    find). `truth_dir` receives the hidden truth as Parquet. `progress` is called after each
    chunk with the running summary.
    """
    started = time.perf_counter()
    summary = LoadSummary(scope=scope, seed=seed,
                          method="copy" if connection.vendor == "postgresql" else "insert",
                          truth_dir=Path(truth_dir) if truth_dir is not None else None)
    truth = _TruthWriter(summary.truth_dir, include_duplicates) if summary.truth_dir else None
    # On PostgreSQL the next chunk's IDCS are drawn (pure Python, the slowest step after the
    # database's own work) in a second thread while this chunk is written and committed. Not
    # inside a caller's transaction: the thread's connection would not see the earlier chunks.
    pipelined = connection.vendor == "postgresql" and not connection.in_atomic_block
    pool = ThreadPoolExecutor(max_workers=1) if pipelined else None
    chunks = generate(scope, seed, options)
    try:
        chunk = next(chunks, None)
        ahead: Future[list[str]] | None = None
        if pool is not None and chunk is not None:
            ahead = pool.submit(_allocate, _persons_to_load(chunk, include_duplicates).height)
        previous: set[str] = set()
        while chunk is not None:
            persons = _persons_to_load(chunk, include_duplicates)
            prefetched = ahead.result() if ahead is not None else []
            idcs = _idcs_for(persons.height, prefetched, previous)
            following = next(chunks, None)
            ahead = None
            if pool is not None and following is not None:
                ahead = pool.submit(_allocate,
                                    _persons_to_load(following, include_duplicates).height)
            for attempt in range(CHUNK_RETRIES):
                try:
                    with transaction.atomic():
                        result = _load_chunk(chunk, persons, idcs, actor=actor, scope=scope,
                                             seed=seed)
                    break
                except IntegrityError:  # an IDCS or reference taken meanwhile: draw again
                    if attempt == CHUNK_RETRIES - 1:
                        raise
                    idcs = _idcs_for(persons.height, [], set())
            previous = set(idcs)
            if truth is not None:
                truth.chunk(chunk, result)
            for name, count in result.rows.items():
                summary.rows[name] = summary.rows.get(name, 0) + count
            summary.households += result.rows["households"]
            summary.persons += result.rows["persons"]
            if include_duplicates:
                summary.duplicates += chunk["duplicate_of"].height
            summary.seconds = time.perf_counter() - started
            summary.peak_rss_mb = peak_rss_mb()
            if progress is not None:
                progress(summary)
            chunk = following
    finally:
        if truth is not None:
            truth.close()
        if pool is not None:
            pool.submit(connections.close_all).result()  # the worker thread's connection
            pool.shutdown()
    summary.seconds = time.perf_counter() - started
    summary.peak_rss_mb = peak_rss_mb()
    return summary
