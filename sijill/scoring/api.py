"""Scoring API (/api/v1/): a household's index and its explanation; formula versions (list,
detail, YAML import and export, impact report, activation); progress of scoring runs.

A household's index is read by the household's own citizen, the agents of its province and
administrators (others get 404 for a household they may not see). Formula management and impact
reports are for analysts and administrators and hold aggregates only; activation is for
administrators.

No `from __future__ import annotations` here: ninja resolves the annotations of a view wrapped
by @idempotent in the decorator's module, where the schema names are unknown.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import translation
from ninja import Field, Router, Schema, Status

from sijill.accounts.auth import AUTH
from sijill.core.api import ErrorOut
from sijill.core.idempotency import idempotent
from sijill.scoring import selectors, services
from sijill.scoring.models import FormulaVersion, ScoringRun

router = Router(tags=["scoring"], auth=AUTH)
Id = Annotated[int, Field(ge=1, le=2**62)]
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}


class ScoreVariableOut(Schema):
    key: str
    label: str
    value: float
    coefficient: float
    contribution: float
    source: str
    verified_by: list[str]
    provisional: bool


class ScoreOut(Schema):
    household: str
    score: float
    formula: str
    formula_id: int
    declaration_version: int
    current: bool = Field(..., description="Computed from the current declaration with the "
                                           "active formula.")
    computed_at: datetime
    milieu: str
    region: str
    constant: float
    region_term: float
    provisional: bool
    provisional_variables: list[str]
    variables: list[ScoreVariableOut] | None = Field(
        None, description="Every variable (staff only; a citizen reads the explanation).")


class ScoreExplanationItemOut(Schema):
    key: str
    label: str
    direction: Literal["raised", "lowered", "none"]
    contribution: float
    provisional: bool
    value: float | None = None
    coefficient: float | None = None
    source: str | None = None
    verified_by: list[str] | None = None
    verified_by_names: list[str] = Field(
        default_factory=list, description="Verified over declared: the partner bodies whose "
                                          "values fed this variable, by name.")


class ScoreExplanationOut(Schema):
    household: str
    language: str
    audience: Literal["citizen", "agent"]
    score: float
    formula: str
    declaration_version: int
    current: bool
    computed_at: datetime
    milieu: str
    region: str
    region_name: str
    baseline: float = Field(..., description="Milieu constant plus region term.")
    constant: float
    region_term: float
    raised: list[ScoreExplanationItemOut]
    lowered: list[ScoreExplanationItemOut]
    items: list[ScoreExplanationItemOut]
    provisional: bool
    provisional_variables: list[str]
    provisional_notice: str | None
    basis: int = Field(0, description="Revision of the verified values (0: declared only).")
    unverified: list[str] = Field(
        default_factory=list, description="Fields no partner confirmed by the verification "
                                          "deadline: their declared values count.")


class FormulaOut(Schema):
    id: int
    identifier: str
    version: str
    name: str
    status: str
    provisional: bool
    effective_date: date | None
    provenance: dict[str, Any]
    created_at: datetime
    created_by: str
    activated_at: datetime | None
    activated_by: str
    retired_at: datetime | None


class FormulaThresholdOut(Schema):
    program: str
    name: str
    value: float


class FormulaProvisionalOut(Schema):
    milieu: str
    key: str
    assumption: str


class FormulaDetailOut(FormulaOut):
    regions: list[str]
    variables: dict[str, int]
    thresholds: list[FormulaThresholdOut]
    provisional_variables: list[FormulaProvisionalOut]
    choices: dict[str, str]


class FormulaImportIn(Schema):
    yaml: str = Field(..., min_length=1, max_length=2_000_000,
                      description="The formula document (see sijill/scoring/formulas/README.md).")


class FormulaExportOut(Schema):
    id: int
    identifier: str
    version: str
    status: str
    filename: str
    yaml: str


class ImpactThresholdIn(Schema):
    program: str = Field("", max_length=60)
    name: str = Field("", max_length=120)
    value: float


class ImpactReportIn(Schema):
    comparison: Literal["<", "<="] = Field(
        "<", description="Eligible when the index is below (<, the official announcement) or "
                         "at most (<=, the public calculators) the threshold.")
    thresholds: list[ImpactThresholdIn] | None = Field(
        None, max_length=20, description=(
            "Default: every active program's threshold with its own comparison; before any "
            "program exists, the thresholds published with the formula."))
    baseline: int | None = Field(None, ge=1, le=2**62,
                                 description="Default: the active version.")


class ScoringRunOut(Schema):
    id: int
    kind: str
    status: str
    formula: str
    formula_id: int
    baseline: str | None
    params: dict[str, Any]
    total: int
    done: int
    progress: float
    result: dict[str, Any]
    error: str
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None


def _formula_out(fv: FormulaVersion) -> FormulaOut:
    return FormulaOut(id=fv.pk, identifier=fv.identifier, version=fv.version, name=fv.name,
                      status=fv.status, provisional=fv.provisional,
                      effective_date=fv.effective_date, provenance=fv.provenance,
                      created_at=fv.created_at, created_by=fv.created_by,
                      activated_at=fv.activated_at, activated_by=fv.activated_by,
                      retired_at=fv.retired_at)


def _formula_detail(fv: FormulaVersion) -> FormulaDetailOut:
    f = selectors.formula_of(fv)
    return FormulaDetailOut(
        **_formula_out(fv).model_dump(),
        regions=list(f.region_codes),
        variables={m.value: len(model.variables) for m, model in f.milieux.items()},
        thresholds=[FormulaThresholdOut(program=t.program, name=t.name, value=t.value)
                    for t in f.thresholds],
        provisional_variables=[FormulaProvisionalOut(milieu=m.value, key=v.key,
                                              assumption=v.assumption or "")
                               for m, model in f.milieux.items() for v in model.variables
                               if v.provisional],
        choices={c.key: c.text for c in f.choices})


def _run_out(run: ScoringRun) -> ScoringRunOut:
    run = ScoringRun.objects.select_related("formula", "baseline").get(pk=run.pk)
    return ScoringRunOut(id=run.pk, kind=run.kind, status=run.status, formula=run.formula.label,
                  formula_id=run.formula_id,
                  baseline=run.baseline.label if run.baseline else None, params=run.params,
                  total=run.total, done=run.done,
                  progress=(run.done / run.total) if run.total else
                  (1.0 if run.status == ScoringRun.Status.DONE else 0.0),
                  result=run.result, error=run.error, created_at=run.created_at,
                  created_by=run.created_by, started_at=run.started_at,
                  finished_at=run.finished_at)


def _language(lang: str | None) -> str:
    if lang in {"ar", "fr", "en"}:
        return lang
    current = (translation.get_language() or "ar")[:2]
    return current if current in {"ar", "fr", "en"} else "ar"


@router.get("/households/{reference}/score", response={200: ScoreOut, **ERRORS},
            summary="A household's socio-economic index (current, else the latest)")
def score(request: HttpRequest, reference: str, lang: str | None = None):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    view = services.score_read(actor=actor, reference=reference,
                               purpose="answer to the caller's request")
    s = view.score
    variables = None
    if actor.role != "citizen":
        language = _language(lang)
        model = view.formula.model(s.milieu)
        result = services.score_result(s)
        variables = [ScoreVariableOut(key=v.key, label=model.variable(v.key).label.get(language),
                                 value=v.value, coefficient=v.coefficient,
                                 contribution=v.contribution, source=v.source,
                                 verified_by=list(v.verified_by), provisional=v.provisional)
                     for v in result.variables]
    return ScoreOut(household=reference, score=s.value, formula=s.formula.label,
                    formula_id=s.formula_id, declaration_version=s.declaration.version,
                    current=view.current, computed_at=s.computed_at, milieu=s.milieu,
                    region=s.region, constant=s.constant, region_term=s.region_term,
                    provisional=s.provisional, provisional_variables=s.provisional_variables,
                    variables=variables)


@router.get("/households/{reference}/score/explanation",
            response={200: ScoreExplanationOut, **ERRORS},
            summary="What raised and what lowered the index, largest first (ar, fr, en)")
def explanation(request: HttpRequest, reference: str, lang: str | None = None):  # type: ignore[no-untyped-def]
    data = services.score_explanation(actor=request.auth, reference=reference,  # type: ignore[attr-defined]
                                      language=_language(lang),
                                      purpose="answer to the caller's request")
    return ScoreExplanationOut(**data)


@router.get("/scoring/formulas", response={200: list[FormulaOut], **ERRORS},
            summary="Formula versions")
def formulas(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [_formula_out(fv) for fv in services.formula_list(actor=request.auth)]  # type: ignore[attr-defined]


@router.post("/scoring/formulas", response={201: FormulaDetailOut, **ERRORS},
             summary="Import a formula document (YAML) as a new draft version")
@idempotent
def formula_import(request: HttpRequest, payload: FormulaImportIn):  # type: ignore[no-untyped-def]
    fv = services.formula_import(actor=request.auth, text=payload.yaml)  # type: ignore[attr-defined]
    return Status(201, _formula_detail(fv))


@router.get("/scoring/formulas/{pk}", response={200: FormulaDetailOut, **ERRORS},
            summary="A formula version")
def formula_detail(request: HttpRequest, pk: Id):  # type: ignore[no-untyped-def]
    return _formula_detail(services.formula_get(actor=request.auth, pk=pk))  # type: ignore[attr-defined]


@router.get("/scoring/formulas/{pk}/export", response={200: FormulaExportOut, **ERRORS},
            summary="A formula version as a YAML document (re-importable)")
def formula_export(request: HttpRequest, pk: Id):  # type: ignore[no-untyped-def]
    text = services.formula_export(actor=request.auth, pk=pk)  # type: ignore[attr-defined]
    fv = FormulaVersion.objects.get(pk=pk)
    return FormulaExportOut(id=fv.pk, identifier=fv.identifier, version=fv.version,
                            status=fv.status, filename=f"{fv.identifier}-{fv.version}.yaml",
                            yaml=text)


@router.post("/scoring/formulas/{pk}/impact", response={202: ScoringRunOut, **ERRORS},
             summary="Run an impact report of this version against the registry")
@idempotent
def impact(request: HttpRequest, pk: Id, payload: ImpactReportIn):  # type: ignore[no-untyped-def]
    run = services.impact_start(
        actor=request.auth, formula_pk=pk, comparison=payload.comparison,  # type: ignore[attr-defined]
        thresholds=[t.model_dump() for t in payload.thresholds] if payload.thresholds else None,
        baseline_pk=payload.baseline)
    return Status(202, _run_out(run))


@router.post("/scoring/formulas/{pk}/activate", response={202: ScoringRunOut, **ERRORS},
             summary="Activate this version (retires the active one; rescores everyone)")
@idempotent
def activate(request: HttpRequest, pk: Id):  # type: ignore[no-untyped-def]
    run = services.formula_activate(actor=request.auth, pk=pk)  # type: ignore[attr-defined]
    return Status(202, _run_out(run))


@router.get("/scoring/runs", response={200: list[ScoringRunOut], **ERRORS},
            summary="Scoring runs (rescores and impact reports), latest first")
def runs(request: HttpRequest, formula: Id | None = None):  # type: ignore[no-untyped-def]
    return [_run_out(r) for r in services.run_list(actor=request.auth, formula_pk=formula)]  # type: ignore[attr-defined]


@router.get("/scoring/runs/{pk}", response={200: ScoringRunOut, **ERRORS},
            summary="Progress and result of a scoring run")
def run(request: HttpRequest, pk: Id):  # type: ignore[no-untyped-def]
    return _run_out(services.run_get(actor=request.auth, pk=pk))  # type: ignore[attr-defined]


@router.post("/scoring/runs/{pk}/retry", response={202: ScoringRunOut, **ERRORS},
             summary="Queue a failed or finished run again (a rescore resumes)")
@idempotent
def run_retry(request: HttpRequest, pk: Id):  # type: ignore[no-untyped-def]
    return Status(202, _run_out(services.run_retry(actor=request.auth, pk=pk)))  # type: ignore[attr-defined]
