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


def _lock(program: Program) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_BASE + program.pk])
            # The statements are simple hash joins: compiling them (JIT) costs more than it
            # saves.
            cur.execute("SET LOCAL jit = off")


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


def _scored(ids: Sequence[int] | None, join: str = "") -> str:
    """FROM/WHERE of registered households with a current index, left-joined with the
    program's current decision `c` (parameters: formula, program)."""
    statuses = ", ".join(f"'{s}'" for s in selectors.REGISTERED)
    where = f"h.status IN ({statuses}) AND h.current_version > 0"
    if ids is not None:
        where += f" AND h.id IN ({_in_list(ids) or 'NULL'})"
    return (" FROM households_household h JOIN households_declarationversion d"  # noqa: S608
            " ON d.household_id = h.id AND d.version = h.current_version"
            " JOIN scoring_score s ON s.declaration_id = d.id AND s.formula_id = %(formula)s"
            # the current score: the highest verification basis (scoring.models.Score.basis)
            " AND NOT EXISTS (SELECT 1 FROM scoring_score s2 WHERE s2.declaration_id = d.id"
            " AND s2.formula_id = s.formula_id AND s2.basis > s.basis)"
            " LEFT JOIN programs_eligibilitydecision c ON c.program_id = %(program)s"
            f" AND c.household_id = h.id AND c.current{join}"
            f" WHERE {where}")


def _temp(name: str, columns: str) -> str:
    suffix = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    return f"CREATE TEMP TABLE {name} ({columns}){suffix}"


def _load_conditions(cur: Any, frame: pl.DataFrame) -> None:
    json_type = "jsonb" if connection.vendor == "postgresql" else "text"
    cur.execute(_temp("programs_tmp_cond", f"household_id bigint PRIMARY KEY,"
                                           f" conditions {json_type}, met boolean"))
    if not frame.height:
        return
    if connection.vendor == "postgresql":
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False)
        with cur.cursor.copy("COPY programs_tmp_cond FROM STDIN (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
    else:
        cur.executemany("INSERT INTO programs_tmp_cond VALUES (%s, %s, %s)",
                        list(frame.iter_rows()))


def redecide(program: Program, *, household_ids: Sequence[int] | None = None,
             reason: str | None = None, recheck: bool = False,
             today: date | None = None) -> Outcome:
    """Decide `program` for the given households (default: every registered household).

    Set-based: (1) the households whose conditions must run (no decision, a new declaration
    version, new conditions, or `recheck`) are read by id and their conditions evaluated
    (vectorised) into a temporary table; (2) one statement computes every household's new
    outcome from its current index and the threshold, keeping only those whose score, outcome
    or conditions changed (or whose conditions are new); (3) their current decision loses its
    flag and the new ones are inserted. A threshold change thus writes only the households
    whose outcome changes; the others' decisions stand (same result under the new rules)."""
    today = today or timezone.localdate()
    now = timezone.now()
    ids = list(household_ids) if household_ids is not None else None
    chash = conditions_hash(program.conditions)
    cmp = "<" if program.comparison == "<" else "<="
    pg = connection.vendor == "postgresql"
    text = "::text" if pg else ""
    differs = "IS DISTINCT FROM" if pg else "IS NOT"
    out = Outcome(program=program.code)
    params: dict[str, Any] = {
        "formula": selectors.active_formula_id() or 0, "program": program.pk, "hash": chash,
        "threshold": program.threshold, "comparison": program.comparison,
        "rules_version": program.rules_version, "now": now, "fallback": reason or "recheck",
    }
    with transaction.atomic(), connection.cursor() as cur:
        _lock(program)
        need_sql = "SELECT h.id" + _scored(ids)
        if not recheck:
            need_sql += (" AND (c.id IS NULL OR c.declaration_version <> h.current_version"
                         " OR c.conditions_hash <> %(hash)s)")
        cur.execute(need_sql + " ORDER BY h.id", params)
        need = [r[0] for r in cur.fetchall()]
        if program.conditions and need:
            evaluated = _evaluate(program, need, today)
            out.evaluated = evaluated.height
        else:
            evaluated = pl.DataFrame({"household_id": need, "new_conditions": ["{}"] * len(need),
                                      "new_met": [True] * len(need)},
                                     schema={"household_id": pl.Int64, "new_conditions": pl.Utf8,
                                             "new_met": pl.Boolean})
        _load_conditions(cur, evaluated)
        met = "CASE WHEN t.household_id IS NOT NULL THEN t.met ELSE c.conditions_met END"
        cur.execute(
            "CREATE TEMP TABLE programs_tmp_new" + (" ON COMMIT DROP" if pg else "") +  # noqa: S608
            " AS SELECT * FROM (SELECT h.id AS household_id, s.id AS score_id,"  # noqa: S608
            " s.value AS score_value, s.provisional AS provisional,"
            " h.current_version AS declaration_version,"
            " CASE WHEN t.household_id IS NOT NULL THEN t.conditions ELSE c.conditions END"
            " AS conditions,"
            f" {met} AS conditions_met,"
            f" (s.value {cmp} %(threshold)s) AS score_ok,"
            f" (s.value {cmp} %(threshold)s AND {met}) AS eligible,"
            " c.id AS old_id, c.eligible AS previous_eligible, c.score_ok AS old_score_ok,"
            " c.score_id AS old_score_id, c.conditions_hash AS old_hash,"
            " c.threshold AS old_threshold, c.comparison AS old_comparison,"
            " (t.household_id IS NOT NULL AND c.id IS NOT NULL"
            f" AND t.conditions{text} <> c.conditions{text}) AS data_changed"
            + _scored(ids, " LEFT JOIN programs_tmp_cond t ON t.household_id = h.id") +
            ") x"
            f" WHERE old_id IS NULL OR old_score_id {differs} score_id OR old_hash <> %(hash)s"
            " OR data_changed OR old_score_ok <> score_ok OR previous_eligible <> eligible",
            params)
        cur.execute("UPDATE programs_eligibilitydecision SET current = false WHERE id IN"
                    " (SELECT old_id FROM programs_tmp_new WHERE old_id IS NOT NULL)")
        cur.execute(
            "INSERT INTO programs_eligibilitydecision (program_id, household_id, current,"  # noqa: S608
            " eligible, score_ok, conditions_met, score_id, score_value, provisional, threshold,"
            " comparison, rules_version, conditions_hash, declaration_version, conditions,"
            " reason, previous_eligible, decided_at)"
            " SELECT %(program)s, household_id, true, eligible, score_ok, conditions_met,"
            " score_id, score_value, provisional, %(threshold)s, %(comparison)s,"
            " %(rules_version)s, %(hash)s, declaration_version, conditions,"
            f" CASE WHEN old_id IS NULL THEN 'first' WHEN old_score_id {differs} score_id"
            " THEN 'score'"
            " WHEN old_hash <> %(hash)s THEN 'rules' WHEN data_changed THEN 'data'"
            " WHEN old_threshold <> %(threshold)s OR old_comparison <> %(comparison)s"
            " THEN 'rules' ELSE %(fallback)s END,"
            " previous_eligible, %(now)s FROM programs_tmp_new", params)
        out.written = cur.rowcount
        cur.execute("SELECT household_id, eligible FROM programs_tmp_new"
                    " WHERE (previous_eligible IS NULL AND eligible)"
                    " OR previous_eligible <> eligible ORDER BY household_id")
        out.changes = [(int(h), bool(e)) for h, e in cur.fetchall()]
        cur.execute("DROP TABLE programs_tmp_new")
        cur.execute("DROP TABLE programs_tmp_cond")
        _leave(cur, program, ids, params, out)
    return out


def _leave(cur: Any, program: Program, ids: Sequence[int] | None, params: dict[str, Any],
           out: Outcome) -> None:
    """Households that left the registry get a final not-eligible decision (once)."""
    statuses = ", ".join(f"'{s}'" for s in selectors.REGISTERED)
    where = ("c.program_id = %(program)s AND c.current AND c.score_id IS NOT NULL"
             f" AND NOT (h.status IN ({statuses}) AND h.current_version > 0)")
    if ids is not None:
        where += f" AND h.id IN ({_in_list(ids) or 'NULL'})"
    cur.execute("SELECT c.id, c.household_id, c.eligible FROM programs_eligibilitydecision c"  # noqa: S608
                f" JOIN households_household h ON h.id = c.household_id WHERE {where}", params)
    gone = cur.fetchall()
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
        return [redecide(p, household_ids=household_ids, reason=reason, recheck=recheck)
                for p in programs]
