"""Verification API: an agent's discrepancy queue and decisions, a household's verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from sijill.accounts.auth import AUTH
from sijill.core.api import ErrorOut
from sijill.core.idempotency import idempotent
from sijill.verification import selectors, services
from sijill.verification.models import Discrepancy
from sijill.verification.sealed import unseal, unseal_values

router = Router(tags=["verification"], auth=AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}


class DiscrepancyOut(Schema):
    id: int
    household: str
    province: str
    declaration_version: int
    partner: str
    field: str
    person_idcs: str
    declared: Any
    verified: Any
    severity: str
    status: str
    created_at: datetime
    decided_by: str
    decided_at: datetime | None
    note: str

    @staticmethod
    def of(d: Discrepancy) -> DiscrepancyOut:
        return DiscrepancyOut(
            id=d.pk, household=d.household.reference,
            province=d.household.commune.province_id,
            declaration_version=d.verification.declaration.version, partner=d.partner,
            field=d.field, person_idcs=d.person_idcs, declared=unseal(d.field, d.declared),
            verified=unseal(d.field, d.verified),
            severity=d.severity, status=d.status, created_at=d.created_at,
            decided_by=d.decided_by, decided_at=d.decided_at, note=d.note)


class QueueQuery(Schema):
    status: str = "open"
    severity: str | None = None
    household: str | None = None
    limit: int = 50
    offset: int = 0


@router.get("/verification/discrepancies", response={200: list[DiscrepancyOut], **ERRORS},
            summary="Discrepancies to decide (an agent: their centre's provinces)")
def queue(request: HttpRequest, q: Query[QueueQuery]):  # type: ignore[no-untyped-def]
    rows = selectors.discrepancy_queue(
        actor=request.auth, status=q.status, severity=q.severity,  # type: ignore[attr-defined]
        household=q.household, limit=q.limit, offset=q.offset, purpose="discrepancy queue")
    return [DiscrepancyOut.of(d) for d in rows]


class DiscrepancyDecisionIn(Schema):
    # Optional in the schema so the permission is checked before the input (the service
    # answers 422 naming the missing field).
    discrepancy: int | None = None
    decision: str | None = None  # confirm | dismiss
    note: str = ""


@router.post("/verification/discrepancies/decision", response={200: DiscrepancyOut, **ERRORS},
             summary="Decide a discrepancy: confirm the partner's value or keep the declared")
@idempotent
def decide(request: HttpRequest, payload: DiscrepancyDecisionIn):  # type: ignore[no-untyped-def]
    found = services.discrepancy_decide(actor=request.auth,  # type: ignore[attr-defined]
                                        pk=payload.discrepancy, decision=payload.decision,
                                        note=payload.note)
    found = Discrepancy.objects.select_related(
        "household__commune", "verification__declaration").get(pk=found.pk)
    return Status(200, DiscrepancyOut.of(found))


class CheckOut(Schema):
    partner: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    answered_at: datetime | None


class VerificationOut(Schema):
    household: str
    declaration_version: int | None
    status: str | None
    basis: int
    deadline: datetime | None
    concluded_at: datetime | None
    by_deadline: bool
    verified: dict[str, Any]
    unverified: list[str]
    checks: list[CheckOut]
    discrepancies: list[DiscrepancyOut]


@router.get("/households/{reference}/verification", response={200: VerificationOut, **ERRORS},
            summary="A household's verification: partners, verified and unverified fields")
def household_verification(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    view = selectors.household_verification(actor=request.auth,  # type: ignore[attr-defined]
                                            reference=reference, purpose="verification")
    v = view.verification
    for d in view.discrepancies:
        d.household = view.household
    return VerificationOut(
        household=reference, declaration_version=v.declaration.version if v else None,
        status=v.status if v else None, basis=v.basis if v else 0,
        deadline=v.deadline if v else None, concluded_at=v.concluded_at if v else None,
        by_deadline=v.by_deadline if v else False,
        verified=unseal_values(v.values) if v else {},
        unverified=v.unverified if v else [],
        checks=[CheckOut(partner=c.partner, status=c.status, attempts=c.attempts,
                         last_error=c.last_error, next_attempt_at=c.next_attempt_at,
                         answered_at=c.answered_at) for c in view.checks],
        discrepancies=[DiscrepancyOut.of(d) for d in view.discrepancies])
