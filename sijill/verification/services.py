"""Verification services: the only writers of verifications, checks, evidence, discrepancies.

Flow (see README.md):
    household_submitted → `verification_start_task` queued (the household records the request,
    `verification_requested_at`) → `verification_begin`: `verification_start` (the current
    version only, while the household can be verified; one Verification per declaration
    version, one PartnerCheck per partner, the deadline task at the deadline), then at once
    → `verification_process` (later passes: the verify task; submitted → verifying; every due
    partner called in
    parallel, each attempt recorded as Evidence; failed attempts retried with backoff by
    scheduling the next run, since the task libraries do not retry)
    → `verification_advance`: when every partner answered (or gave up) or the deadline passed,
    `_conclude`: deaths from civil status recorded, verified values and discrepancies computed
    (rules.py: verified over declared), the score computed on the next basis, verifying → scored,
    `household_scored` sent after commit. A later answer or a dismissed discrepancy changes the
    values: next basis, rescore, `household_scored` with reason "verification".

Idempotent everywhere: a rerun of a crashed task finds the attempts already recorded (unique
(check, attempt), one answer per check) and the verification already concluded (row lock).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import SYSTEM, Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core import retry
from sijill.core.errors import Conflict, NotFound, ValidationFailed
from sijill.core.events import household_scored
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS, Declaration
from sijill.households.models import DeclarationVersion, Household
from sijill.households.selectors import households_verifiable
from sijill.households.services import household_transition
from sijill.population.validation import age_on
from sijill.scoring import selectors as scoring_selectors
from sijill.scoring.services import score_compute_verified
from sijill.verification import conf, rules
from sijill.verification.connectors import (
    CONNECTORS,
    Connector,
    Findings,
    MalformedAnswer,
    Member,
    Reply,
    Subject,
)
from sijill.verification.models import Discrepancy, Evidence, PartnerCheck, Verification
from sijill.verification.sealed import seal, seal_values, unseal_values
from sijill.verification.selectors import basis_of, visible_to

log = logging.getLogger(__name__)
S = Household.Status
CLOSED = (S.REJECTED, S.CANCELLED, S.DRAFT)


# ---------------------------------------------------------------------------------------------
# Helpers


def partners() -> list[Connector]:
    """The connectors asked (SIJILL["VERIFICATION_PARTNERS"], default every one)."""
    wanted = conf.get("VERIFICATION_PARTNERS")
    if wanted is None:
        return list(CONNECTORS.values())
    return [CONNECTORS[c] for c in wanted]


def subject_of(version: DeclarationVersion, *, today: date | None = None) -> Subject:
    """What partners are asked about: the members of a declaration version, with their IDCS,
    CNIE and age today."""
    today = today or timezone.localdate()
    # One read of the members serves both the partners' questions and the declaration record
    # (what `declaration_of` builds from its own read of the same rows).
    rows = list(version.members.select_related("person").order_by("position"))
    members = tuple(Member(idcs=m.person.idcs, cnie=m.person.cnie or "",
                           age=age_on(m.person.birth_date, today), sex=m.person.sex,
                           relationship=m.relationship) for m in rows)
    declaration = Declaration.from_dict({
        "household": {name: getattr(version, name) for name in HOUSEHOLD_FIELDS},
        "members": [{name: (m.person.idcs if name == "idcs" else getattr(m, name))
                     for name in MEMBER_FIELDS} for m in rows],
    })
    return Subject(reference=version.household.reference, commune=version.commune_id,
                   declaration=declaration, members=members)


def _schedule_process(verification_id: int, at: datetime | None = None) -> None:
    from sijill.verification.tasks import verify_household_task

    # Without deferred tasks the sweeper runs it when due (`manage.py verification_sweep`).
    retry.enqueue_at(verify_household_task, run_after=at, verification_id=verification_id)


def _schedule_deadline(verification_id: int, at: datetime) -> None:
    from sijill.verification.tasks import verification_deadline_task

    retry.enqueue_at(verification_deadline_task, run_after=at, verification_id=verification_id)


# ---------------------------------------------------------------------------------------------
# Start


def verification_start(*, household_id: int, version: int,
                       queue: bool = True) -> Verification | None:
    """A submitted declaration version is to be verified (idempotent: one verification per
    version). Only the household's current version, and only while the household can be
    verified (`households_verifiable`: not one waiting for an updated declaration); a start
    arriving late for an older version does nothing. The household is locked, so a start and a
    new submission of the same household follow each other. The work runs in the background
    once this commits (`queue=False`: the caller queues the first pass, e.g. in a batch task;
    the deadline task is queued all the same)."""
    with transaction.atomic():
        household = Household.objects.select_for_update().filter(pk=household_id).first()
        if household is None or household.current_version != version:
            return None
        if not households_verifiable().filter(pk=household_id).exists():
            _start_answered(household_id)  # waits for an update, which asks again
            return None
        declaration = DeclarationVersion.objects.filter(household_id=household_id,
                                                        version=version).first()
        if declaration is None:
            return None
        verification, created = Verification.objects.get_or_create(
            declaration=declaration,
            defaults={"household_id": household_id,
                      "deadline": timezone.now() + conf.deadline()})
        _start_answered(household_id)
        if created:
            PartnerCheck.objects.bulk_create(
                [PartnerCheck(verification=verification, partner=c.code) for c in partners()],
                ignore_conflicts=True)
            # Verifications of the household's older versions are superseded by this one.
            Verification.objects.filter(household_id=household_id,
                                        status=Verification.Status.RUNNING,
                                        declaration__version__lt=version).update(
                status=Verification.Status.SUPERSEDED)
            pk, deadline = verification.pk, verification.deadline
            if queue:
                transaction.on_commit(lambda: _schedule_process(pk))
            transaction.on_commit(lambda: _schedule_deadline(pk, deadline))
    return verification


def _start_answered(household_id: int) -> None:
    Household.objects.filter(pk=household_id, verification_requested_at__isnull=False).update(
        verification_requested_at=None)


def verification_begin(*, household_id: int, version: int) -> str:
    """The background start of a submitted version's verification (`verification_start_task`,
    queued once the registration commits): start it, then make its first pass at once.
    Safe to run twice: the second run finds the verification and passes over what is due."""
    verification = verification_start(household_id=household_id, version=version, queue=False)
    if verification is None:
        return "gone"
    return verification_process(verification.pk)


# ---------------------------------------------------------------------------------------------
# One pass: call every due partner in parallel, record each attempt


@dataclass(frozen=True)
class Attempt:
    check_id: int
    partner: str
    number: int
    question: dict[str, Any]
    reply: Reply


def _call(connector: Connector, question: dict[str, Any], subject: Subject) -> Reply:
    reply = connector.call(conf.partner_url(connector.code), question,
                           timeout=float(conf.get("VERIFICATION_TIMEOUT")))
    if reply.ok:
        try:
            connector.parse(reply.answer, subject)
        except MalformedAnswer as exc:
            return Reply(ok=False, answer=reply.answer, error=f"malformed answer: {exc}"[:300],
                         elapsed_ms=reply.elapsed_ms)
    return reply


def _current(verification: Verification) -> bool:
    household = Household.objects.only("current_version", "status").get(
        pk=verification.household_id)
    return _is_current(verification, household)


def _is_current(verification: Verification, household: Household) -> bool:
    """The verified version is still the household's current one, and the household open
    (`household` freshly read by the caller)."""
    return (household.current_version == verification.declaration.version
            and household.status not in CLOSED)


def _supersede(verification: Verification) -> None:
    Verification.objects.filter(pk=verification.pk, status=Verification.Status.RUNNING).update(
        status=Verification.Status.SUPERSEDED)


def _to_verifying(household: Household) -> None:
    if household.status == S.SUBMITTED:
        household_transition(actor=SYSTEM, reference=household.reference, to=S.VERIFYING,
                             note="verification with partner bodies")


@dataclass
class _Pass:
    """A household's pass, read from the database before its partners are asked."""

    verification_id: int
    household_id: int
    subject: Subject
    due: list[PartnerCheck]
    questions: dict[int, dict[str, Any]]


def _pass_prepare(verification_id: int, *, now: datetime) -> _Pass | str:
    verification = (Verification.objects.select_related("declaration", "household")
                    .filter(pk=verification_id).first())
    if verification is None or verification.status == Verification.Status.SUPERSEDED:
        return "gone"
    if not _is_current(verification, verification.household):
        _supersede(verification)
        return "superseded"
    _to_verifying(verification.household)
    verification.declaration.household = verification.household
    due = [c for c in verification.checks.filter(status=PartnerCheck.Status.PENDING)
           if c.next_attempt_at is None or c.next_attempt_at <= now]
    subject = subject_of(verification.declaration)
    questions = {c.pk: CONNECTORS[c.partner].question(subject) for c in due}
    return _Pass(verification.pk, verification.household_id, subject, due, questions)


def _ask(passes: Sequence[_Pass], *, workers: int | None) -> dict[int, list[Attempt]]:
    """Every due partner of every pass asked at once (HTTP only in the threads)."""
    calls = [(p, c) for p in passes for c in p.due]
    out: dict[int, list[Attempt]] = {p.verification_id: [] for p in passes}
    if not calls:
        return out

    def one(call: tuple[_Pass, PartnerCheck]) -> Attempt:
        p, check = call
        return Attempt(check.pk, check.partner, check.attempts + 1, p.questions[check.pk],
                       _call(CONNECTORS[check.partner], p.questions[check.pk], p.subject))

    size = workers or min(len(calls), int(conf.get("VERIFICATION_CALLS_AT_ONCE")))
    with ThreadPoolExecutor(max_workers=max(1, size)) as pool:
        for (p, _check), attempt in zip(calls, pool.map(one, calls), strict=True):
            out[p.verification_id].append(attempt)
    return out


def _pass_finish(p: _Pass, attempts: Sequence[Attempt], *, now: datetime) -> str:
    if attempts:
        attempts_record(attempts, household_id=p.household_id)
    return verification_advance(p.verification_id, now=now, subject=p.subject)


def verification_process(verification_id: int, *, now: datetime | None = None,
                         workers: int | None = None) -> str:
    """One pass of a household's verification (the verify task; safe to run twice)."""
    now = now or timezone.now()
    p = _pass_prepare(verification_id, now=now)
    if isinstance(p, str):
        return p
    return _pass_finish(p, _ask([p], workers=workers or len(p.due) or None)[p.verification_id],
                        now=now)


def verifications_process(verification_ids: Iterable[int], *, now: datetime | None = None,
                          workers: int | None = None) -> dict[int, str]:
    """One pass over several households at once (the batch verify task; safe to run twice):
    each household read and moved to "verifying", then the due partners of ALL of them asked
    together (at most VERIFICATION_CALLS_AT_ONCE calls in flight, or `workers`), then each
    household's attempts recorded and its verification advanced on its own, exactly as
    `verification_process` does (same locks, same idempotence, same retries and deadline).
    A household that fails is logged and left to its next pass or the sweeper; the others go
    on. Returns each verification's state ("error" for a failure)."""
    now = now or timezone.now()
    states: dict[int, str] = {}
    passes: list[_Pass] = []
    for pk in dict.fromkeys(verification_ids):
        try:
            p = _pass_prepare(pk, now=now)
        except Exception:
            log.exception("verification %s: pass not prepared", pk)
            states[pk] = "error"
            continue
        if isinstance(p, str):
            states[pk] = p
        else:
            passes.append(p)
    asked = _ask(passes, workers=workers)
    for p in passes:
        try:
            states[p.verification_id] = _pass_finish(p, asked[p.verification_id], now=now)
        except Exception:
            log.exception("verification %s: pass not finished", p.verification_id)
            states[p.verification_id] = "error"
    return states


def attempt_record(a: Attempt, *, household_id: int, channel: str = "api") -> bool:
    """Record one attempt as evidence and move its check on (answered, retried later, or
    failed). False when this attempt (or an answer) was recorded already: nothing is added."""
    return bool(attempts_record([a], household_id=household_id, channel=channel))


def attempts_record(attempts: Sequence[Attempt], *, household_id: int,
                    channel: str = "api") -> int:
    """Record the attempts of one pass in one transaction: the checks are row-locked, an
    attempt already recorded (a rerun, a concurrent pass) or a check already answered is
    skipped, the rest is written in one INSERT and one UPDATE. Returns the attempts recorded."""
    max_attempts = int(conf.get("VERIFICATION_MAX_ATTEMPTS"))
    with transaction.atomic():
        checks = {c.pk: c for c in PartnerCheck.objects.select_for_update().filter(
            pk__in=[a.check_id for a in attempts]).order_by("pk")}
        fresh = [a for a in attempts if a.check_id in checks
                 and checks[a.check_id].status != PartnerCheck.Status.ANSWERED
                 and checks[a.check_id].attempts < a.number]
        if not fresh:
            return 0
        stamp = timezone.now()
        rows = [Evidence(partner_check_id=a.check_id, household_id=household_id,
                         partner=a.partner, attempt=a.number, channel=channel,
                         outcome=Evidence.Outcome.ANSWER if a.reply.ok
                         else Evidence.Outcome.ERROR,
                         question=a.question, answer=a.reply.answer, error=a.reply.error[:300],
                         received_at=stamp, elapsed_ms=a.reply.elapsed_ms) for a in fresh]
        # Under the checks' locks no row can conflict; ON CONFLICT DO NOTHING (the unique
        # (check, attempt) and one answer per check) keeps even a stray rerun from adding one,
        # without a savepoint.
        Evidence.objects.bulk_create(rows, ignore_conflicts=True)
        # The checks move on in one UPDATE per distinct outcome (usually one: every partner
        # answered), not a CASE per column and row.
        groups: dict[tuple[Any, ...], list[int]] = {}
        for a in fresh:
            if a.reply.ok:
                status, answered_at, next_at = PartnerCheck.Status.ANSWERED, stamp, None
            elif a.number >= max_attempts:
                status, answered_at, next_at = PartnerCheck.Status.FAILED, None, None
            else:
                status, answered_at, next_at = (PartnerCheck.Status.PENDING, None,
                                                stamp + conf.backoff(a.number))
            key = (a.number, a.reply.error[:300], status, answered_at, next_at)
            groups.setdefault(key, []).append(a.check_id)
        for (number, error, status, answered_at, next_at), pks in groups.items():
            PartnerCheck.objects.filter(pk__in=pks).update(
                attempts=number, last_error=error, status=status, answered_at=answered_at,
                next_attempt_at=next_at)
    for a in fresh:
        if not a.reply.ok:
            log.warning("partner %s attempt %s failed: %s", a.partner, a.number, a.reply.error)
    return len(fresh)


# ---------------------------------------------------------------------------------------------
# Advance: conclude when complete or past the deadline, else schedule the next pass


def verification_advance(verification_id: int, *, now: datetime | None = None,
                         subject: Subject | None = None) -> str:
    """Conclude (or reconclude) a verification when its time has come, else schedule the next
    attempt of the partners still pending. Returns the verification's state."""
    now = now or timezone.now()
    verification = (Verification.objects.select_related("declaration", "household")
                    .filter(pk=verification_id).first())
    if verification is None or verification.status == Verification.Status.SUPERSEDED:
        return "gone"
    verification.declaration.household = verification.household
    checks = list(verification.checks.all())
    pending = [c for c in checks if c.status == PartnerCheck.Status.PENDING]
    running = verification.status == Verification.Status.RUNNING
    if running and (not pending or now >= verification.deadline):
        subject = subject or subject_of(verification.declaration)
        # A death recorded writes a new version: read the household again only then.
        changed = _apply_deaths(verification, subject) or not _is_current(
            verification, verification.household)
        if changed and not _current(verification):
            _supersede(verification)
            return "superseded"
        _conclude(verification.pk, by_deadline=bool(pending), subject=subject)
    elif not running:
        answered_since = [c for c in checks if c.answered_at and verification.concluded_at
                          and c.answered_at > verification.concluded_at]
        if answered_since or not pending:
            subject = subject or subject_of(verification.declaration)
            deaths = _apply_deaths(verification, subject)
            if _current(verification) if deaths else _is_current(verification,
                                                                   verification.household):
                _conclude(verification.pk, by_deadline=bool(pending), subject=subject)
    if pending:
        due = min((c.next_attempt_at for c in pending if c.next_attempt_at), default=None)
        if due is not None:
            transaction.on_commit(lambda: _schedule_process(verification_id, due))
        return "waiting"
    return "concluded"


def _findings(verification: Verification, subject: Subject | None = None, *,
              partner: str | None = None) -> dict[str, tuple[Findings, Evidence]]:
    """Findings of every answered partner (or of `partner` only), read again from the
    recorded answers."""
    subject = subject or subject_of(verification.declaration)
    out = {}
    answers = Evidence.objects.filter(partner_check__verification=verification,
                                      outcome=Evidence.Outcome.ANSWER)
    if partner is not None:
        answers = answers.filter(partner=partner)
    for ev in answers:
        connector = CONNECTORS.get(ev.partner)
        if connector is None:
            continue
        try:
            out[ev.partner] = (connector.parse(ev.answer, subject), ev)
        except MalformedAnswer:  # recorded as an answer by an older connector version
            log.warning("answer of %s no longer parses", ev.partner)
    return out


def _apply_deaths(verification: Verification, subject: Subject) -> bool:
    """Deaths reported by civil status: the person is recorded deceased (their membership ends
    and the household gets a new version, verified and scored in turn). True when civil status
    reported a death (the household may have changed)."""
    from sijill.population.services import person_record_death

    found = _findings(verification, subject, partner="civil_status").get("civil_status")
    if not found or not found[0].deaths:
        return False
    for idcs, day in found[0].deaths:
        try:
            person_record_death(actor=SYSTEM, idcs=idcs, death_date=day, source="civil_status")
        except (Conflict, NotFound, ValidationFailed) as exc:
            log.warning("death reported by civil status not recorded: %s", exc)
    return True


def _values(verification: Verification, found: Mapping[str, tuple[Findings, Evidence]],
            dismissed: set[tuple[str, str]]) -> dict[str, Any]:
    household: dict[str, list[Any]] = {}
    members: dict[str, dict[str, list[Any]]] = {}
    for partner in sorted(found):
        findings = found[partner][0]
        for field, value in findings.household.items():
            if (field, "") not in dismissed:
                household[field] = [value, partner]
        for idcs, fields in findings.members.items():
            for field, value in fields.items():
                if (field, idcs) not in dismissed:
                    members.setdefault(idcs, {})[field] = [value, partner]
    return {"household": household, "members": members}


def _reason(verification: Verification, first: bool) -> str:
    if not first:
        return "verification"
    reason = verification.declaration.reason
    if reason == "registration":
        return "registration"
    if reason == "member_deceased":
        return "death"
    return "update"


def _conclude(verification_id: int, *, by_deadline: bool,
              subject: Subject | None = None) -> None:
    with transaction.atomic():
        # The verification and its household locked in one read (the household with its
        # declarant: the score's and the audit's subject).
        verification = (Verification.objects.select_for_update(of=("self", "household"))
                        .select_related("declaration", "household__declarant")
                        .get(pk=verification_id))
        if verification.status == Verification.Status.SUPERSEDED:
            return
        household = verification.household
        verification.declaration.household = household
        subject = subject or subject_of(verification.declaration)
        found = _findings(verification, subject)
        # Discrepancies (once per field and member; decisions kept): the ones recorded already
        # read once, the new ones written in one INSERT (under the verification's lock; ON
        # CONFLICT DO NOTHING all the same).
        recorded = {(f, i): st for f, i, st in verification.discrepancies.values_list(
            "field", "person_idcs", "status")}
        new: dict[tuple[str, str], Discrepancy] = {}
        for partner, (findings, evidence) in found.items():
            diffs = rules.differences(subject.declaration, partner, findings.household,
                                      findings.members)
            for d in diffs:
                key = (d.field, d.person_idcs)
                if key not in recorded and key not in new:
                    new[key] = Discrepancy(
                        verification=verification, field=d.field, person_idcs=d.person_idcs,
                        household_id=verification.household_id, evidence=evidence,
                        partner=partner, declared=seal(d.field, d.declared),
                        verified=seal(d.field, d.verified), severity=d.severity)
            for field, idcs, value in findings.notes:
                if (field, idcs) not in recorded and (field, idcs) not in new:
                    new[(field, idcs)] = Discrepancy(
                        verification=verification, field=field, person_idcs=idcs,
                        household_id=verification.household_id, evidence=evidence,
                        partner=partner, declared=None, verified=value, severity="medium")
        if new:
            Discrepancy.objects.bulk_create(list(new.values()), ignore_conflicts=True)
        dismissed = {k for k, st in recorded.items() if st == Discrepancy.Status.DISMISSED}
        values = _values(verification, found, dismissed)
        unverified = sorted({f for c in verification.checks.exclude(
            status=PartnerCheck.Status.ANSWERED) for f in CONNECTORS[c.partner].fields})
        first = verification.status == Verification.Status.RUNNING
        if not first and values == unseal_values(verification.values) and \
                unverified == verification.unverified:
            return
        verification.status = Verification.Status.CONCLUDED
        verification.concluded_at = timezone.now()
        verification.by_deadline = by_deadline
        verification.basis += 1
        verification.values, verification.unverified = seal_values(values), unverified
        score = _score(verification, values, household=household)
        verification.score_id = score.pk if score else None
        verification.save(update_fields=["status", "concluded_at", "by_deadline", "basis",
                                         "values", "unverified", "score_id"])
        if score is not None and household.status in (S.SUBMITTED, S.VERIFYING):
            _to_verifying(household)
            household_transition(actor=SYSTEM, reference=household.reference, to=S.SCORED,
                                 note="scored after verification" if not by_deadline
                                 else "scored at the verification deadline")
        audit_record(actor=SYSTEM, action="verification_concluded", entity="household",
                     entity_id=household.reference,
                     subject=household.declarant.idcs,
                     detail={"version": verification.declaration.version,
                             "basis": verification.basis, "by_deadline": by_deadline,
                             "unverified": unverified, "partners": sorted(found)})
        if score is not None:
            reason = _reason(verification, first)
            hid, sid = household.pk, score.pk
            transaction.on_commit(lambda: household_scored.send_robust(
                sender=Verification, household_id=hid, score_id=sid, reason=reason))


def _score(verification: Verification, values: Mapping[str, Any], *,
           household: Household) -> Any:
    formula = scoring_selectors.formula_current()
    if formula is None:
        return None
    return score_compute_verified(
        household=household, declaration=verification.declaration, formula_version=formula,
        found=basis_of(verification.basis, values, verification.unverified))


# ---------------------------------------------------------------------------------------------
# Sweeper: deadlines passed and attempts due (for a backend without deferred tasks, or a task
# lost with a killed worker)


def verification_sweep(*, now: datetime | None = None, inline: bool = False,
                       stale_seconds: float | None = None) -> int:
    """Advance every verification whose deadline passed or whose partners all spoke without it
    concluding, and run (inline) or queue a pass of
    every verification with a partner attempt due or a first attempt never made (several late
    ones: batch tasks of VERIFICATION_BATCH_SIZE). Returns the verifications touched.

    On a backend that defers tasks the passes and deadlines are already queued: the sweeper only
    picks up what is late by `stale_seconds` (default 10 minutes: the work of a task lost with a
    killed worker). On a backend that cannot defer, it drives the retries (default 0)."""
    from django.db.models import Q

    from sijill.verification.tasks import verify_household_task

    if stale_seconds is None:
        stale_seconds = 600.0 if verify_household_task.get_backend().supports_defer else 0.0
    now = now or timezone.now()
    late = now - timedelta(seconds=stale_seconds)
    touched: set[int] = set(Verification.objects.filter(
        status=Verification.Status.RUNNING, deadline__lte=late).values_list("pk", flat=True))
    touched.update(
        PartnerCheck.objects.filter(status=PartnerCheck.Status.PENDING)
        .exclude(verification__status=Verification.Status.SUPERSEDED)
        .filter(Q(next_attempt_at__lte=late)
                | Q(next_attempt_at__isnull=True, verification__started_at__lte=late))
        .values_list("verification_id", flat=True).distinct())
    # Every partner spoke but the verification never concluded: a worker killed between
    # recording the last answer and concluding. Nothing else would pick it up before its deadline.
    touched.update(
        Verification.objects.filter(status=Verification.Status.RUNNING, started_at__lte=late)
        .exclude(checks__status=PartnerCheck.Status.PENDING).values_list("pk", flat=True))
    # Sent to verification but never started: the start task was lost (a killed worker, a
    # failed enqueue).
    touched.update(_start_unstarted(asked_before=late, limit=RESCUE_LIMIT))
    late_ids = sorted(touched)
    if inline:
        for pk in late_ids:
            verification_process(pk, now=now)
    elif len(late_ids) == 1:
        _schedule_process(late_ids[0])
    else:  # many late (a worker down for a while): their partners asked together
        from sijill.verification.tasks import verify_households_task

        size = max(1, int(conf.get("VERIFICATION_BATCH_SIZE")))
        for i in range(0, len(late_ids), size):
            verify_households_task.enqueue(verification_ids=late_ids[i:i + size])
    return len(touched)


# ---------------------------------------------------------------------------------------------
# Batch files: a partner's daily CSV or Parquet extract


@dataclass(frozen=True)
class ImportReport:
    partner: str
    rows: int
    matched: int  # checks answered by this file
    already: int  # checks the file matched but that were answered already


def batch_read(path: Path | str) -> pl.DataFrame:
    """A partner file; columns naming an IDCS are read as text (leading zeros kept)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    if path.suffix == ".csv":
        header = pl.read_csv(path, n_rows=0).columns
        return pl.read_csv(path, infer_schema_length=10_000,
                           schema_overrides={c: pl.Utf8 for c in header if c.endswith("idcs")})
    raise ValidationFailed.single("file", "unsupported_format",
                                  _("A partner file is CSV or Parquet."))


def batch_import(*, partner: str, path: Path | str, actor: Actor = SYSTEM) -> ImportReport:
    """Import a partner's daily file: its rows (one record each, the connector's record fields,
    the person in the connector's person column) are matched to the pending checks of that
    partner whose asked members appear in the file; each match is recorded as the check's answer
    (channel "batch"), exactly as an API answer would be. Re-importing a file adds nothing."""
    connector = CONNECTORS.get(partner)
    if connector is None:
        raise ValidationFailed.single("partner", "unknown_partner", _("Unknown partner."))
    frame = batch_read(path)
    if connector.person_key not in frame.columns:
        raise ValidationFailed.single("file", "missing_column",
                                      _("The file has no column %(column)s.")
                                      % {"column": connector.person_key})
    frame = frame.with_columns(pl.col(connector.person_key).cast(pl.Utf8))
    by_person: dict[str, list[dict[str, Any]]] = {}
    for part in frame.partition_by(connector.person_key, maintain_order=True):
        rows = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()
                 if v is not None} for r in part.to_dicts()]
        by_person[str(part[connector.person_key][0])] = rows
    matched = already = 0
    touched: list[int] = []
    checks = (PartnerCheck.objects.select_related("verification__declaration__household")
              .filter(partner=partner)
              .exclude(verification__status=Verification.Status.SUPERSEDED))
    person_ids = list(by_person)
    checks = checks.filter(verification__declaration__members__person__idcs__in=person_ids
                           ).distinct()
    for check in checks:
        subject = subject_of(check.verification.declaration)
        asked = [m.idcs for m in connector.asked(subject)]
        records = [r for i in asked for r in by_person.get(i, [])]
        if not records:
            continue
        if check.status == PartnerCheck.Status.ANSWERED:
            already += 1
            continue
        answer = {connector.records_key: records}
        reply = Reply(ok=True, answer=answer, error="", elapsed_ms=0)
        try:
            connector.parse(answer, subject)
        except MalformedAnswer as exc:
            reply = Reply(ok=False, answer=answer, error=f"malformed answer: {exc}"[:300],
                          elapsed_ms=0)
        question = {"file": Path(path).name, "persons": asked}
        if attempt_record(Attempt(check.pk, partner, check.attempts + 1, question, reply),
                          household_id=check.verification.household_id, channel="batch"):
            matched += 1
            touched.append(check.verification_id)
    for pk in touched:
        verification_advance(pk)
    audit_record(actor=actor, action="verification_import", entity="partner_file",
                 entity_id=partner, detail={"file": Path(path).name, "rows": frame.height,
                                            "matched": matched})
    return ImportReport(partner=partner, rows=frame.height, matched=matched, already=already)


# ---------------------------------------------------------------------------------------------
# Discrepancy decisions (an agent's queue)


DECISIONS = {"confirm": Discrepancy.Status.CONFIRMED, "dismiss": Discrepancy.Status.DISMISSED}


def discrepancy_decide(*, actor: Actor, pk: int | None, decision: str | None,
                       note: str = "") -> Discrepancy:
    """Decide an open discrepancy: "confirm" (the partner's value stands) or "dismiss" (the
    declared value counts again; the household is rescored). Deciding the same way twice is a
    no-op; deciding a decided discrepancy otherwise is a conflict."""
    actor.require(Perm.VERIFICATION_DECIDE)
    if pk is None:
        raise ValidationFailed.single("discrepancy", "required", _("This field is required."))
    if decision not in DECISIONS:
        raise ValidationFailed.single("decision", "invalid_choice",
                                      _("The decision is confirm or dismiss."))
    note = (note or "").strip()
    if decision == "dismiss" and not note:
        raise ValidationFailed.single("note", "required",
                                      _("Say why the declared value is kept."))
    with transaction.atomic():
        found = (Discrepancy.objects.select_for_update(of=("self",))
                 .select_related("household__commune", "household__declarant")
                 .filter(pk=pk).first())
        if found is None or not visible_to(actor, found.household):
            raise NotFound()
        status = DECISIONS[decision]
        if found.status == status:
            return found
        if found.status != Discrepancy.Status.OPEN:
            raise Conflict(_("This discrepancy was already decided."))
        found.status, found.decided_by, found.decided_at, found.note = \
            status, actor.label, timezone.now(), note[:500]
        found.save(update_fields=["status", "decided_by", "decided_at", "note"])
        audit_record(actor=actor, action="decide_discrepancy", entity="discrepancy",
                     entity_id=found.pk, subject=found.household.declarant.idcs,
                     detail={"household": found.household.reference, "field": found.field,
                             "decision": decision})
        verification_id = found.verification_id
    if status == Discrepancy.Status.DISMISSED:
        verification = Verification.objects.select_related("declaration").get(
            pk=verification_id)
        if verification.status == Verification.Status.CONCLUDED and _current(verification):
            pending = verification.checks.filter(status=PartnerCheck.Status.PENDING).exists()
            _conclude(verification_id, by_deadline=pending)
    return found


#: At most this many lost starts are picked up by one sweep (the next sweep takes the rest).
RESCUE_LIMIT = 1000


def _start_unstarted(*, limit: int | None = None,
                     asked_before: datetime | None = None) -> list[int]:
    """Start (without queueing their first pass) verifications that were not started; return
    the verifications started (a household that cannot be verified as it stands is skipped).

    With `asked_before` (the sweeper): the households sent to verification before then whose
    start task never ran (`verification_requested_at`, cleared by `verification_start`; its
    partial index keeps this cheap). Without (`manage.py verification_start`): every
    verifiable household whose current version has no verification, those never sent
    included (households loaded in bulk without being announced)."""
    if asked_before is not None:
        qs = Household.objects.filter(verification_requested_at__lte=asked_before)
    else:
        qs = (households_verifiable()
              .exclude(verifications__declaration__version=F("current_version")))
    rows = qs.order_by("pk").values_list("pk", "current_version")
    started: list[int] = []
    for pk, version in (rows[:limit] if limit else rows):
        verification = verification_start(household_id=pk, version=version, queue=False)
        if verification is not None:
            started.append(verification.pk)
    return started


def _queue_first_passes(started: list[int]) -> None:
    from sijill.verification.tasks import verify_households_task

    size = max(1, int(conf.get("VERIFICATION_BATCH_SIZE")))
    for i in range(0, len(started), size):
        chunk = started[i:i + size]
        transaction.on_commit(partial(verify_households_task.enqueue, verification_ids=chunk))


def verifications_start_many(*, household_ids: Sequence[int], version: int) -> int:
    """Start the verification of households announced together (a bulk import's chunk), each
    at `version` (`verification_start`'s rules), and queue their first passes in batch tasks.
    Returns the verifications started (or found already started)."""
    started = []
    for pk in household_ids:
        verification = verification_start(household_id=pk, version=version, queue=False)
        if verification is not None:
            started.append(verification.pk)
    _queue_first_passes(started)
    return len(started)


def verifications_start_pending(*, limit: int | None = None) -> int:
    """Start the verification of households loaded in bulk (no signal was sent for them).
    Their first passes are queued VERIFICATION_BATCH_SIZE households per batch task
    (`verify_households_task`: their partners asked together)."""
    started = _start_unstarted(limit=limit)
    _queue_first_passes(started)
    return len(started)


__all__: Sequence[str] = (
    "Attempt", "ImportReport", "attempt_record", "attempts_record", "batch_import",
    "discrepancy_decide",
    "partners", "subject_of", "verification_advance", "verification_begin",
    "verification_process", "verification_start", "verification_sweep", "verifications_process",
    "verifications_start_many", "verifications_start_pending",
)
