"""Programs API (/api/v1/programs/...).

Administration (administrators): create and change programs (a bad CEL condition is a 422
naming the field, with its line and column), issue a program's token. Analysts and
administrators run the targeting simulator (aggregates only).

A program's own token (bound to that one program; 404 for any other): eligibility by IDCS, the
decision history, the list of eligible households (keyset-paged) and its streamed export
(CSV or NDJSON), applications (enrolment), webhook subscriptions. The index is returned only
to programs whose purpose needs it; the declaration never. Every access is audited with the
program and its purpose.

No `from __future__ import annotations` here: ninja resolves the annotations of a view wrapped
by @idempotent in the decorator's module.
"""

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status

from sijill.accounts.auth import AUTH
from sijill.core.api import ErrorOut
from sijill.core.idempotency import idempotent
from sijill.programs import services
from sijill.programs.models import EligibilityDecision, Program, ProgramApplication, Subscription

router = Router(tags=["programs"], auth=AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}


class ConditionIn(Schema):
    key: str = Field(..., max_length=40, description="lower_snake_case name of the condition")
    expression: str = Field(..., max_length=2000, description="CEL (see SCHEMA.md)")


class BenefitRule(Schema):
    # Defaults by keyword here: mypy reads a pydantic Field's default only as `default=`.
    per_household: int = Field(default=0, ge=0, description="DH a month per eligible household")
    per_child: int = Field(default=0, ge=0, description="DH a month per child")
    child_age: int = Field(default=18, ge=1, le=30, description="A child is younger than this")
    max_children: int | None = Field(default=None, ge=0, description="Children counted at most")
    minimum: int = Field(default=0, ge=0, description="DH a month at least per household")
    cap: int | None = Field(default=None, ge=0, description="DH a month at most per household")


class ProgramFields(Schema):
    name_ar: str = Field(..., max_length=200)
    name_fr: str = Field(..., max_length=200)
    name_en: str = Field(..., max_length=200)
    purpose: str = Field(..., max_length=300)
    reveals_score: bool = False
    threshold: float
    comparison: Literal["<", "<="] = "<"
    conditions: list[ConditionIn] = Field(default_factory=list)
    benefit: BenefitRule = Field(default_factory=BenefitRule)
    budget_monthly_dh: int | None = Field(None, ge=0)
    status: Literal["draft", "active", "suspended", "closed"] = "draft"


class ProgramIn(ProgramFields):
    code: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")


class ProgramPatch(Schema):
    name_ar: str | None = Field(None, max_length=200)
    name_fr: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    purpose: str | None = Field(None, max_length=300)
    reveals_score: bool | None = None
    threshold: float | None = None
    comparison: Literal["<", "<="] | None = None
    conditions: list[ConditionIn] | None = None
    benefit: BenefitRule | None = None
    budget_monthly_dh: int | None = Field(None, ge=0)
    status: Literal["draft", "active", "suspended", "closed"] | None = None


class ProgramOut(Schema):
    code: str
    name_ar: str
    name_fr: str
    name_en: str
    purpose: str
    reveals_score: bool
    threshold: float
    comparison: str
    conditions: list[ConditionIn]
    benefit: BenefitRule
    budget_monthly_dh: int | None
    status: str
    rules_version: int
    updated_at: datetime


def _benefit_values(b: BenefitRule) -> dict[str, Any]:
    return {"benefit_per_household": b.per_household, "benefit_per_child": b.per_child,
            "benefit_child_age": b.child_age, "benefit_max_children": b.max_children,
            "benefit_minimum": b.minimum, "benefit_cap": b.cap}


def _values(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial, exclude={"code"})
    benefit = data.pop("benefit", None)
    if benefit is not None:
        data.update(_benefit_values(BenefitRule(**benefit)))
    if partial:
        data = {k: v for k, v in data.items() if k in payload.model_fields_set
                or k.startswith("benefit_")}
    return data


def _program_out(p: Program) -> ProgramOut:
    return ProgramOut(
        code=p.code, name_ar=p.name_ar, name_fr=p.name_fr, name_en=p.name_en, purpose=p.purpose,
        reveals_score=p.reveals_score, threshold=p.threshold, comparison=p.comparison,
        conditions=[ConditionIn(**c) for c in p.conditions],
        benefit=BenefitRule(per_household=p.benefit_per_household, per_child=p.benefit_per_child,
                            child_age=p.benefit_child_age, max_children=p.benefit_max_children,
                            minimum=p.benefit_minimum, cap=p.benefit_cap),
        budget_monthly_dh=p.budget_monthly_dh, status=p.status, rules_version=p.rules_version,
        updated_at=p.updated_at)


# ---------------------------------------------------------------------------------------------
# Administration


@router.get("/programs", response={200: list[ProgramOut], **ERRORS}, summary="Every program")
def program_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [_program_out(p) for p in services.program_list(actor=request.auth)]  # type: ignore[attr-defined]


@router.post("/programs", response={201: ProgramOut, **ERRORS},
             summary="Create a program (its conditions are checked; a bad one is a 422 with "
                     "its line and column)")
@idempotent
def program_create(request: HttpRequest, payload: ProgramIn):  # type: ignore[no-untyped-def]
    program = services.program_create(actor=request.auth, code=payload.code,  # type: ignore[attr-defined]
                                      values=_values(payload, partial=False))
    return Status(201, _program_out(program))


@router.get("/programs/{code}", response={200: ProgramOut, **ERRORS},
            summary="A program and its rules")
def program_read(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    return _program_out(services.program_read(actor=request.auth, code=code))  # type: ignore[attr-defined]


@router.patch("/programs/{code}", response={200: ProgramOut, **ERRORS},
              summary="Change a program (a rule change re-decides every household)")
@idempotent
def program_update(request: HttpRequest, code: str, payload: ProgramPatch):  # type: ignore[no-untyped-def]
    program = services.program_update(actor=request.auth, code=code,  # type: ignore[attr-defined]
                                      values=_values(payload, partial=True))
    return _program_out(program)


class TokenIn(Schema):
    name: str = Field(..., max_length=120)


class TokenOut(Schema):
    program: str
    name: str
    token: str = Field(..., description="Shown once; stored hashed.")
    purpose: str


@router.post("/programs/{code}/tokens", response={201: TokenOut, **ERRORS},
             summary="Issue the program's API token (bound to this program only)")
def token_create(request: HttpRequest, code: str, payload: TokenIn):  # type: ignore[no-untyped-def]
    binding, raw = services.program_token_create(actor=request.auth, code=code,  # type: ignore[attr-defined]
                                                 name=payload.name)
    return Status(201, TokenOut(program=code, name=payload.name, token=raw,
                         purpose=binding.token.purpose))


# ---------------------------------------------------------------------------------------------
# Simulator


class SimulationIn(Schema):
    threshold: float | None = Field(None, description="Cost of this threshold (default: the "
                                                      "program's)")
    budget: float | None = Field(None, ge=0, description="Or: the threshold this monthly "
                                                        "budget (DH) buys")
    comparison: Literal["<", "<="] | None = None
    bins: int = Field(40, ge=5, le=200)


class BreakdownOut(Schema):
    region: str | None = None
    milieu: str | None = None
    scored: int
    eligible: int
    monthly_cost: int
    coverage: float


class HistogramOut(Schema):
    edges: list[float]
    households: list[int]
    eligible: list[int]
    threshold: float
    threshold_bin: int | None


class SimulationOut(Schema):
    program: str
    comparison: str
    threshold: float
    budget: float | None
    threshold_from_budget: bool
    households_scored: int
    households_meeting_conditions: int
    households_eligible: int
    monthly_cost: int
    annual_cost: int
    within_budget: bool | None
    by_region: list[BreakdownOut]
    by_milieu: list[BreakdownOut]
    by_region_and_milieu: list[BreakdownOut]
    histogram: HistogramOut


@router.post("/programs/{code}/simulations", response={200: SimulationOut, **ERRORS},
             summary="Targeting simulator: cost of a threshold, or the threshold of a budget; "
                     "by region and milieu; the index histogram with the threshold")
def simulate(request: HttpRequest, code: str, payload: SimulationIn):  # type: ignore[no-untyped-def]
    return services.program_simulate(actor=request.auth, code=code,  # type: ignore[attr-defined]
                                     threshold=payload.threshold, budget=payload.budget,
                                     comparison=payload.comparison, bins=payload.bins)


# ---------------------------------------------------------------------------------------------
# A program's own access


class ConditionResultOut(Schema):
    key: str
    met: bool | None


class EligibilityOut(Schema):
    program: str
    idcs: str
    status: Literal["eligible", "not_eligible", "pending", "not_registered"]
    eligible: bool
    household: str | None = None
    index_passes_threshold: bool | None = None
    conditions: list[ConditionResultOut] = Field(default_factory=list)
    score: float | None = Field(default=None,
                                description="Only for programs whose purpose needs it.")
    provisional: bool | None = None
    decided_at: datetime | None = None


def _eligibility_out(view: services.EligibilityView) -> EligibilityOut:
    d: EligibilityDecision | None = view.decision
    out = EligibilityOut(program=view.program.code, idcs=view.idcs, status=view.status,
                         eligible=view.status == "eligible", household=view.household)
    if d is not None:
        out.index_passes_threshold = d.score_ok
        out.conditions = [ConditionResultOut(key=k, met=v) for k, v in d.conditions.items()]
        out.decided_at = d.decided_at
        if view.program.reveals_score:
            out.score, out.provisional = d.score_value, d.provisional
    return out


@router.get("/programs/{code}/eligibility/{idcs}", response={200: EligibilityOut, **ERRORS},
            summary="Is this person's household eligible? (with the conditions' results)")
def eligibility(request: HttpRequest, code: str, idcs: str):  # type: ignore[no-untyped-def]
    return _eligibility_out(services.eligibility_by_idcs(actor=request.auth, code=code,  # type: ignore[attr-defined]
                                                         idcs=idcs))


class EligibilityDecisionOut(Schema):
    eligible: bool
    index_passes_threshold: bool
    conditions: list[ConditionResultOut]
    threshold: float
    comparison: str
    rules_version: int
    reason: str
    current: bool
    decided_at: datetime
    score: float | None = None


@router.get("/programs/{code}/eligibility/{idcs}/history",
            response={200: list[EligibilityDecisionOut], **ERRORS},
            summary="Every decision on this person's household, newest first")
def eligibility_history(request: HttpRequest, code: str, idcs: str):  # type: ignore[no-untyped-def]
    rows = services.decision_history(actor=request.auth, code=code, idcs=idcs)  # type: ignore[attr-defined]
    reveal = bool(rows) and rows[0].program.reveals_score
    return [EligibilityDecisionOut(eligible=d.eligible, index_passes_threshold=d.score_ok,
                        conditions=[ConditionResultOut(key=k, met=v)
                                    for k, v in d.conditions.items()],
                        threshold=d.threshold, comparison=d.comparison,
                        rules_version=d.rules_version, reason=d.reason, current=d.current,
                        decided_at=d.decided_at, score=d.score_value if reveal else None)
            for d in rows]


class EligibleItemOut(Schema):
    household: str
    head_idcs: str | None
    decided_at: datetime
    score: float | None = None
    provisional: bool | None = None


class EligiblePageOut(Schema):
    program: str
    items: list[EligibleItemOut]
    next_cursor: int | None = Field(None, description="Pass as `cursor` for the next page.")


class PageQuery(Schema):
    cursor: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=1000)


@router.get("/programs/{code}/eligible", response={200: EligiblePageOut, **ERRORS},
            summary="The program's eligible households, a page at a time")
def eligible(request: HttpRequest, code: str, q: Query[PageQuery]):  # type: ignore[no-untyped-def]
    page = services.eligible_page(actor=request.auth, code=code, after=q.cursor,  # type: ignore[attr-defined]
                                  limit=q.limit)
    return EligiblePageOut(program=code, next_cursor=page.next_cursor, items=[
        EligibleItemOut(**{**i, "decided_at": services.as_datetime(i["decided_at"])})
        for i in page.items])


class ExportQuery(Schema):
    format: Literal["csv", "ndjson"] = "ndjson"


def _stamp(value: Any) -> str:
    dt = services.as_datetime(value)
    return dt.isoformat() if dt else ""


@router.get("/programs/{code}/eligible/export", response={200: None, **ERRORS},
            summary="Every eligible household, streamed (CSV or NDJSON)")
def eligible_export(request: HttpRequest, code: str, q: Query[ExportQuery]):  # type: ignore[no-untyped-def]
    program, rows = services.eligible_export(actor=request.auth, code=code)  # type: ignore[attr-defined]
    columns = ["household", "head_idcs", "decided_at"]
    if program.reveals_score:
        columns += ["score", "provisional"]

    def ndjson() -> Iterator[bytes]:
        for r in rows:
            r["decided_at"] = _stamp(r["decided_at"])
            yield (json.dumps(r, ensure_ascii=False) + "\n").encode()

    def as_csv() -> Iterator[bytes]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for r in rows:
            r["decided_at"] = _stamp(r["decided_at"])
            writer.writerow([r.get(c) for c in columns])
            if buf.tell() > 64_000:
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue().encode()

    if q.format == "csv":
        response = StreamingHttpResponse(as_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{code}-eligible.csv"'
    else:
        response = StreamingHttpResponse(ndjson(), content_type="application/x-ndjson")
    response["Cache-Control"] = "no-store"
    return response


class ApplicationIn(Schema):
    idcs: str = Field(..., min_length=10, max_length=10)
    status: Literal["applied", "enrolled"] = "applied"
    note: str = Field("", max_length=300)


class ApplicationPatch(Schema):
    status: Literal["enrolled", "refused", "withdrawn", "ended"]
    note: str = Field("", max_length=300)


class ApplicationOut(Schema):
    id: int
    program: str
    household: str
    status: str
    note: str
    created_at: datetime
    updated_at: datetime


def _application_out(a: ProgramApplication, code: str) -> ApplicationOut:
    return ApplicationOut(id=a.pk, program=code, household=a.household.reference,
                          status=a.status, note=a.note, created_at=a.created_at,
                          updated_at=a.updated_at)


@router.post("/programs/{code}/applications", response={201: ApplicationOut, **ERRORS},
             summary="Enrol (or register the application of) an eligible household")
@idempotent
def application_create(request: HttpRequest, code: str, payload: ApplicationIn):  # type: ignore[no-untyped-def]
    app = services.application_create(actor=request.auth, code=code, idcs=payload.idcs,  # type: ignore[attr-defined]
                                      status=payload.status, note=payload.note)
    return Status(201, _application_out(app, code))


@router.patch("/programs/{code}/applications/{pk}", response={200: ApplicationOut, **ERRORS},
              summary="Move an application: enrolled, refused, withdrawn, ended")
@idempotent
def application_update(request: HttpRequest, code: str, pk: int, payload: ApplicationPatch):  # type: ignore[no-untyped-def]
    app = services.application_update(actor=request.auth, code=code, pk=pk,  # type: ignore[attr-defined]
                                      status=payload.status, note=payload.note)
    return _application_out(app, code)


class SubscriptionIn(Schema):
    url: str = Field(..., max_length=500)


class SubscriptionOut(Schema):
    id: int
    url: str
    created_at: datetime
    secret: str | None = Field(None, description="The HMAC key; shown once, at creation.")


def _subscription_out(s: Subscription, *, secret: bool = False) -> SubscriptionOut:
    return SubscriptionOut(id=s.pk, url=s.url, created_at=s.created_at,
                           secret=s.secret if secret else None)


@router.post("/programs/{code}/subscriptions", response={201: SubscriptionOut, **ERRORS},
             summary="Subscribe to eligibility changes (signed webhooks, retried)")
def subscription_create(request: HttpRequest, code: str, payload: SubscriptionIn):  # type: ignore[no-untyped-def]
    sub = services.subscription_create(actor=request.auth, code=code, url=payload.url)  # type: ignore[attr-defined]
    return Status(201, _subscription_out(sub, secret=True))


@router.get("/programs/{code}/subscriptions", response={200: list[SubscriptionOut], **ERRORS},
            summary="The program's active subscriptions")
def subscription_list(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    return [_subscription_out(s) for s in services.subscription_list(actor=request.auth,  # type: ignore[attr-defined]
                                                                     code=code)]


@router.delete("/programs/{code}/subscriptions/{pk}", response={204: None, **ERRORS},
               summary="Unsubscribe")
def subscription_delete(request: HttpRequest, code: str, pk: int):  # type: ignore[no-untyped-def]
    services.subscription_delete(actor=request.auth, code=code, pk=pk)  # type: ignore[attr-defined]
    return Status(204, None)
