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
from datetime import date, datetime
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from sijill.programs import conditions as cond
from sijill.programs import selectors, vectorised
from sijill.programs.models import EligibilityDecision, Program, Reason

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


def _passes_expr(score: pl.Expr, threshold: float, comparison: str) -> pl.Expr:
    return (score < threshold) if comparison == "<" else (score <= threshold)


@dataclass
class Outcome:
    program: str
    examined: int = 0
    written: int = 0
    evaluated: int = 0  # households whose conditions were run
    #: (household id, eligible now) for every household whose eligibility changed
    changes: list[tuple[int, bool]] = field(default_factory=list)


def _lock(program: Program) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_BASE + program.pk])


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


def _normalise(texts: pl.Series) -> pl.Series:
    return pl.Series([canonical(json.loads(t)) if t is not None else None for t in texts],
                     dtype=pl.Utf8)


ROW_COLUMNS = ("program_id", "household_id", "current", "eligible", "score_ok",
               "conditions_met", "score_id", "score_value", "provisional", "threshold",
               "comparison", "rules_version", "conditions_hash", "declaration_version",
               "conditions", "reason", "previous_eligible", "decided_at")


def redecide(program: Program, *, household_ids: Sequence[int] | None = None,
             reason: str | None = None, recheck: bool = False,
             today: date | None = None, scores: pl.DataFrame | None = None) -> Outcome:
    """Decide `program` for the given households (default: every registered household).
    `scores` (from `selectors.current_scores` for the same households) saves re-reading them
    when several programs are decided in a row."""
    today = today or timezone.localdate()
    now = timezone.now()
    ids = list(household_ids) if household_ids is not None else None
    chash = conditions_hash(program.conditions)
    out = Outcome(program=program.code)
    with transaction.atomic():
        _lock(program)
        if scores is None:
            scores = selectors.current_scores(ids)
        current = selectors.current_decisions(program.pk, ids)
        scored = scores.filter(pl.col("score_id").is_not_null())
        j = scored.join(current, on="household_id", how="left", coalesce=True).rename(
            {"score_id_right": "old_score_id"})
        out.examined = j.height
        need = (pl.col("decision_id").is_null()
                | (pl.col("declaration_version") != pl.col("current_version"))
                | (pl.col("conditions_hash") != chash))
        if recheck:
            need = pl.lit(True)
        j = j.with_columns(need.fill_null(True).alias("need"))
        need_ids = j.filter(pl.col("need"))["household_id"].to_list()
        if program.conditions and need_ids:
            evaluated = _evaluate(program, need_ids, today)
            out.evaluated = evaluated.height
        else:
            evaluated = pl.DataFrame({"household_id": need_ids,
                                      "new_conditions": ["{}"] * len(need_ids),
                                      "new_met": [True] * len(need_ids)},
                                     schema={"household_id": pl.Int64, "new_conditions": pl.Utf8,
                                             "new_met": pl.Boolean})
        j = j.join(evaluated, on="household_id", how="left", coalesce=True)
        # Old conditions of re-run rows, normalised, so an unchanged result is recognised.
        rerun = j.filter(pl.col("need") & pl.col("conditions").is_not_null())
        if rerun.height:
            j = j.join(rerun.select("household_id",
                                    _normalise(rerun["conditions"]).alias("old_norm")),
                       on="household_id", how="left", coalesce=True)
        else:
            j = j.with_columns(pl.lit(None, dtype=pl.Utf8).alias("old_norm"))
        j = j.with_columns(
            pl.when(pl.col("need")).then(pl.col("new_conditions"))
            .otherwise(pl.col("conditions")).alias("next_conditions"),
            pl.when(pl.col("need")).then(pl.col("new_met"))
            .otherwise(pl.col("conditions_met")).alias("next_met"),
            _passes_expr(pl.col("score_value"), program.threshold, program.comparison)
            .alias("score_ok"),
        ).with_columns((pl.col("score_ok") & pl.col("next_met")).alias("next_eligible"))
        rules_changed = ((pl.col("threshold") != program.threshold)
                         | (pl.col("comparison") != program.comparison)
                         | (pl.col("conditions_hash") != chash))
        data_changed = pl.col("need") & (pl.col("new_conditions") != pl.col("old_norm"))
        changed = (pl.col("decision_id").is_null() | rules_changed | data_changed
                   | (pl.col("old_score_id") != pl.col("score_id"))
                   | (pl.col("eligible") != pl.col("next_eligible")))
        derived_reason = (
            pl.when(pl.col("decision_id").is_null()).then(pl.lit(Reason.FIRST.value))
            .when(rules_changed).then(pl.lit(Reason.RULES.value))
            .when(pl.col("old_score_id") != pl.col("score_id")).then(pl.lit(Reason.SCORE.value))
            .when(data_changed).then(pl.lit(Reason.DATA.value))
            .otherwise(pl.lit(Reason.RECHECK.value)))
        rows = j.filter(changed.fill_null(True)).select(
            pl.lit(program.pk, dtype=pl.Int64).alias("program_id"),
            "household_id",
            pl.lit(True).alias("current"),
            pl.col("next_eligible").alias("eligible"),
            "score_ok",
            pl.col("next_met").alias("conditions_met"),
            "score_id",
            "score_value",
            "provisional",
            pl.lit(program.threshold, dtype=pl.Float64).alias("threshold"),
            pl.lit(program.comparison).alias("comparison"),
            pl.lit(program.rules_version, dtype=pl.Int64).alias("rules_version"),
            pl.lit(chash).alias("conditions_hash"),
            pl.col("current_version").alias("declaration_version"),
            pl.col("next_conditions").alias("conditions"),
            (pl.lit(reason) if reason else derived_reason).alias("reason"),
            pl.col("eligible").alias("previous_eligible"),
            pl.lit(now.isoformat()).alias("decided_at"),
            "decision_id",
        )
        # Households that left the registry: a final not-eligible decision (once).
        gone = current.filter(~pl.col("household_id").is_in(scores["household_id"].implode())
                              & pl.col("score_id").is_not_null())
        if gone.height:
            rows = pl.concat([rows, gone.select(
                pl.lit(program.pk, dtype=pl.Int64).alias("program_id"),
                "household_id",
                pl.lit(True).alias("current"),
                pl.lit(False).alias("eligible"),
                pl.lit(False).alias("score_ok"),
                "conditions_met",
                pl.lit(None, dtype=pl.Int64).alias("score_id"),
                pl.lit(None, dtype=pl.Float64).alias("score_value"),
                pl.lit(False).alias("provisional"),
                pl.lit(program.threshold, dtype=pl.Float64).alias("threshold"),
                pl.lit(program.comparison).alias("comparison"),
                pl.lit(program.rules_version, dtype=pl.Int64).alias("rules_version"),
                pl.col("conditions_hash"),
                "declaration_version",
                "conditions",
                pl.lit(Reason.REGISTRY.value).alias("reason"),
                pl.col("eligible").alias("previous_eligible"),
                pl.lit(now.isoformat()).alias("decided_at"),
                "decision_id",
            )], how="vertical_relaxed")
        if rows.height:
            _write(rows, now)
        out.written = rows.height
        flips = rows.filter(pl.col("previous_eligible").is_null() & pl.col("eligible")
                            | (pl.col("previous_eligible") != pl.col("eligible")))
        out.changes = list(zip(flips["household_id"].to_list(), flips["eligible"].to_list(),
                               strict=True))
    return out


def _write(rows: pl.DataFrame, now: datetime) -> None:
    old = rows["decision_id"].drop_nulls().to_list()
    data = rows.drop("decision_id")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            if old:
                cur.execute("UPDATE programs_eligibilitydecision SET current = false"
                            " WHERE id = ANY(%s)", [old])
            buf = io.BytesIO()
            data.write_csv(buf, include_header=False, null_value="")
            columns = ", ".join(f'"{c}"' for c in ROW_COLUMNS)
            with cur.cursor.copy(
                    f"COPY programs_eligibilitydecision ({columns}) FROM STDIN (FORMAT csv)"
            ) as copy:
                copy.write(buf.getvalue())
        return
    for start in range(0, len(old), 900):
        EligibilityDecision.objects.filter(pk__in=old[start:start + 900]).update(current=False)
    objs = []
    for r in data.iter_rows(named=True):
        r["conditions"] = json.loads(r["conditions"]) if r["conditions"] else {}
        r["decided_at"] = now
        objs.append(EligibilityDecision(**r))
    EligibilityDecision.objects.bulk_create(objs, batch_size=500)


def redecide_all(*, household_ids: Sequence[int] | None = None, reason: str | None = None,
                 recheck: bool = False) -> list[Outcome]:
    """Decide every program that still decides (not closed); the scores are read once."""
    programs = list(Program.objects.filter(status__in=DECIDED_STATUSES).order_by("pk"))
    if not programs:
        return []
    ids = list(household_ids) if household_ids is not None else None
    with transaction.atomic():
        scores = selectors.current_scores(ids)
        return [redecide(p, household_ids=ids, reason=reason, recheck=recheck, scores=scores)
                for p in programs]
