"""Programs' services: the only writers of programs, their tokens, applications and
subscriptions, and the audited readers a program uses (eligibility by IDCS, eligible list).

Access rule: a program token is bound to one program (ProgramToken). For any other program it
gets 404 (a program does not learn what another program holds). Administrators act on every
program. A program sees eligibility, its conditions' results, the household reference and the
head's IDCS; the index only when its purpose needs it (`reveals_score`); never the declaration.
Every read of personal data is audited with the program and its purpose.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.accounts.auth import token_create
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from sijill.households.models import Household
from sijill.population.models import Person
from sijill.programs import conditions as cond
from sijill.programs import webhooks
from sijill.programs.models import (
    Comparison,
    EligibilityDecision,
    Program,
    ProgramApplication,
    ProgramToken,
    Subscription,
)

RULE_FIELDS = ("threshold", "comparison", "conditions")
EDITABLE = ("name_ar", "name_fr", "name_en", "purpose", "reveals_score", "threshold",
            "comparison", "conditions", "benefit_per_household", "benefit_per_child",
            "benefit_child_age", "benefit_max_children", "benefit_minimum", "benefit_cap",
            "budget_monthly_dh", "status")
THRESHOLD_RANGE = (0.0, 30.0)


# ---------------------------------------------------------------------------------------------
# Access


def program_for(actor: Actor, code: str) -> Program:
    """The program `code` if the actor may act for it (404 otherwise, existence not revealed)."""
    if actor.can(Perm.PROGRAM_MANAGE):
        program = Program.objects.filter(code=code).first()
    elif actor.can(Perm.PROGRAM_ACCESS) and actor.token_id is not None:
        program = Program.objects.filter(code=code, tokens__token_id=actor.token_id).first()
    else:
        raise PermissionDenied()
    if program is None:
        raise NotFound(_("No program has this code."))
    return program


def _purpose(actor: Actor, program: Program) -> str:
    if actor.can(Perm.PROGRAM_ACCESS):
        return program.purpose
    return actor.purpose or "administration"


# ---------------------------------------------------------------------------------------------
# Programs


def _validate(values: Mapping[str, Any], current: Program | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    out = dict(values)
    if "threshold" in out:
        t = out["threshold"]
        if not isinstance(t, int | float) or not math.isfinite(t) or not (
                THRESHOLD_RANGE[0] <= t <= THRESHOLD_RANGE[1]):
            errors.append(FieldError("threshold", "out_of_range", _(
                "The threshold is a number between %(low)s and %(high)s.")
                % {"low": THRESHOLD_RANGE[0], "high": THRESHOLD_RANGE[1]}))
        else:
            out["threshold"] = float(t)
    if "comparison" in out and out["comparison"] not in Comparison.values:
        errors.append(FieldError("comparison", "invalid_choice",
                                 _('The comparison is "<" or "<=".')))
    if "status" in out and out["status"] not in Program.Status.values:
        errors.append(FieldError("status", "invalid_choice", _("This status is not known.")))
    minimum = out.get("benefit_minimum", current.benefit_minimum if current else 0)
    cap = out.get("benefit_cap", current.benefit_cap if current else None)
    if cap is not None and minimum is not None and cap < minimum:
        errors.append(FieldError("benefit_cap", "below_minimum",
                                 _("The cap cannot be below the minimum.")))
    if errors:
        raise ValidationFailed(fields=errors)
    if "conditions" in out:
        parsed = cond.validate(list(out["conditions"] or []))
        out["conditions"] = [{"key": c.key, "expression": c.expression} for c in parsed]
    return out


def _after_rules_change(program: Program) -> None:
    from sijill.programs.tasks import redecide_program_task

    pk = program.pk
    transaction.on_commit(lambda: redecide_program_task.enqueue(program_id=pk, reason="rules"))


def program_create(*, actor: Actor, code: str, values: Mapping[str, Any]) -> Program:
    actor.require(Perm.PROGRAM_MANAGE)
    data = _validate(values, None)
    with transaction.atomic():
        if Program.objects.filter(code=code).exists():
            raise Conflict(_("A program already has this code."))
        try:
            with transaction.atomic():
                program = Program.objects.create(code=code, updated_by=actor.label, **data)
        except IntegrityError as exc:
            raise Conflict(_("A program already has this code.")) from exc
        audit_record(actor=actor, action="create", entity="program", entity_id=program.pk,
                     detail={"code": code, "threshold": program.threshold,
                             "comparison": program.comparison})
        _after_rules_change(program)
    return program


def program_update(*, actor: Actor, code: str, values: Mapping[str, Any]) -> Program:
    """Change a program; a change of its rules (threshold, comparison, conditions) bumps its
    rules version and re-decides every household in the background."""
    actor.require(Perm.PROGRAM_MANAGE)
    with transaction.atomic():
        program = Program.objects.select_for_update().filter(code=code).first()
        if program is None:
            raise NotFound(_("No program has this code."))
        data = _validate({k: v for k, v in values.items() if k in EDITABLE}, program)
        rules_changed = any(k in data and data[k] != getattr(program, k) for k in RULE_FIELDS)
        reopened = data.get("status") not in (None, program.status)
        for k, v in data.items():
            setattr(program, k, v)
        if rules_changed:
            program.rules_version += 1
        program.updated_by = actor.label
        program.save()
        audit_record(actor=actor, action="update", entity="program", entity_id=program.pk,
                     detail={"code": code, "changed": sorted(data),
                             "rules_version": program.rules_version})
        if rules_changed or reopened:
            _after_rules_change(program)
    return program


def program_list(*, actor: Actor) -> list[Program]:
    if not (actor.can(Perm.PROGRAM_MANAGE) or actor.can(Perm.PROGRAM_SIMULATE)):
        raise PermissionDenied()
    return list(Program.objects.order_by("code"))


def program_read(*, actor: Actor, code: str) -> Program:
    """A program's rules: administrators and analysts (any program), a program (its own)."""
    if actor.can(Perm.PROGRAM_SIMULATE) and not actor.can(Perm.PROGRAM_MANAGE):
        program = Program.objects.filter(code=code).first()
        if program is None:
            raise NotFound(_("No program has this code."))
        return program
    return program_for(actor, code)


def program_simulate(*, actor: Actor, code: str, threshold: float | None = None,
                     budget: float | None = None, comparison: str | None = None,
                     bins: int = 40) -> dict[str, Any]:
    """The targeting simulator (aggregates only): analysts and administrators."""
    from sijill.programs import simulator

    if not (actor.can(Perm.PROGRAM_SIMULATE) or actor.can(Perm.PROGRAM_MANAGE)):
        raise PermissionDenied()
    program = Program.objects.filter(code=code).first()
    if program is None:
        raise NotFound(_("No program has this code."))
    return simulator.simulate(program, threshold=threshold, budget=budget,
                              comparison=comparison, bins=bins)


def program_token_create(*, actor: Actor, code: str, name: str) -> tuple[ProgramToken, str]:
    """A bearer token for one program (role `program`, the program's purpose); raw key once."""
    actor.require(Perm.PROGRAM_MANAGE)
    with transaction.atomic():
        program = Program.objects.filter(code=code).first()
        if program is None:
            raise NotFound(_("No program has this code."))
        token, raw = token_create(name=name, role="program", purpose=program.purpose)
        binding = ProgramToken.objects.create(token=token, program=program)
        audit_record(actor=actor, action="create_token", entity="program", entity_id=program.pk,
                     detail={"code": code, "token": token.pk})
    return binding, raw


# ---------------------------------------------------------------------------------------------
# Eligibility reads


EligibilityStatus = Literal["eligible", "not_eligible", "pending", "not_registered"]


@dataclass(frozen=True)
class EligibilityView:
    program: Program
    idcs: str
    status: EligibilityStatus
    household: str | None = None
    decision: EligibilityDecision | None = None


def _household_of(idcs: str) -> Household | None:
    person = Person.objects.filter(idcs=idcs).only("pk").first()
    if person is None:
        return None
    return (Household.objects.filter(memberships__person=person,
                                     memberships__end_date__isnull=True)
            .only("pk", "reference").first())


def eligibility_by_idcs(*, actor: Actor, code: str, idcs: str) -> EligibilityView:
    """A program asks whether the household of a person is eligible (audited)."""
    program = program_for(actor, code)
    household = _household_of(idcs)
    decision = None
    status: EligibilityStatus
    if household is None:
        status = "not_registered"
    else:
        decision = EligibilityDecision.objects.filter(program=program, household=household,
                                                      current=True).first()
        if decision is None:
            status = "pending"
        else:
            status = "eligible" if decision.eligible else "not_eligible"
    audit_record(actor=actor, action="read_eligibility", entity="program",
                 entity_id=program.pk, subject=idcs, purpose=_purpose(actor, program),
                 detail={"program": program.code, "status": status,
                         "household": household.reference if household else None,
                         "decision": decision.pk if decision else None,
                         "score_revealed": program.reveals_score})
    return EligibilityView(program=program, idcs=idcs, status=status,
                           household=household.reference if household else None,
                           decision=decision)


def decision_history(*, actor: Actor, code: str, idcs: str) -> list[EligibilityDecision]:
    """Every decision on the person's household for the program, newest first (audited)."""
    program = program_for(actor, code)
    household = _household_of(idcs)
    if household is None:
        raise NotFound(_("No registered household has a member with this IDCS."))
    rows = list(EligibilityDecision.objects.filter(program=program, household=household)
                .order_by("-decided_at", "-id")[:200])
    audit_record(actor=actor, action="read_eligibility_history", entity="program",
                 entity_id=program.pk, subject=idcs, purpose=_purpose(actor, program),
                 detail={"program": program.code, "household": household.reference,
                         "decisions": len(rows)})
    return rows


ELIGIBLE_COLUMNS = ("cursor", "household", "head_idcs", "score", "provisional", "decided_at")


def _eligible_rows(program: Program, *, after: int, limit: int) -> list[tuple[Any, ...]]:
    sql = ("SELECT d.household_id, h.reference, p.idcs, d.score_value, d.provisional,"
           " d.decided_at FROM programs_eligibilitydecision d"
           " JOIN households_household h ON h.id = d.household_id"
           " LEFT JOIN population_person p ON p.id = h.head_id"
           " WHERE d.program_id = %s AND d.current AND d.eligible AND d.household_id > %s"
           " ORDER BY d.household_id LIMIT %s")
    with connection.cursor() as cur:
        cur.execute(sql, [program.pk, after, limit])
        return cur.fetchall()


@dataclass(frozen=True)
class EligiblePage:
    program: Program
    items: list[dict[str, Any]]
    next_cursor: int | None


def _item(program: Program, row: tuple[Any, ...]) -> dict[str, Any]:
    _hid, reference, idcs, score, provisional, decided_at = row
    item: dict[str, Any] = {"household": reference, "head_idcs": idcs,
                            "decided_at": decided_at}
    if program.reveals_score:
        item["score"] = score
        item["provisional"] = bool(provisional)
    return item


def eligible_page(*, actor: Actor, code: str, after: int = 0, limit: int = 100,
                  ) -> EligiblePage:
    """A page of the program's eligible households, in a stable order (keyset cursor)."""
    program = program_for(actor, code)
    limit = max(1, min(limit, 1000))
    rows = _eligible_rows(program, after=after, limit=limit)
    audit_record(actor=actor, action="list_eligible", entity="program", entity_id=program.pk,
                 purpose=_purpose(actor, program),
                 detail={"program": program.code, "after": after, "count": len(rows)})
    next_cursor = int(rows[-1][0]) if len(rows) == limit else None
    return EligiblePage(program=program, items=[_item(program, r) for r in rows],
                        next_cursor=next_cursor)


def eligible_export(*, actor: Actor, code: str, chunk: int = 5000,
                    ) -> tuple[Program, Iterator[dict[str, Any]]]:
    """Every eligible household, streamed chunk by chunk (the export is audited once, when it
    starts)."""
    program = program_for(actor, code)
    audit_record(actor=actor, action="export_eligible", entity="program", entity_id=program.pk,
                 purpose=_purpose(actor, program), detail={"program": program.code})

    def rows() -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            batch = _eligible_rows(program, after=after, limit=chunk)
            for r in batch:
                yield _item(program, r)
            if len(batch) < chunk:
                return
            after = int(batch[-1][0])

    return program, rows()


# ---------------------------------------------------------------------------------------------
# Applications (enrolment is the program's act, distinct from eligibility)


def application_create(*, actor: Actor, code: str, idcs: str, status: str = "applied",
                       note: str = "") -> ProgramApplication:
    program = program_for(actor, code)
    if status not in ("applied", "enrolled"):
        raise ValidationFailed.single("status", "invalid_choice",
                                      _("A new application is applied or enrolled."))
    household = _household_of(idcs)
    if household is None:
        raise NotFound(_("No registered household has a member with this IDCS."))
    with transaction.atomic():
        decision = EligibilityDecision.objects.filter(program=program, household=household,
                                                      current=True).first()
        if decision is None or not decision.eligible:
            raise Conflict(_("This household is not eligible for this program."),
                           extra={"reason": "not_eligible"})
        try:
            with transaction.atomic():
                app = ProgramApplication.objects.create(
                    program=program, household=household, status=status, decision=decision,
                    note=note, updated_by=actor.label)
        except IntegrityError as exc:
            raise Conflict(_("This household already has an open application to this "
                             "program.")) from exc
        audit_record(actor=actor, action="create_application", entity="program_application",
                     entity_id=app.pk, subject=idcs, purpose=_purpose(actor, program),
                     detail={"program": program.code, "household": household.reference,
                             "status": status, "decision": decision.pk})
    return app


_APP_TRANSITIONS = {
    "applied": {"enrolled", "refused", "withdrawn"},
    "enrolled": {"ended", "withdrawn"},
}


def application_update(*, actor: Actor, code: str, pk: int, status: str,
                       note: str = "") -> ProgramApplication:
    program = program_for(actor, code)
    with transaction.atomic():
        app = (ProgramApplication.objects.select_for_update()
               .filter(pk=pk, program=program).first())
        if app is None:
            raise NotFound()
        if status not in _APP_TRANSITIONS.get(app.status, set()):
            raise Conflict(_("An application cannot go from %(from)s to %(to)s.")
                           % {"from": app.status, "to": status})
        if status == "enrolled":
            decision = EligibilityDecision.objects.filter(
                program=program, household_id=app.household_id, current=True).first()
            if decision is None or not decision.eligible:
                raise Conflict(_("This household is not eligible for this program."),
                               extra={"reason": "not_eligible"})
            app.decision = decision
        app.status, app.updated_by = status, actor.label
        if note:
            app.note = note
        app.save()
        audit_record(actor=actor, action="update_application", entity="program_application",
                     entity_id=app.pk, purpose=_purpose(actor, program),
                     detail={"program": program.code, "status": status})
    return app


# ---------------------------------------------------------------------------------------------
# Subscriptions


def subscription_create(*, actor: Actor, code: str, url: str) -> Subscription:
    program = program_for(actor, code)
    if not url.startswith("https://") and not url.startswith("http://"):
        raise ValidationFailed.single("url", "invalid_url", _("The URL must be http(s)."))
    with transaction.atomic():
        sub = Subscription.objects.create(program=program, url=url,
                                          secret=webhooks.new_secret(), created_by=actor.label)
        audit_record(actor=actor, action="subscribe", entity="program", entity_id=program.pk,
                     purpose=_purpose(actor, program),
                     detail={"program": program.code, "subscription": sub.pk})
    return sub


def subscription_list(*, actor: Actor, code: str) -> list[Subscription]:
    program = program_for(actor, code)
    return list(Subscription.objects.filter(program=program, active=True).order_by("pk"))


def subscription_delete(*, actor: Actor, code: str, pk: int) -> None:
    program = program_for(actor, code)
    with transaction.atomic():
        updated = Subscription.objects.filter(pk=pk, program=program, active=True).update(
            active=False)
        if not updated:
            raise NotFound()
        audit_record(actor=actor, action="unsubscribe", entity="program", entity_id=program.pk,
                     purpose=_purpose(actor, program),
                     detail={"program": program.code, "subscription": pk})


def as_datetime(value: Any) -> datetime | None:
    """A decided_at read by a raw cursor (SQLite gives text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
