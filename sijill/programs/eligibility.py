"""Eligibility decisions: one function decides one program over some or all households.

`redecide(program, household_ids=None)` reads the current scores and the current decisions as
frames, runs the program's conditions only where they may have changed (no decision yet, a new
declaration version, new conditions, or `recheck`), compares every score with the threshold in
one vectorised step, and writes a new decision only where an input or the outcome changed
(the previous one loses its `current` flag), in bulk (COPY on PostgreSQL). A threshold change
over a million households therefore reads two frames, compares, and writes the changed rows;
the conditions' results are reused.

A household whose current declaration is not scored yet keeps its previous decision until its
score arrives (the score's arrival re-decides it); a household that left the registry
(cancelled, rejected) gets a final not-eligible decision.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from sijill.programs import conditions as cond
from sijill.programs import selectors, vectorised
from sijill.programs.models import Program

logger = logging.getLogger(__name__)
_LOCK_BASE = 0x5A1A_0000  # advisory lock ids: one per program, serialising its re-decisions
DECIDED_STATUSES = ("draft", "active", "suspended")  # closed programs decide no more


def conditions_hash(conditions: Sequence[dict[str, Any]]) -> str:
    text = json.dumps([[c["key"], c["expression"]] for c in conditions],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def canonical(results: dict[str, Any]) -> str:
    return json.dumps(results, sort_keys=True, separators=(",", ":"))


def passes(score: float, threshold: float, comparison: str) -> bool:
    return score < threshold if comparison == "<" else score <= threshold


@dataclass
class Outcome:
    program: str
    written: int = 0
    evaluated: int = 0  # households whose conditions were run
    #: (household id, eligible now) for every household whose eligibility changed
    changes: list[tuple[int, bool]] = field(default_factory=list)
    #: a full re-decision found nothing changed since the last one (fingerprint)
    skipped: bool = False


def registry_state() -> tuple[Any, ...]:
    """What a full re-decision depends on besides the program's rules: the active formula and
    the count and last id of scores, declaration versions and registration events (a score, a
    new declaration, a household entering or leaving the registry changes one of them; counts
    catch a transaction committing an older id late). Read before the inputs themselves."""
    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT COUNT(*) FROM scoring_score), (SELECT MAX(id) FROM"
                    " scoring_score), (SELECT COUNT(*) FROM households_declarationversion),"
                    " (SELECT MAX(id) FROM households_declarationversion), (SELECT COUNT(*)"
                    " FROM households_registrationevent), (SELECT MAX(id) FROM"
                    " households_registrationevent)")
        row = cur.fetchone()
    return (selectors.active_formula_id(), *row)


def fingerprint(program: Program, state: tuple[Any, ...]) -> str:
    rules = [conditions_hash(program.conditions), repr(program.threshold), program.comparison,
             program.rules_version, program.status]
    text = json.dumps([*state, *rules], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _tune() -> None:
    """For this transaction: no JIT (simple hash joins: compiling them costs more than it
    saves), memory enough to hash a million rows without spilling to disk."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
            cur.execute("SET LOCAL work_mem = '128MB'")


def _lock(program: Program) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_BASE + program.pk])
        _tune()


def _results_text(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Canonical JSON of each row's results (same text as `canonical`) and whether all hold."""
    parts: list[pl.Expr] = []
    for i, key in enumerate(sorted(keys)):
        parts.append(pl.lit(("{" if i == 0 else ",") + json.dumps(key) + ":"))
        c = pl.col(key)
        parts.append(pl.when(c.is_null()).then(pl.lit("null"))
                     .when(c).then(pl.lit("true")).otherwise(pl.lit("false")))
    parts.append(pl.lit("}"))
    met = pl.all_horizontal([pl.col(k).fill_null(False) for k in keys])
    return frame.select("household_id", pl.concat_str(parts).alias("new_conditions"),
                        met.alias("new_met"))


def _cel_chunk(parsed: list[cond.Condition], households: pl.DataFrame,
               members: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for hid, ctx in selectors.contexts_of_frames(households, members):
        rows.append({"household_id": hid, **cond.evaluate(parsed, ctx)})
    schema = {"household_id": pl.Int64, **{c.key: pl.Boolean for c in parsed}}
    return pl.DataFrame(rows, schema=schema)


SAMPLE = 16  # households per chunk also evaluated with CEL to check the translation


def _evaluate(program: Program, household_ids: list[int], today: date) -> pl.DataFrame:
    """Run the program's conditions on households: (household_id, new_conditions, new_met).

    Vectorised (vectorised.py) when every condition translates; each chunk's translation is
    checked against CEL on a sample, and CEL decides the whole chunk on any difference."""
    parsed = [cond.Condition(key=c["key"], expression=c["expression"])
              for c in program.conditions]
    keys = [c.key for c in parsed]
    try:
        plans: dict[str, vectorised.Plan] | None = {
            c.key: vectorised.translate(c.expression, prefix=f"_c{i}_")
            for i, c in enumerate(parsed)}
    except vectorised.Unsupported:
        plans = None
    parts: list[pl.DataFrame] = []
    for start in range(0, len(household_ids), selectors.ID_CHUNK * 4):
        households, members = selectors.context_frames(
            household_ids[start:start + selectors.ID_CHUNK * 4], today)
        results = None
        if plans is not None:
            try:
                results = vectorised.evaluate(plans, households, members)
            except pl.exceptions.PolarsError:
                logger.exception("vectorised conditions failed; CEL decides this chunk")
            if results is not None:
                step = max(1, households.height // SAMPLE)
                sample = households[::step]
                check = _cel_chunk(parsed, sample, members.filter(
                    pl.col("household_id").is_in(sample["household_id"].implode())))
                mine = results.join(check.select("household_id"), on="household_id",
                                    how="semi").sort("household_id")
                if not mine.select(keys).equals(check.sort("household_id").select(keys)):
                    logger.warning("vectorised conditions of %s differ from CEL; CEL decides "
                                   "this chunk", program.code)
                    results = None
        if results is None:
            results = _cel_chunk(parsed, households, members)
        parts.append(_results_text(results, keys))
    if not parts:
        return pl.DataFrame(schema={"household_id": pl.Int64, "new_conditions": pl.Utf8,
                                    "new_met": pl.Boolean})
    return pl.concat(parts)


def _in_list(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def _temp(name: str, columns: str) -> str:
    suffix = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    return f"CREATE TEMP TABLE {name} ({columns}){suffix}"


DECISIONS_SCHEMA = {
    "household_id": pl.Int64, "old_id": pl.Int64, "old_score_id": pl.Int64,
    "old_version": pl.Int64, "flags": pl.Int64}
NEW_SCHEMA = {
    "household_id": pl.Int64, "score_id": pl.Int64, "score_value": pl.Float64,
    "provisional": pl.Boolean, "declaration_version": pl.Int64, "conditions_met": pl.Boolean,
    "score_ok": pl.Boolean, "eligible": pl.Boolean, "old_id": pl.Int64,
    "previous_eligible": pl.Boolean, "reason": pl.Utf8}


def _current_decisions(program: Program, ids: Sequence[int] | None,
                       chash: str) -> pl.DataFrame:
    """The program's current decisions, narrow: their booleans and whether they were made
    under the current conditions and threshold travel as one integer of flags (a million rows
    a program: the bytes read are what this costs)."""
    where = "program_id = %(program)s AND current"
    if ids is not None:
        where += f" AND household_id IN ({_in_list(ids) or 'NULL'})"
    flags = ("(CASE WHEN eligible THEN 1 ELSE 0 END"
             " + CASE WHEN score_ok THEN 2 ELSE 0 END"
             " + CASE WHEN conditions_met THEN 4 ELSE 0 END"
             " + CASE WHEN conditions_hash = %(hash)s THEN 8 ELSE 0 END"
             " + CASE WHEN threshold = %(threshold)s AND comparison = %(comparison)s"
             " THEN 16 ELSE 0 END)")
    params = {"program": program.pk, "hash": chash, "threshold": program.threshold,
              "comparison": program.comparison}
    return selectors.frame(
        f"SELECT household_id, id, score_id, declaration_version, {flags}"  # noqa: S608
        f" FROM programs_eligibilitydecision WHERE {where}", params, DECISIONS_SCHEMA
    ).pipe(_unpack)


def _unpack(frame: pl.DataFrame) -> pl.DataFrame:
    f = pl.col("flags")
    return frame.with_columns(
        previous_eligible=(f & 1) > 0, old_score_ok=(f & 2) > 0, old_met=(f & 4) > 0,
        same_hash=(f & 8) > 0, same_threshold=(f & 16) > 0).drop("flags")


def _data_changed(cur: Any, program: Program) -> pl.DataFrame:
    """Households whose conditions were run and give other results than their decision's."""
    text = "::text" if connection.vendor == "postgresql" else ""
    cur.execute("SELECT t.household_id FROM programs_tmp_cond t"  # noqa: S608
                " JOIN programs_eligibilitydecision c ON c.program_id = %s"
                " AND c.household_id = t.household_id AND c.current"
                f" WHERE t.conditions{text} <> c.conditions{text}", [program.pk])
    return pl.DataFrame({"household_id": [r[0] for r in cur.fetchall()]},
                        schema={"household_id": pl.Int64}).with_columns(
        data_changed=pl.lit(True))


def _load(cur: Any, table: str, frame: pl.DataFrame) -> None:
    if not frame.height:
        return
    if connection.vendor == "postgresql":
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False, null_value="")
        with cur.cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
    else:
        marks = ", ".join(["%s"] * frame.width)
        cur.executemany(f"INSERT INTO {table} VALUES ({marks})",  # noqa: S608
                        list(frame.iter_rows()))


def redecide(program: Program, *, household_ids: Sequence[int] | None = None,
             reason: str | None = None, recheck: bool = False,
             today: date | None = None, scores: pl.DataFrame | None = None,
             state: tuple[Any, ...] | None = None) -> Outcome:
    """Decide `program` for the given households (default: every registered household).

    (1) The households' current index (`scores`, one read shared by `redecide_all`) and the
    program's current decisions are read as two frames (COPY on PostgreSQL) and joined in
    Polars; (2) the conditions run only where they must (no decision, a new declaration
    version, new conditions, or `recheck`), vectorised, into a temporary table; (3) the new
    outcomes are computed in Polars and only the rows whose score, outcome or conditions
    changed (or whose conditions are new) are written: loaded by COPY into a temporary table,
    their current decision loses its flag, the new ones are inserted by one INSERT … SELECT. A
    threshold change thus reads the registry once and writes only the households whose outcome
    changes; the others' decisions stand (same result under the new rules)."""
    today = today or timezone.localdate()
    now = timezone.now()
    ids = list(household_ids) if household_ids is not None else None
    chash = conditions_hash(program.conditions)
    pg = connection.vendor == "postgresql"
    out = Outcome(program=program.code)
    params: dict[str, Any] = {
        "program": program.pk, "hash": chash, "threshold": program.threshold,
        "comparison": program.comparison, "rules_version": program.rules_version, "now": now,
    }
    full = ids is None and not recheck
    with transaction.atomic(), connection.cursor() as cur:
        _lock(program)
        if ids is None:
            state = state if state is not None else registry_state()
            mark = fingerprint(program, state)
            done = Program.objects.filter(pk=program.pk).values_list(
                "decided_fingerprint", flat=True).first()
            if full and done == mark:
                out.skipped = True
                return out
            Program.objects.filter(pk=program.pk).update(decided_fingerprint=mark)
        if scores is None:
            scores = selectors.current_scores(ids)
        decisions = _current_decisions(program, ids, chash)
        frame = scores.filter(pl.col("score_id").is_not_null()).join(
            decisions, on="household_id", how="left")
        if recheck:
            need_rows = frame
        else:
            need_rows = frame.filter(
                pl.col("old_id").is_null()
                | (pl.col("old_version") != pl.col("current_version")).fill_null(False)
                | ~pl.col("same_hash").fill_null(True))
        need = need_rows["household_id"].sort().to_list()
        if program.conditions and need:
            evaluated = _evaluate(program, need, today)
            out.evaluated = evaluated.height
        else:
            evaluated = pl.DataFrame({"household_id": need, "new_conditions": ["{}"] * len(need),
                                      "new_met": [True] * len(need)},
                                     schema={"household_id": pl.Int64, "new_conditions": pl.Utf8,
                                             "new_met": pl.Boolean})
        json_type = "jsonb" if pg else "text"
        cur.execute(_temp("programs_tmp_cond", f"household_id bigint PRIMARY KEY,"
                                               f" conditions {json_type}, met boolean"))
        _load(cur, "programs_tmp_cond", evaluated)
        changed_data = _data_changed(cur, program) if evaluated.height else None
        frame = frame.join(evaluated.select("household_id", "new_met").with_columns(
            evaluated=pl.lit(True)), on="household_id", how="left")
        if changed_data is not None and changed_data.height:
            frame = frame.join(changed_data, on="household_id", how="left")
        else:
            frame = frame.with_columns(data_changed=pl.lit(None, dtype=pl.Boolean))
        value, threshold = pl.col("score_value"), program.threshold
        score_ok = (value < threshold) if program.comparison == "<" else (value <= threshold)
        frame = frame.with_columns(
            data_changed=pl.col("data_changed").fill_null(False),
            conditions_met=pl.when(pl.col("evaluated").fill_null(False))
            .then(pl.col("new_met")).otherwise(pl.col("old_met")),
            score_ok=score_ok,
        ).with_columns(eligible=pl.col("score_ok") & pl.col("conditions_met"))
        score_moved = pl.col("old_score_id").ne_missing(pl.col("score_id"))
        new_rules = ~pl.col("same_hash").fill_null(True)
        written = frame.filter(
            pl.col("old_id").is_null() | score_moved | new_rules | pl.col("data_changed")
            | (pl.col("old_score_ok") != pl.col("score_ok")).fill_null(False)
            | (pl.col("previous_eligible") != pl.col("eligible")).fill_null(False),
        ).with_columns(reason=pl.when(pl.col("old_id").is_null()).then(pl.lit("first"))
                       .when(score_moved).then(pl.lit("score"))
                       .when(new_rules).then(pl.lit("rules"))
                       .when(pl.col("data_changed")).then(pl.lit("data"))
                       .when(~pl.col("same_threshold").fill_null(True))
                       .then(pl.lit("rules"))
                       .otherwise(pl.lit(reason or "recheck")),
                       declaration_version=pl.col("current_version"),
                       ).select(list(NEW_SCHEMA)).cast(NEW_SCHEMA)  # type: ignore[arg-type]
        cur.execute(_temp("programs_tmp_new", "household_id bigint, score_id bigint,"
                          " score_value double precision, provisional boolean,"
                          " declaration_version integer, conditions_met boolean,"
                          " score_ok boolean, eligible boolean, old_id bigint,"
                          " previous_eligible boolean, reason varchar(10)"))
        _load(cur, "programs_tmp_new", written)
        if written.height:
            few = pg and written.height * 10 < max(decisions.height, 1)
            if few:  # join the few rows written by the decisions' primary key (nested loop),
                # not by a scan of every program's decisions
                cur.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off;"
                            " SET LOCAL enable_mergejoin = off")
            cur.execute("UPDATE programs_eligibilitydecision SET current = false WHERE id IN"
                        " (SELECT old_id FROM programs_tmp_new WHERE old_id IS NOT NULL)")
            cur.execute(
                "INSERT INTO programs_eligibilitydecision (program_id, household_id, current,"
                " eligible, score_ok, conditions_met, score_id, score_value, provisional,"
                " threshold, comparison, rules_version, conditions_hash, declaration_version,"
                " conditions, reason, previous_eligible, decided_at)"
                " SELECT %(program)s, n.household_id, true, n.eligible, n.score_ok,"
                " n.conditions_met, n.score_id, n.score_value, n.provisional, %(threshold)s,"
                " %(comparison)s, %(rules_version)s, %(hash)s, n.declaration_version,"
                " COALESCE(t.conditions, c.conditions), n.reason, n.previous_eligible, %(now)s"
                " FROM programs_tmp_new n"
                " LEFT JOIN programs_tmp_cond t ON t.household_id = n.household_id"
                " LEFT JOIN programs_eligibilitydecision c ON c.id = n.old_id", params)
            if few:
                cur.execute("SET LOCAL enable_seqscan = on; SET LOCAL enable_hashjoin = on;"
                            " SET LOCAL enable_mergejoin = on")
            out.written = written.height
        moved = written.filter(pl.col("previous_eligible").is_null() & pl.col("eligible")
                               | (pl.col("previous_eligible") != pl.col("eligible"))
                               .fill_null(False)).sort("household_id")
        out.changes = [(int(h), bool(e)) for h, e in
                       moved.select("household_id", "eligible").iter_rows()]
        cur.execute("DROP TABLE programs_tmp_new")
        cur.execute("DROP TABLE programs_tmp_cond")
        gone = decisions.filter(pl.col("old_score_id").is_not_null()).join(
            scores.select("household_id"), on="household_id", how="anti")
        _leave(cur, [(int(i), int(h), bool(e)) for i, h, e in gone.select(
            "old_id", "household_id", "previous_eligible").iter_rows()], params, out)
    return out


def _leave(cur: Any, gone: list[tuple[int, int, bool]], params: dict[str, Any],
           out: Outcome) -> None:
    """Households that left the registry (cancelled, rejected) get a final not-eligible
    decision, once (`gone`: their current decision's id, household, eligible)."""
    if not gone:
        return
    old = [g[0] for g in gone]
    cur.execute(f"UPDATE programs_eligibilitydecision SET current = false"  # noqa: S608
                f" WHERE id IN ({_in_list(old)})")
    cur.execute(
        "INSERT INTO programs_eligibilitydecision (program_id, household_id, current,"  # noqa: S608
        " eligible, score_ok, conditions_met, score_id, score_value, provisional, threshold,"
        " comparison, rules_version, conditions_hash, declaration_version, conditions, reason,"
        " previous_eligible, decided_at)"
        " SELECT program_id, household_id, true, false, false, conditions_met, NULL, NULL,"
        " false, %(threshold)s, %(comparison)s, %(rules_version)s, conditions_hash,"
        " declaration_version, conditions, 'registry', eligible, %(now)s"
        f" FROM programs_eligibilitydecision WHERE id IN ({_in_list(old)})", params)
    out.written += len(gone)
    out.changes += [(int(h), False) for _, h, e in gone if e]


def redecide_all(*, household_ids: Sequence[int] | None = None, reason: str | None = None,
                 recheck: bool = False) -> list[Outcome]:
    """Decide every program that still decides (not closed)."""
    programs = list(Program.objects.filter(status__in=DECIDED_STATUSES).order_by("pk"))
    with transaction.atomic():
        _tune()
        state = registry_state() if household_ids is None else None
        if state is not None and not recheck and all(
                p.decided_fingerprint == fingerprint(p, state) for p in programs):
            return [Outcome(program=p.code, skipped=True) for p in programs]
        # The registry's current indexes are read once for every program.
        scores = selectors.current_scores(list(household_ids)
                                          if household_ids is not None else None)
        return [redecide(p, household_ids=household_ids, reason=reason, recheck=recheck,
                         scores=scores, state=state) for p in programs]
