"""Duplicate detection API (/api/v1/dedup/...): start a sweep, follow it, work the queue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sijill.accounts.auth import AUTH
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core.api import ErrorOut
from sijill.core.errors import NotFound
from sijill.core.idempotency import idempotent
from sijill.dedup import linkage, services
from sijill.dedup.models import DedupRun, DuplicateCluster

router = Router(tags=["deduplication"], auth=AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}


class DedupRunIn(Schema):
    threshold: float = Field(linkage.RECOMMENDED_THRESHOLD, gt=0, lt=1)


class DedupRunOut(Schema):
    id: int
    status: str
    stage: str
    progress: float
    parameters: dict[str, Any]
    records: int
    pairs: int
    clusters: int
    duplicates: int
    by_band: dict[str, int]
    seconds: dict[str, float]
    error: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def of(run: DedupRun) -> DedupRunOut:
        return DedupRunOut(id=run.pk, status=run.status, stage=run.stage, progress=run.progress,
                      parameters=run.parameters, records=run.records, pairs=run.pairs,
                      clusters=run.clusters, duplicates=run.duplicates, by_band=run.by_band,
                      seconds=run.seconds, error=run.error, created_by=run.created_by,
                      created_at=run.created_at, started_at=run.started_at,
                      finished_at=run.finished_at)


@router.post("/dedup/runs", response={202: DedupRunOut, **ERRORS},
             summary="Start a population-wide duplicate sweep (runs in the background)")
@idempotent
def start(request: HttpRequest, payload: DedupRunIn):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    run = services.run_start(actor=actor,
                             params=linkage.LinkageParams(threshold=payload.threshold))
    return Status(202, DedupRunOut.of(run))


@router.get("/dedup/runs", response={200: list[DedupRunOut], **ERRORS},
            summary="Duplicate sweeps, latest first")
def runs(request: HttpRequest):  # type: ignore[no-untyped-def]
    request.auth.require(Perm.DEDUP_REVIEW)  # type: ignore[attr-defined]
    return [DedupRunOut.of(r) for r in DedupRun.objects.all()[:50]]


@router.get("/dedup/runs/{run_id}", response={200: DedupRunOut, **ERRORS},
            summary="A sweep's progress and report (clusters by confidence band)")
def run(request: HttpRequest, run_id: int):  # type: ignore[no-untyped-def]
    request.auth.require(Perm.DEDUP_REVIEW)  # type: ignore[attr-defined]
    found = DedupRun.objects.filter(pk=run_id).first()
    if found is None:
        raise NotFound()
    return DedupRunOut.of(found)


class DedupMemberOut(Schema):
    idcs: str
    status: str
    match_weight: float
    match_probability: float


class DedupMemberDetailOut(DedupMemberOut):
    first_name_ar: str
    family_name_ar: str
    first_name_latin: str
    family_name_latin: str
    sex: str
    birth_date: date
    birth_year_only: bool
    birth_place_commune: str | None
    has_document: bool
    in_household: bool


class DedupClusterOut(Schema):
    id: int
    run_id: int
    status: str
    band: str
    size: int
    min_probability: float
    max_weight: float
    members: list[DedupMemberOut]
    survivor_idcs: str | None
    decided_by: str
    decided_at: datetime | None


class DedupClusterDetailOut(DedupClusterOut):
    details: list[DedupMemberDetailOut]
    pairs: list[dict[str, Any]]


def _members(cluster: DuplicateCluster) -> list[DedupMemberOut]:
    return [DedupMemberOut(idcs=m.person.idcs, status=m.person.status, match_weight=m.match_weight,
                      match_probability=m.match_probability) for m in cluster.members.all()]


def _cluster_out(cluster: DuplicateCluster) -> DedupClusterOut:
    return DedupClusterOut(id=cluster.pk, run_id=cluster.run_id, status=cluster.status,
                      band=cluster.band, size=cluster.size,
                      min_probability=cluster.min_probability, max_weight=cluster.max_weight,
                      members=_members(cluster),
                      survivor_idcs=cluster.survivor.idcs if cluster.survivor else None,
                      decided_by=cluster.decided_by, decided_at=cluster.decided_at)


class DedupClusterQuery(Schema):
    status: Literal["open", "merged", "distinct", "superseded"] = "open"
    band: Literal["high", "medium", "low"] | None = None
    run_id: int | None = None
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=200)


@router.get("/dedup/clusters", response={200: list[DedupClusterOut], **ERRORS},
            summary="The queue: clusters of probable duplicates, most certain first")
def clusters(request: HttpRequest, q: Query[DedupClusterQuery]):  # type: ignore[no-untyped-def]
    request.auth.require(Perm.DEDUP_REVIEW)  # type: ignore[attr-defined]
    rows = DuplicateCluster.objects.filter(status=q.status).select_related("survivor") \
        .prefetch_related("members__person")
    if q.band:
        rows = rows.filter(band=q.band)
    if q.run_id:
        rows = rows.filter(run_id=q.run_id)
    return [_cluster_out(c) for c in rows.order_by("-min_probability", "id")
            [q.offset:q.offset + q.limit]]


@router.get("/dedup/clusters/{cluster_id}", response={200: DedupClusterDetailOut, **ERRORS},
            summary="A cluster with its members' identities and the evidence for each pair")
def cluster(request: HttpRequest, cluster_id: int, purpose: str = ""):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    actor.require(Perm.DEDUP_REVIEW)
    found = DuplicateCluster.objects.select_related("survivor").prefetch_related(
        "members__person").filter(pk=cluster_id).first()
    if found is None:
        raise NotFound()
    people = [m.person for m in found.members.all()]
    in_household = services.persons_in_household([p.pk for p in people])
    details = [DedupMemberDetailOut(
        idcs=p.idcs, status=p.status, match_weight=m.match_weight,
        match_probability=m.match_probability, first_name_ar=p.first_name_ar,
        family_name_ar=p.family_name_ar, first_name_latin=p.first_name_latin,
        family_name_latin=p.family_name_latin, sex=p.sex, birth_date=p.birth_date,
        birth_year_only=p.birth_year_only, birth_place_commune=p.birth_place_commune_id,
        has_document=bool(p.cnie or p.residence_card), in_household=p.pk in in_household)
        for m, p in zip(found.members.all(), people, strict=True)]
    with transaction.atomic():
        for p in people:
            audit_record(actor=actor, action="read", entity="person", entity_id=p.idcs,
                         subject=p.idcs, purpose=purpose or "duplicate review",
                         detail={"cluster": found.pk})
    base = _cluster_out(found)
    return DedupClusterDetailOut(**base.model_dump(), details=details, pairs=found.pairs)


class DedupDecisionIn(Schema):
    decision: Literal["merge", "distinct"]
    survivor_idcs: str | None = Field(None, max_length=10)
    retire_idcs: list[str] | None = Field(None, max_length=50)
    reason: str = Field("", max_length=300)


@router.post("/dedup/clusters/{cluster_id}/decision", response={200: DedupClusterOut, **ERRORS},
             summary="Merge a cluster (one IDCS survives) or mark its members distinct")
@idempotent
def decide(request: HttpRequest, cluster_id: int, payload: DedupDecisionIn):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    if payload.decision == "merge":
        result = services.cluster_merge(actor=actor, cluster_id=cluster_id,
                                        survivor_idcs=payload.survivor_idcs,
                                        retire_idcs=payload.retire_idcs, reason=payload.reason)
    else:
        result = services.cluster_mark_distinct(actor=actor, cluster_id=cluster_id,
                                                reason=payload.reason)
    return _cluster_out(DuplicateCluster.objects.select_related("survivor")
                        .prefetch_related("members__person").get(pk=result.pk))
