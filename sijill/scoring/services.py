"""Scoring services: the only writers of formula versions, scores and scoring runs.

- `engine_input` joins a declaration version with identity facts from the population register
  (sex, birth date → age at the declaration's reference date), the region and milieu of the
  household, and verified values when given.
- `score_compute` is idempotent: one score per (declaration version, formula version,
  verification basis); the current score of a declaration is the one with the highest basis.
- `rescore_run` scores every household's current declaration in chunks with the batch engine
  and bulk writes (COPY on PostgreSQL); a rerun resumes from what is already scored. It reads
  the current verified values (`scoring.verified`): household-level ones go into the batch as
  column overrides; a household with verified *member* fields is scored through the single
  path (same rule, same result), so every stored score uses the verified values.
- `impact_run` compares a draft with the active formula over the whole registry, by program
  threshold, region and milieu (aggregates only).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
import polars as pl
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import SYSTEM, Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core.errors import Conflict, NotFound, ValidationFailed
from sijill.declaration.vocab import Milieu, Sex
from sijill.households.models import DeclarationVersion, Household
from sijill.households.services import declaration_of
from sijill.population.models import Person
from sijill.scoring import selectors
from sijill.scoring.documents import check_coverage, formula_parse
from sijill.scoring.documents import problem as _problem
from sijill.scoring.engine import (
    DERIVATIONS,
    ColumnOverride,
    Formula,
    FormulaStatus,
    HouseholdBatch,
    HouseholdInput,
    Identity,
    ScoreResult,
    VariableScore,
    Verified,
    explain,
    fold_squares,
    score_batch,
    score_household,
)
from sijill.scoring.engine.inputs import MemberInput
from sijill.scoring.models import FormulaVersion, Score, ScoringRun
from sijill.scoring.selectors import Chunk, formula_of
from sijill.scoring.verified import DECLARED_ONLY, VerifiedBasis, source_name, verified_for
from sijill.security.fields import CODES as SEALED_CODES
from sijill.security.fields import WIDTH as SEALED_WIDTH
from sijill.security.fields import decrypt_code, encrypt_code

COMPARISONS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<": lambda s, t: s < t,
    "<=": lambda s, t: s <= t,
}
DEFAULT_COMPARISON = "<"  # the official announcement: eligible when the index is below
DEFAULT_CHUNK = 20_000


# ---------------------------------------------------------------------------------------------
# Engine input and single scores


def _verified_to_json(verified: Mapping[str, Verified] | None) -> dict[str, list[Any]]:
    """Verified values as kept in `Score.inputs`; sensitive codes (health coverage,
    disability) encrypted like the declaration's own (sijill.security.fields)."""
    return {k: [encrypt_code(k, v.value) if k in SEALED_CODES else v.value, v.source]
            for k, v in (verified or {}).items()}


def _verified_from_json(data: Mapping[str, Sequence[Any]]) -> dict[str, Verified]:
    return {k: Verified(value=decrypt_code(k, v[0]) if k in SEALED_CODES
                        and isinstance(v[0], str) and len(v[0]) == SEALED_WIDTH else v[0],
                        source=v[1]) for k, v in data.items()}


def engine_input(version: DeclarationVersion, *,
                 verified: Mapping[str, Verified] | None = None,
                 member_verified: Mapping[str, Mapping[str, Verified]] | None = None,
                 ) -> HouseholdInput:
    """A declaration version joined with the register: members' sex and age (completed years
    at the declaration's reference date), region (from the commune) and milieu (declared with
    the version); `verified` (household field → value) and `member_verified` (IDCS → field →
    value) replace declared values where verification has spoken."""
    declaration = declaration_of(version)
    rows = Person.objects.filter(idcs__in=[m.idcs for m in declaration.members]).values_list(
        "idcs", "sex", "birth_date")
    identities = {idcs: Identity(sex=Sex(sex), birth_date=birth) for idcs, sex, birth in rows}
    return HouseholdInput.from_declaration(
        declaration, identities, reference_date=selectors.reference_date(version.created_at),
        region=version.commune_id[:2], milieu=version.milieu, verified=verified,
        member_verified=member_verified)


def _inputs_json(version: DeclarationVersion, household: HouseholdInput,
                 unverified: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "reference_date": selectors.reference_date(version.created_at).isoformat(),
        "ages": [m.age for m in household.members],
        "sexes": "".join(m.sex.value for m in household.members),
        "verified": _verified_to_json(household.verified),
        "member_verified": {m.data.idcs: _verified_to_json(m.verified)
                            for m in household.members if m.verified},
        "unverified": sorted(unverified),
    }


def _stored_input(score: Score) -> HouseholdInput:
    """The engine input of a stored score, from its declaration and its recorded inputs."""
    declaration = declaration_of(score.declaration)
    inputs = score.inputs
    member_verified = inputs.get("member_verified") or {}
    members = tuple(
        MemberInput(data=m, age=int(age), sex=Sex(sex),
                    verified=_verified_from_json(member_verified.get(m.idcs, {})))
        for m, age, sex in zip(declaration.members, inputs["ages"], inputs["sexes"], strict=True))
    return HouseholdInput(household=declaration.household, members=members,
                          region=score.region, milieu=Milieu(score.milieu),
                          verified=_verified_from_json(inputs.get("verified") or {}))


def score_result(score: Score) -> ScoreResult:
    """The engine result of a stored score (variables keyed from the formula version)."""
    formula = formula_of(score.formula)
    model = formula.model(score.milieu)
    return ScoreResult(
        formula_identifier=formula.identifier, formula_version=formula.version,
        milieu=Milieu(score.milieu), region=score.region, value=score.value,
        constant=score.constant, region_term=score.region_term,
        variables=tuple(
            VariableScore(key=v.key, value=value, coefficient=v.coefficient,
                          contribution=contribution,
                          source="verified" if v.key in score.verified_by else "declared",
                          verified_by=tuple(score.verified_by.get(v.key, ())),
                          provisional=v.provisional)
            for v, value, contribution in zip(model.variables, score.values, score.contributions,
                                              strict=True)),
        provisional=score.provisional,
        provisional_variables=tuple(score.provisional_variables))


def score_recompute(score: Score) -> ScoreResult:
    """Recompute a stored score from its declaration version, its recorded inputs and its
    formula version: the same number, whatever changed since."""
    return score_household(formula_of(score.formula), _stored_input(score))


def score_compute(*, household: Household, declaration: DeclarationVersion,
                  formula_version: FormulaVersion, actor: Actor = SYSTEM,
                  verified: Mapping[str, Verified] | None = None,
                  member_verified: Mapping[str, Mapping[str, Verified]] | None = None,
                  basis: int = 0, unverified: Sequence[str] = ()) -> Score:
    """The score of `declaration` with `formula_version` on verification basis `basis` (the
    revision of `verified` / `member_verified`; 0 = declared only): the stored one when there
    is one, else computed, stored and audited (a concurrent computation stores once).
    `unverified` names the fields no partner confirmed in time (kept in `inputs`)."""
    if declaration.household_id != household.pk:
        raise ValueError("the declaration version is not this household's")
    existing = Score.objects.filter(declaration=declaration, formula=formula_version,
                                    basis=basis).first()
    if existing is not None:
        return existing
    data = engine_input(declaration, verified=verified, member_verified=member_verified)
    result = score_household(formula_of(formula_version), data)
    try:
        with transaction.atomic():
            score = Score.objects.create(
                household=household, declaration=declaration, formula=formula_version,
                value=result.value, provisional=result.provisional,
                provisional_variables=list(result.provisional_variables),
                milieu=result.milieu.value, region=result.region, constant=result.constant,
                region_term=result.region_term,
                values=[v.value for v in result.variables],
                contributions=[v.contribution for v in result.variables],
                verified_by={v.key: list(v.verified_by) for v in result.variables
                             if v.verified_by},
                inputs=_inputs_json(declaration, data, unverified), basis=basis,
                computed_at=timezone.now())
            audit_record(actor=actor, action="compute", entity="score", entity_id=score.pk,
                         subject=household.declarant.idcs,
                         detail={"household": household.reference,
                                 "declaration_version": declaration.version,
                                 "formula": formula_version.label, "basis": basis})
    except IntegrityError:
        return Score.objects.get(declaration=declaration, formula=formula_version, basis=basis)
    return score


def score_compute_verified(*, household: Household, declaration: DeclarationVersion,
                           formula_version: FormulaVersion, actor: Actor = SYSTEM,
                           found: VerifiedBasis | None = None) -> Score:
    """`score_compute` with the declaration's current verified basis (from the provider)."""
    if found is None:
        found = verified_for([declaration.pk]).get(declaration.pk, DECLARED_ONLY)
    return score_compute(household=household, declaration=declaration,
                         formula_version=formula_version, actor=actor,
                         verified=found.household, member_verified=found.members,
                         basis=found.basis, unverified=found.unverified)


def score_household_current(*, household_id: int, version: int | None = None,
                            actor: Actor = SYSTEM) -> Score | None:
    """Score a household's declaration version (default: current) with the active formula;
    None when no formula is active or the household is not scorable."""
    formula_version = selectors.formula_current()
    household = Household.objects.select_related("declarant").filter(pk=household_id).first()
    if formula_version is None or household is None:
        return None
    if household.status not in selectors.SCORABLE_STATUSES:
        return None
    declaration = DeclarationVersion.objects.filter(
        household=household, version=version or household.current_version).first()
    if declaration is None:
        return None
    return score_compute_verified(household=household, declaration=declaration,
                                  formula_version=formula_version, actor=actor)


# ---------------------------------------------------------------------------------------------
# Audited reads of a household's score


@dataclass(frozen=True)
class ScoreView:
    household: Household
    score: Score
    formula: Formula
    current: bool  # computed from the current declaration with the active formula


def _household_for(actor: Actor, reference: str) -> Household:
    actor.require(Perm.SCORE_READ)
    household = (Household.objects.select_related("commune__province", "declarant")
                 .filter(reference=reference).first())
    if household is None or not selectors.household_visible(actor, household):
        raise NotFound()
    return household


def _latest_score(household: Household) -> tuple[Score, bool]:
    active = selectors.formula_current()
    scores = Score.objects.select_related("formula", "declaration").filter(household=household)
    if active is not None:
        current = (scores.filter(formula=active, declaration__version=household.current_version)
                   .order_by("-basis").first())
        if current is not None:
            return current, True
    latest = scores.order_by("-computed_at", "-id").first()
    if latest is None:
        raise NotFound(_("This household has no index yet."), extra={"reason": "not_scored"})
    return latest, False


def score_read(*, actor: Actor, reference: str, purpose: str = "") -> ScoreView:
    """A household's index (current if computed, else the latest); the read is audited."""
    household = _household_for(actor, reference)
    score, current = _latest_score(household)
    audit_record(actor=actor, action="read_score", entity="score", entity_id=score.pk,
                 subject=household.declarant.idcs, purpose=purpose,
                 detail={"household": reference, "formula": score.formula.label})
    return ScoreView(household=household, score=score, formula=formula_of(score.formula),
                     current=current)


def score_explanation(*, actor: Actor, reference: str, language: str,
                      purpose: str = "") -> dict[str, Any]:
    """What raised and what lowered the index, largest first, in `language` (ar/fr/en).

    A citizen gets the labels, directions and contributions; staff also get each variable's
    value, coefficient and source, and the variables that added nothing."""
    household = _household_for(actor, reference)
    score, current = _latest_score(household)
    formula = formula_of(score.formula)
    staff = actor.role != "citizen"
    result = score_result(score)
    exp = explain(result, formula, include_zero=staff)
    if not staff:
        exp = fold_squares(exp, formula)
    audit_record(actor=actor, action="read_explanation", entity="score", entity_id=score.pk,
                 subject=household.declarant.idcs, purpose=purpose,
                 detail={"household": reference, "formula": score.formula.label})
    lang = language if language in {"ar", "fr", "en"} else "en"

    def item(i: Any) -> dict[str, Any]:
        with translation.override(lang):
            names = [source_name(s) for s in i.verified_by]
        out: dict[str, Any] = {"key": i.key, "label": i.label.get(lang),
                               "direction": i.direction.value, "contribution": i.contribution,
                               "provisional": i.provisional,
                               # verified over declared: who confirmed the value, by name
                               "verified_by_names": names}
        if staff:
            out |= {"value": i.value, "coefficient": i.coefficient, "source": i.source,
                    "verified_by": list(i.verified_by)}
        return out

    return {
        "household": reference, "language": lang, "audience": "agent" if staff else "citizen",
        "score": exp.score, "formula": score.formula.label,
        "declaration_version": score.declaration.version, "current": current,
        "computed_at": score.computed_at, "milieu": exp.milieu, "region": exp.region,
        "region_name": exp.region_name.get(lang),
        "baseline": exp.constant + exp.region_term, "constant": exp.constant,
        "region_term": exp.region_term,
        "raised": [item(i) for i in exp.raised],
        "lowered": [item(i) for i in exp.lowered],
        "items": [item(i) for i in exp.items],
        "provisional": exp.provisional,
        "provisional_variables": list(exp.provisional_variables),
        "provisional_notice": exp.provisional_notice.get(lang) if exp.provisional_notice
        else None,
        # Verified over declared: items fed by a partner's value have source "verified" and
        # name the partner in verified_by; fields no partner confirmed in time are listed here.
        "basis": score.basis,
        "unverified": list(score.inputs.get("unverified") or []),
    }


# ---------------------------------------------------------------------------------------------
# Formula versions: import, export, activation


def provenance_json(formula: Formula) -> dict[str, Any]:
    """The provenance as stored with a version (the verification flag always explicit)."""
    return {**formula.to_dict()["provenance"],
            "verified_against_official_text": formula.provenance.verified_against_official_text}


def _registry_regions() -> set[str]:
    from sijill.geography.models import Region

    return set(Region.objects.values_list("code", flat=True))


def _store(*, actor: Actor, formula: Formula) -> FormulaVersion:
    formula = formula.with_status(FormulaStatus.DRAFT)
    check_coverage(formula, region_codes=_registry_regions())
    if FormulaVersion.objects.filter(identifier=formula.identifier,
                                     version=formula.version).exists():
        raise _problem("version", "already_exists",
                       _("Version %(version)s of %(identifier)s already exists.")
                       % {"version": formula.version, "identifier": formula.identifier})
    try:
        with transaction.atomic():
            fv = FormulaVersion.objects.create(
                identifier=formula.identifier, version=formula.version, name=formula.name,
                status=FormulaVersion.Status.DRAFT, provenance=provenance_json(formula),
                effective_date=formula.effective_date, provisional=formula.is_provisional,
                definition=formula.to_yaml(), created_by=actor.label)
            audit_record(actor=actor, action="import", entity="formula_version",
                         entity_id=fv.pk, detail={"formula": fv.label})
    except IntegrityError:
        raise _problem("version", "already_exists",
                       _("Version %(version)s of %(identifier)s already exists.")
                       % {"version": formula.version, "identifier": formula.identifier}
                       ) from None
    return fv


def formula_import(*, actor: Actor, text: str) -> FormulaVersion:
    """Import a formula document as a new draft version (whatever status it says)."""
    actor.require(Perm.FORMULA_MANAGE)
    formula = formula_parse(text)
    if not formula.identifier.replace("-", "").replace("_", "").isalnum():
        raise _problem("identifier", "invalid",
                       _("Use letters, digits, hyphens and underscores only."))
    return _store(actor=actor, formula=formula)


def formula_save_draft(*, actor: Actor, formula: Formula) -> FormulaVersion:
    """Save an engine formula (e.g. a calibration result) as a draft version."""
    actor.require(Perm.FORMULA_MANAGE)
    return _store(actor=actor, formula=formula)


def formula_get(*, actor: Actor, pk: int) -> FormulaVersion:
    actor.require(Perm.FORMULA_MANAGE)
    fv = FormulaVersion.objects.filter(pk=pk).first()
    if fv is None:
        raise NotFound()
    return fv


def formula_list(*, actor: Actor) -> list[FormulaVersion]:
    actor.require(Perm.FORMULA_MANAGE)
    return list(FormulaVersion.objects.order_by("identifier", "-created_at", "-id"))


def formula_export(*, actor: Actor, pk: int) -> str:
    """The version as YAML, with its current status."""
    fv = formula_get(actor=actor, pk=pk)
    return formula_of(fv).with_status(FormulaStatus(fv.status)).to_yaml()


def _enqueue(task: Any, run: ScoringRun) -> None:
    result = task.enqueue(run_id=run.pk)
    ScoringRun.objects.filter(pk=run.pk).update(task_id=str(result.id)[:64])


def formula_activate(*, actor: Actor, pk: int) -> ScoringRun:
    """Activate a version: every active version is retired (one formula scores the registry),
    and a background run rescores every household with the new one."""
    from sijill.scoring.tasks import rescore_task

    actor.require(Perm.FORMULA_ACTIVATE)
    with transaction.atomic():
        fv = FormulaVersion.objects.select_for_update().filter(pk=pk).first()
        if fv is None:
            raise NotFound()
        if fv.status == FormulaVersion.Status.ACTIVE:
            raise Conflict(_("This version is already active."))
        # A version stored before coverage was checked must not retire a formula that works.
        check_coverage(formula_of(fv), region_codes=_registry_regions())
        now = timezone.now()
        old = list(FormulaVersion.objects.select_for_update()
                   .filter(status=FormulaVersion.Status.ACTIVE))
        for o in old:
            o.status, o.retired_at, o.retired_by = FormulaVersion.Status.RETIRED, now, actor.label
            o.save(update_fields=["status", "retired_at", "retired_by"])
        fv.status, fv.activated_at, fv.activated_by = FormulaVersion.Status.ACTIVE, now, actor.label
        fv.retired_at, fv.retired_by = None, ""
        fv.save(update_fields=["status", "activated_at", "activated_by", "retired_at",
                               "retired_by"])
        run = ScoringRun.objects.create(kind=ScoringRun.Kind.RESCORE, formula=fv,
                                        baseline=old[0] if old else None,
                                        created_by=actor.label)
        audit_record(actor=actor, action="activate", entity="formula_version", entity_id=fv.pk,
                     detail={"formula": fv.label, "retired": [o.label for o in old],
                             "run": run.pk})
        transaction.on_commit(lambda: _enqueue(rescore_task, run))
    return run


# ---------------------------------------------------------------------------------------------
# Runs: progress


def run_get(*, actor: Actor, pk: int) -> ScoringRun:
    actor.require(Perm.FORMULA_MANAGE)
    run = ScoringRun.objects.select_related("formula", "baseline").filter(pk=pk).first()
    if run is None:
        raise NotFound()
    return run


def run_list(*, actor: Actor, formula_pk: int | None = None, limit: int = 100,
             ) -> list[ScoringRun]:
    actor.require(Perm.FORMULA_MANAGE)
    qs = ScoringRun.objects.select_related("formula", "baseline")
    if formula_pk is not None:
        qs = qs.filter(formula_id=formula_pk)
    return list(qs.order_by("-created_at", "-id")[:limit])


def _run_start(run: ScoringRun, total: int, done: int = 0) -> None:
    run.status, run.started_at, run.total, run.done = (ScoringRun.Status.RUNNING, timezone.now(),
                                                       total, done)
    run.finished_at, run.error, run.heartbeat_at = None, "", run.started_at
    run.attempts += 1
    run.save(update_fields=["status", "started_at", "total", "done", "finished_at", "error",
                            "heartbeat_at", "attempts"])


class RunTakenOver(Exception):
    """This worker was taken for dead and the run was queued again: it stops writing."""


def _run_progress(run: ScoringRun) -> None:
    """Record progress and beat the heartbeat, if this attempt still owns the run."""
    if not ScoringRun.objects.filter(pk=run.pk, attempts=run.attempts).update(
            done=run.done, heartbeat_at=timezone.now()):
        raise RunTakenOver(f"scoring run {run.pk}: attempt {run.attempts} was replaced")


# A running run whose worker gave no sign of life for this long lost it (killed, machine
# restarted): it is queued again, up to MAX_RUN_ATTEMPTS attempts (a rescore resumes).
STALE_RUN_AFTER = timedelta(minutes=10)
MAX_RUN_ATTEMPTS = 3


def _stale(run: ScoringRun, now: datetime) -> bool:
    beat = run.heartbeat_at or run.started_at
    return (run.status == ScoringRun.Status.RUNNING and beat is not None
            and now - beat > STALE_RUN_AFTER)


def runs_recover_stale(*, actor: Actor = SYSTEM, now: datetime | None = None) -> list[int]:
    """Queue again the runs whose worker died (django-tasks leaves their task "running"
    forever); after MAX_RUN_ATTEMPTS a run is marked failed. Idempotent: a recovered run is
    pending, and a second sweep leaves it alone. Returns the pks queued again."""
    from sijill.scoring.tasks import impact_task, rescore_task

    now = now or timezone.now()
    cutoff = now - STALE_RUN_AFTER
    queued: list[int] = []
    # Only the candidates (`_stale` in SQL); each is checked again under its lock.
    for pk in ScoringRun.objects.filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff),
            status=ScoringRun.Status.RUNNING).values_list("pk", flat=True):
        with transaction.atomic():
            run = ScoringRun.objects.select_for_update().filter(pk=pk).first()
            if run is None or not _stale(run, now):
                continue
            if run.attempts >= MAX_RUN_ATTEMPTS:
                run.status, run.finished_at = ScoringRun.Status.FAILED, now
                run.error = f"worker lost {run.attempts} times; retry it when the cause is fixed"
                run.save(update_fields=["status", "finished_at", "error"])
                action = "abandon"
            else:
                run.status = ScoringRun.Status.PENDING
                run.save(update_fields=["status"])
                task = rescore_task if run.kind == ScoringRun.Kind.RESCORE else impact_task
                transaction.on_commit(partial(_enqueue, task, run))
                queued.append(run.pk)
                action = "recover"
            audit_record(actor=actor, action=action, entity="scoring_run", entity_id=run.pk,
                         detail={"formula_id": run.formula_id, "kind": run.kind,
                                 "attempts": run.attempts})
    return queued


def _run_finish(run: ScoringRun, *, result: dict[str, Any] | None = None,
                error: str = "") -> None:
    """Record the outcome, unless a later attempt owns the run (then it records its own)."""
    run.status = ScoringRun.Status.FAILED if error else ScoringRun.Status.DONE
    run.finished_at, run.error = timezone.now(), error[:4000]
    if result is not None:
        run.result = result
    ScoringRun.objects.filter(pk=run.pk, attempts=run.attempts).update(
        status=run.status, finished_at=run.finished_at, error=run.error, result=run.result,
        done=run.done)


# ---------------------------------------------------------------------------------------------
# Batch: frames to engine batches, batch results to score rows


def batch_of(chunk: Chunk, formula: Formula,
             found: Mapping[int, VerifiedBasis] | None = None) -> HouseholdBatch:
    """The engine batch of a chunk; with `found` (declaration id → verified basis), the
    household-level verified values as column overrides (verified over declared)."""
    batch = HouseholdBatch.from_polars(chunk.households, chunk.members, formula.region_codes)
    if found:
        batch.household_overrides = _household_overrides(
            chunk.households["declaration_id"].to_list(), found, batch.household)
    return batch


def _household_overrides(declaration_ids: Sequence[int], found: Mapping[int, VerifiedBasis],
                         declared: Mapping[str, np.ndarray]) -> dict[str, ColumnOverride]:
    from sijill.scoring.engine.codes import ENUM_FIELDS, code

    n = len(declaration_ids)
    out: dict[str, tuple[np.ndarray, np.ndarray, set[str]]] = {}
    for row, d in enumerate(declaration_ids):
        basis = found.get(d)
        if basis is None:
            continue
        for name, v in basis.household.items():
            if name not in declared:
                continue
            if name not in out:
                dtype = np.uint8 if name in ENUM_FIELDS else declared[name].dtype
                out[name] = (np.zeros(n, dtype=dtype), np.zeros(n, dtype=bool), set())
            values, mask, sources = out[name]
            values[row] = (code(ENUM_FIELDS[name](v.value)) if name in ENUM_FIELDS
                           else v.value)
            mask[row] = True
            sources.add(v.source)
    return {name: ColumnOverride(values, mask, ",".join(sorted(sources)))
            for name, (values, mask, sources) in out.items()}


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


SCORE_COLUMNS = ("household_id", "declaration_id", "formula_id", "value", "provisional",
                 "provisional_variables", "milieu", "region", "constant", "region_term",
                 "values", "contributions", "verified_by", "inputs", "basis", "computed_at")


def _json_array(frame: pl.DataFrame) -> pl.Expr:
    return pl.concat_str([pl.lit("["), pl.concat_str([pl.col(c).cast(pl.Utf8)
                                                      for c in frame.columns], separator=","),
                          pl.lit("]")])


def score_rows(*, chunk: Chunk, formula: Formula, formula_id: int, computed_at: datetime,
               found: Mapping[int, VerifiedBasis] | None = None) -> pl.DataFrame:
    """Score a chunk with the batch engine and lay the results out as Score rows (JSON columns
    built column-wise; a Python loop only over the households that have verified values, to
    name their sources). `found`: the chunk's verified bases, household-level values only
    (a household with verified member fields goes through the single path: `rescore_run`)."""
    found = found or {}
    result = score_batch(formula, batch_of(chunk, formula, found), values=True,
                         contributions=True)
    assert result.values is not None and result.contributions is not None
    hh = chunk.households
    declaration_ids = hh["declaration_id"].to_list()
    verified_json = ["{}"] * hh.height
    unverified_json = ["[]"] * hh.height
    bases = [0] * hh.height
    for row, d in enumerate(declaration_ids):
        basis = found.get(d)
        if basis is not None:
            verified_json[row] = _json_text(_verified_to_json(basis.household))
            unverified_json[row] = _json_text(sorted(basis.unverified))
            bases[row] = basis.basis
    index = {c: j for j, c in enumerate(result.columns)}
    milieu = hh["milieu"].to_numpy()
    members = chunk.members.group_by("household", maintain_order=True).agg(
        pl.col("age").cast(pl.Utf8).str.join(",").alias("ages"),
        pl.col("sex").str.join("").alias("sexes")).sort("household")
    stamp = computed_at.isoformat()
    parts = []
    for name, model in formula.milieux.items():
        rows = np.flatnonzero(milieu == name.value)
        if len(rows) == 0:
            continue
        cols = [index[v.key] for v in model.variables]
        # numpy's ix_ stub wants every argument an array, or every one a list: a stub gap.
        values = pl.from_numpy(result.values[np.ix_(rows, cols)])  # type: ignore[arg-type]
        contributions = pl.from_numpy(
            result.contributions[np.ix_(rows, cols)])  # type: ignore[arg-type]
        provisional_keys = [(v.key, index[v.key]) for v in model.variables if v.provisional]
        prov = [pl.when(pl.lit(result.values[rows, j] != 0)).then(pl.lit(f'"{key}"'))
                for key, j in provisional_keys]
        prov_json = (pl.concat_str([pl.lit("["), pl.concat_str(prov, separator=",",
                                                               ignore_nulls=True),
                                    pl.lit("]")]) if prov else pl.lit("[]"))
        terms = {c: model.region_terms[c] for c in formula.region_codes}
        sub = hh[rows.tolist()].with_columns(pl.Series("row", rows, dtype=pl.Int64))
        ref = sub["reference_date"].cast(pl.Utf8)
        verified_by = ["{}"] * len(rows)
        for i, r in enumerate(rows.tolist()):
            basis = found.get(declaration_ids[r])
            if basis is None or not basis.household:
                continue
            by: dict[str, list[str]] = {}
            for v in model.variables:
                fields = DERIVATIONS[v.derivation].household_fields
                names = sorted({basis.household[f].source for f in fields
                                if f in basis.household})
                if names:
                    by[v.key] = names
            verified_by[i] = _json_text(by)
        frame = pl.DataFrame({
            "household_id": sub["household_id"],
            "declaration_id": sub["declaration_id"],
            "formula_id": pl.Series([formula_id] * len(rows), dtype=pl.Int64),
            "value": result.score[rows],
            "provisional": result.provisional[rows] if model.is_provisional
            else np.zeros(len(rows), dtype=bool),
            "provisional_variables": values.select(prov_json.alias("p"))["p"]
            if prov else pl.Series(["[]"] * len(rows)),
            "milieu": sub["milieu"],
            "region": sub["region"],
            "constant": np.full(len(rows), model.constant),
            "region_term": sub["region"].replace_strict(terms, return_dtype=pl.Float64),
            "values": values.select(_json_array(values).alias("v"))["v"],
            "contributions": contributions.select(_json_array(contributions).alias("c"))["c"],
            "verified_by": pl.Series(verified_by, dtype=pl.Utf8),
            "row": sub["row"],
            "ref": ref,
            "verified_json": pl.Series([verified_json[r] for r in rows.tolist()], dtype=pl.Utf8),
            "unverified_json": pl.Series([unverified_json[r] for r in rows.tolist()],
                                         dtype=pl.Utf8),
            "basis": pl.Series([bases[r] for r in rows.tolist()], dtype=pl.Int64),
        })
        frame = frame.join(members, left_on="row", right_on="household", how="left")
        frame = frame.with_columns(
            pl.concat_str([pl.lit('{"reference_date": "'), pl.col("ref"),
                           pl.lit('", "ages": ['), pl.col("ages"), pl.lit('], "sexes": "'),
                           pl.col("sexes"), pl.lit('", "verified": '), pl.col("verified_json"),
                           pl.lit(', "member_verified": {}, "unverified": '),
                           pl.col("unverified_json"), pl.lit("}")]).alias("inputs"),
            pl.lit(stamp).alias("computed_at"),
        )
        parts.append(frame.select(SCORE_COLUMNS))
    return pl.concat(parts) if parts else pl.DataFrame()


def scores_write(frame: pl.DataFrame) -> int:
    """Insert score rows; rows whose (declaration, formula) is already scored are skipped.
    PostgreSQL: COPY (falling back to INSERT … ON CONFLICT DO NOTHING when a concurrent
    computation stored one of them first)."""
    if frame.height == 0:
        return 0
    columns = ", ".join(f'"{c}"' for c in SCORE_COLUMNS)
    if connection.vendor == "postgresql":
        from psycopg import errors

        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False)
        try:
            with transaction.atomic(), connection.cursor() as cur, cur.cursor.copy(
                    f"COPY scoring_score ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getvalue())
            return frame.height
        except (IntegrityError, errors.UniqueViolation) as exc:
            if not isinstance(exc, errors.UniqueViolation) and not isinstance(
                    exc.__cause__, errors.UniqueViolation):
                raise
    placeholders = ", ".join(["%s"] * len(SCORE_COLUMNS))
    sql = (f"INSERT INTO scoring_score ({columns}) VALUES ({placeholders})"  # noqa: S608
           " ON CONFLICT DO NOTHING")
    stamp = connection.ops.adapt_datetimefield_value(
        datetime.fromisoformat(frame["computed_at"][0]))
    rows = [(*r[:-1], stamp) for r in frame.iter_rows()]
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(sql, rows)
        return max(int(cur.rowcount), 0)  # the rows inserted (conflicts skipped)


# ---------------------------------------------------------------------------------------------
# Runs: rescore and impact


def run_retry(*, actor: Actor, pk: int) -> ScoringRun:
    """Queue a run again (django-tasks does not retry): a rescore resumes from what is already
    scored, an impact report is recomputed. A run in progress cannot be queued twice."""
    from sijill.scoring.tasks import impact_task, rescore_task

    with transaction.atomic():
        run = ScoringRun.objects.select_for_update().filter(pk=pk).first()
        if run is None:
            actor.require(Perm.FORMULA_MANAGE)
            raise NotFound()
        actor.require(Perm.FORMULA_ACTIVATE if run.kind == ScoringRun.Kind.RESCORE
                      else Perm.FORMULA_MANAGE)
        if run.status == ScoringRun.Status.PENDING or (
                run.status == ScoringRun.Status.RUNNING and not _stale(run, timezone.now())):
            raise Conflict(_("This run is already queued or running."))
        if (run.kind == ScoringRun.Kind.RESCORE
                and run.formula.status != FormulaVersion.Status.ACTIVE):
            raise Conflict(_("Only the active version rescores the registry."))
        run.status = ScoringRun.Status.PENDING
        run.save(update_fields=["status"])
        audit_record(actor=actor, action="retry", entity="scoring_run", entity_id=run.pk,
                     detail={"formula": run.formula.label, "kind": run.kind})
        task = rescore_task if run.kind == ScoringRun.Kind.RESCORE else impact_task
        transaction.on_commit(lambda: _enqueue(task, run))
    return run


def _split_verified(chunk: Chunk) -> tuple[Chunk, dict[int, VerifiedBasis], list[int]]:
    """The chunk's verified bases; households with verified member fields are taken out of the
    batch (their declaration ids returned) to be scored through the single path."""
    ids = chunk.households["declaration_id"].to_list()
    found = verified_for(ids)
    singles = [d for d, b in found.items() if b.members]
    if not singles:
        return chunk, found, []
    keep = ~chunk.households["declaration_id"].is_in(singles)
    households = chunk.households.filter(keep)
    rows = np.flatnonzero(keep.to_numpy())
    remap = {int(old): new for new, old in enumerate(rows.tolist())}
    members = (chunk.members.filter(pl.col("household").is_in(list(remap)))
               .with_columns(pl.col("household").replace_strict(remap, return_dtype=pl.Int64)))
    return Chunk(households, members, chunk.last), found, singles


def _score_singles(declaration_ids: list[int], fv: FormulaVersion,
                   found: Mapping[int, VerifiedBasis]) -> int:
    if not declaration_ids:
        return 0
    scores = Score.objects.filter(declaration_id__in=declaration_ids, formula=fv)
    before = scores.count()
    for version in (DeclarationVersion.objects.select_related("household__declarant")
                    .filter(pk__in=declaration_ids)):
        score_compute_verified(household=version.household, declaration=version,
                               formula_version=fv, found=found.get(version.pk, DECLARED_ONLY))
    return scores.count() - before


def rescore_run(run: ScoringRun, *, chunk_size: int = DEFAULT_CHUNK,
                on_chunk: Callable[[int], None] | None = None) -> ScoringRun:
    """Score every scorable household's current declaration with the run's formula version,
    chunk by chunk. Safe to re-run: it resumes from what is already scored (the unique
    constraint makes a duplicate impossible). Stops if the version is no longer active.

    On PostgreSQL (outside a transaction) each chunk is written on a second connection while
    the next one is read and computed; at most two chunks are in memory."""
    fv = FormulaVersion.objects.get(pk=run.formula_id)
    formula = formula_of(fv)
    total = selectors.count_scorable()
    _run_start(run, total, selectors.count_scorable(scored_with=fv.pk))
    written = 0
    threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
    pool = ThreadPoolExecutor(max_workers=1) if threaded else None
    pending: Future[int] | None = None

    def collect() -> None:
        nonlocal written, pending
        if pending is None:
            return
        n, pending = pending.result(), None
        written += n
        run.done = min(total, run.done + n)
        _run_progress(run)
        if on_chunk:
            on_chunk(n)

    try:
        for chunk in selectors.iter_chunks(chunk_size=chunk_size, unscored_for=fv.pk):
            if (FormulaVersion.objects.filter(pk=fv.pk).values_list("status", flat=True)
                    .first() != FormulaVersion.Status.ACTIVE):
                collect()
                _run_finish(run, result={"written": written, "stopped": "formula retired"})
                return run
            chunk, found, singles = _split_verified(chunk)
            written += _score_singles(singles, fv, found)
            if chunk.n == 0:
                continue
            rows = score_rows(chunk=chunk, formula=formula, formula_id=fv.pk,
                              computed_at=timezone.now(), found=found)
            collect()
            if pool is not None:
                pending = pool.submit(scores_write, rows)
            else:
                pending = Future()
                pending.set_result(scores_write(rows))
                collect()
        collect()
    except RunTakenOver:
        return run
    except Exception as exc:
        _run_finish(run, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if pool is not None:
            pool.submit(connections.close_all).result()
            pool.shutdown(wait=True)
    run.done = selectors.count_scorable(scored_with=fv.pk)
    audit_record(actor=SYSTEM, action="rescore_done", entity="scoring_run", entity_id=run.pk,
                 detail={"formula": fv.label, "written": written, "total": total})
    _run_finish(run, result={"written": written, "scored": run.done, "total": total})
    return run


def _thresholds(formula: Formula, given: Sequence[Mapping[str, Any]] | None,
                ) -> list[dict[str, Any]]:
    """The thresholds an impact report counts: those given; else every active program's, with
    its own comparison (what eligibility will really use); else, before any program exists,
    the thresholds published with the formula."""
    if given:
        return [{"program": str(t.get("program", "")), "name": str(t.get("name", "")),
                 "value": float(t["value"])} for t in given]
    # Programs build on scoring, not the reverse: read them through the app registry.
    from django.apps import apps

    program = apps.get_model("programs", "Program")
    active = [{"program": p.code, "name": p.name_fr, "value": float(p.threshold),
               "comparison": p.comparison}
              for p in program.objects.filter(status="active").order_by("code")]
    return active or [{"program": t.program, "name": t.name, "value": t.value}
                      for t in formula.thresholds]


def _impact_scores(chunk: Chunk, formulas: Sequence[Formula | None],
                   ) -> tuple[pl.DataFrame, list[np.ndarray | None]]:
    """Scores of a chunk's households under each formula, with verified values over declared
    exactly as a rescore takes them (households with verified member values through the single
    path); returns the households' region and milieu in the order of the scores."""
    rest, found, singles = _split_verified(chunk)
    places = rest.households.select("region", "milieu")
    scores = [score_batch(f, batch_of(rest, f, found)).score if f is not None else None
              for f in formulas]
    if singles:
        versions = list(DeclarationVersion.objects.filter(pk__in=singles).order_by("pk"))
        inputs = [engine_input(v, verified=found[v.pk].household,
                               member_verified=found[v.pk].members) for v in versions]
        places = pl.concat([places, pl.DataFrame(
            {"region": [i.region for i in inputs], "milieu": [i.milieu.value for i in inputs]},
            schema=places.schema)])
        scores = [np.concatenate([s, [score_household(f, i).value for i in inputs]])
                  if f is not None and s is not None else None
                  for f, s in zip(formulas, scores, strict=True)]
    return places, scores


def impact_start(*, actor: Actor, formula_pk: int, comparison: str = DEFAULT_COMPARISON,
                 thresholds: Sequence[Mapping[str, Any]] | None = None,
                 baseline_pk: int | None = None) -> ScoringRun:
    """Queue an impact report of a version against the baseline (default: the active version)
    over the whole registry."""
    from sijill.scoring.tasks import impact_task

    actor.require(Perm.FORMULA_MANAGE)
    if comparison not in COMPARISONS:
        raise ValidationFailed.single("comparison", "invalid_choice",
                                      _("The comparison is < or <=."))
    fv = FormulaVersion.objects.filter(pk=formula_pk).first()
    if fv is None:
        raise NotFound()
    baseline = (FormulaVersion.objects.filter(pk=baseline_pk).first() if baseline_pk
                else selectors.formula_current())
    if baseline_pk and baseline is None:
        raise ValidationFailed.single("baseline", "not_found", _("Unknown baseline version."))
    params = {"comparison": comparison,
              "thresholds": _thresholds(formula_of(fv), thresholds)}
    with transaction.atomic():
        run = ScoringRun.objects.create(kind=ScoringRun.Kind.IMPACT, formula=fv,
                                        baseline=baseline, params=params,
                                        created_by=actor.label)
        audit_record(actor=actor, action="impact_report", entity="formula_version",
                     entity_id=fv.pk, detail={"formula": fv.label, "run": run.pk,
                                              "baseline": baseline.label if baseline else None})
        transaction.on_commit(lambda: _enqueue(impact_task, run))
    return run


def impact_run(run: ScoringRun, *, chunk_size: int = DEFAULT_CHUNK) -> ScoringRun:
    """Score the registry with the draft and with the baseline (vectorised, chunk by chunk) and
    count, per threshold, region and milieu, who is eligible before and after and who crosses
    in either direction (each threshold with its program's comparison, else the run's).
    Verified values count over declared ones, as in the rescore activation would run. Only
    aggregates are kept."""
    fv = FormulaVersion.objects.get(pk=run.formula_id)
    formula = formula_of(fv)
    baseline = (formula_of(FormulaVersion.objects.get(pk=run.baseline_id))
                if run.baseline_id else None)
    comparison = run.params.get("comparison", DEFAULT_COMPARISON)
    thresholds = run.params.get("thresholds") or _thresholds(formula, None)
    regions = formula.region_codes
    milieux = [m.value for m in Milieu]
    groups = len(regions) * len(milieux)
    zeros: Callable[[], np.ndarray] = lambda: np.zeros(groups, dtype=np.int64)  # noqa: E731
    households = zeros()
    counts = [{k: zeros() for k in ("before", "after", "entering", "leaving")}
              for _t in thresholds]
    sum_before = sum_after = 0.0
    changed = 0
    _run_start(run, selectors.count_scorable())
    try:
        for chunk in selectors.iter_chunks(chunk_size=chunk_size):
            places, (after, before) = _impact_scores(chunk, (formula, baseline))
            assert after is not None
            r = np.array([regions.index(c) for c in places["region"].to_list()])
            m = np.array([milieux.index(x) for x in places["milieu"].to_list()])
            g = r * len(milieux) + m
            households += np.bincount(g, minlength=groups)
            sum_after += float(after.sum())
            if before is not None:
                sum_before += float(before.sum())
                changed += int(np.count_nonzero(np.abs(after - before) > 1e-12))
            for t, c in zip(thresholds, counts, strict=True):
                compare = COMPARISONS[t.get("comparison") or comparison]
                e_after = compare(after, t["value"])
                c["after"] += np.bincount(g, weights=e_after, minlength=groups).astype(np.int64)
                if before is not None:
                    e_before = compare(before, t["value"])
                    c["before"] += np.bincount(g, weights=e_before,
                                               minlength=groups).astype(np.int64)
                    c["entering"] += np.bincount(g, weights=e_after & ~e_before,
                                                 minlength=groups).astype(np.int64)
                    c["leaving"] += np.bincount(g, weights=e_before & ~e_after,
                                                minlength=groups).astype(np.int64)
            run.done += chunk.n
            _run_progress(run)
    except RunTakenOver:
        return run
    except Exception as exc:
        _run_finish(run, error=f"{type(exc).__name__}: {exc}")
        raise
    n = int(households.sum())
    has_baseline = baseline is not None

    def totals(c: dict[str, np.ndarray], idx: Any) -> dict[str, int | None]:
        return {"eligible_before": int(c["before"][idx].sum()) if has_baseline else None,
                "eligible_after": int(c["after"][idx].sum()),
                "entering": int(c["entering"][idx].sum()) if has_baseline else None,
                "leaving": int(c["leaving"][idx].sum()) if has_baseline else None}

    def group_rows(c: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        out = []
        for ri, code in enumerate(regions):
            for mi, mil in enumerate(milieux):
                gi = ri * len(milieux) + mi
                if households[gi]:
                    out.append({"region": code, "milieu": mil,
                                "households": int(households[gi]), **totals(c, gi)})
        return out

    def by(axis: str, c: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        grid = np.arange(groups).reshape(len(regions), len(milieux))
        keys = regions if axis == "region" else milieux
        out = []
        for i, key in enumerate(keys):
            idx = grid[i, :] if axis == "region" else grid[:, i]
            if households[idx].sum():
                out.append({axis: key, "households": int(households[idx].sum()),
                            **totals(c, idx)})
        return out

    result = {
        "formula": fv.label,
        "baseline": run.baseline.label if run.baseline_id else None,  # type: ignore[union-attr]
        "comparison": run.params.get("comparison", DEFAULT_COMPARISON),
        "households": n,
        "mean_before": sum_before / n if n and has_baseline else None,
        "mean_after": sum_after / n if n else None,
        "changed": changed if has_baseline else None,
        "thresholds": [
            {**t, **totals(c, slice(None)), "by_region": by("region", c),
             "by_milieu": by("milieu", c), "by_region_and_milieu": group_rows(c)}
            for t, c in zip(thresholds, counts, strict=True)
        ],
    }
    _run_finish(run, result=json.loads(json.dumps(result)))
    return run
