"""Citizen services API (/api/v1): tracking, declared changes, score reviews, complaints.

- `/me/household`, `/me/household/history`, `/me/complaints`: the signed-in citizen's own.
- `/households/{reference}/changes`, `/households/{reference}/reviews`: the declarant on the
  portal, or an agent of the household's province on their behalf (centre or phone).
- `/reviews...`: the reviewers' queue and workflow (assignment, evidence, decision).
- `/complaints...`: filing, the agents' and reviewers' queue, assignment, answer.

Writes honour the Idempotency-Key header. No `from __future__ import annotations` here: ninja
resolves the annotations of a view wrapped by @idempotent in the decorator's module.
"""

from datetime import date, datetime
from typing import Literal, cast

from django.http import HttpRequest
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status

from sijill.accounts.actors import Actor
from sijill.accounts.auth import AUTH
from sijill.cases import selectors, services
from sijill.cases.models import Complaint, ComplaintEvent, ReviewEvent, ScoreReview
from sijill.core.api import ErrorOut
from sijill.core.errors import ValidationFailed
from sijill.core.idempotency import idempotent
from sijill.households.api import DeclarationIn
from sijill.households.services import Place
from sijill.scoring.models import Score

router = Router(tags=["citizen services"], auth=AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}

ChannelIn = Literal["portal", "centre", "phone"]


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


# ---------------------------------------------------------------------------------------------
# Output schemas


class MemberBriefOut(Schema):
    idcs: str
    first_name_ar: str
    family_name_ar: str
    first_name_latin: str
    family_name_latin: str
    relationship: str
    start_date: date


class ScoreBriefOut(Schema):
    value: float
    computed_at: datetime
    declaration_version: int
    formula: str
    provisional: bool


class ReviewWindowOut(Schema):
    notified_at: datetime | None = Field(None, description="When the index notice was sent.")
    opens_on: date | None = Field(None, description="Day 0 (Africa/Casablanca).")
    closes_on: date | None = Field(None, description="Last day a review can be asked.")
    open: bool


class ReviewOut(Schema):
    reference: str
    household: str
    status: str
    status_label: str
    decision: str
    channel: str
    reason: str
    requested_at: datetime
    notice_at: datetime
    closes_on: date
    assigned_to: str | None = Field(None, description="The reviewer (staff only).")
    assigned_at: datetime | None
    decided_at: datetime | None
    decision_note: str
    index_reviewed: float | None
    new_version: int | None
    new_index: float | None


class StepOut(Schema):
    kind: str
    label: str
    at: datetime
    actor: str
    note: str
    document_reference: str = ""


class ReviewDetailOut(ReviewOut):
    steps: list[StepOut]


class TrackingOut(Schema):
    reference: str
    status: str
    status_label: str
    commune: str
    commune_name: str
    milieu: str
    registered_at: datetime
    current_version: int
    you_declare: bool
    members: list[MemberBriefOut]
    latest_index: ScoreBriefOut | None
    review_window: ReviewWindowOut
    open_review: ReviewOut | None


class MyHouseholdOut(Schema):
    household: TrackingOut | None = Field(
        None, description="Empty while the citizen belongs to no household.")


class ReviewEventOut(Schema):
    from_status: str
    to_status: str
    at: datetime
    note: str


class ReviewVersionOut(Schema):
    version: int
    reason: str
    created_at: datetime


class ChangeOut(Schema):
    kind: str
    kind_label: str
    version: int
    channel: str
    note: str
    at: datetime


class ComplaintOut(Schema):
    reference: str
    category: str
    category_label: str
    channel: str
    status: str
    status_label: str
    subject: str
    description: str
    complainant_idcs: str
    household: str | None
    filed_at: datetime
    due_on: date
    escalated: bool
    escalated_at: datetime | None
    assigned_to: str | None = Field(None, description="Who handles it (staff only).")
    response: str
    answered_at: datetime | None


class ComplaintDetailOut(ComplaintOut):
    steps: list[StepOut]


class HistoryOut(Schema):
    reference: str
    status: str
    events: list[ReviewEventOut]
    versions: list[ReviewVersionOut]
    scores: list[ScoreBriefOut]
    changes: list[ChangeOut]
    reviews: list[ReviewOut]
    complaints: list[ComplaintOut]


class MyHistoryOut(Schema):
    household: HistoryOut | None = None


def _staff(actor: Actor) -> bool:
    return actor.role != "citizen"


def _score_out(score) -> ScoreBriefOut:  # type: ignore[no-untyped-def]
    return ScoreBriefOut(value=score.value, computed_at=score.computed_at,
                         declaration_version=score.declaration.version,
                         formula=score.formula.label, provisional=score.provisional)


def _review_out(review: ScoreReview, actor: Actor) -> ReviewOut:
    return ReviewOut(**_review_fields(review, actor))


def _review_fields(review: ScoreReview, actor: Actor) -> dict:  # type: ignore[type-arg]
    return dict(
        reference=review.reference, household=review.household.reference,
        status=review.status, status_label=str(review.get_status_display()),
        decision=review.decision, channel=review.channel, reason=review.reason,
        requested_at=review.requested_at, notice_at=review.notice_at,
        closes_on=review.closes_on,
        assigned_to=(review.assigned_to.username if review.assigned_to and _staff(actor)
                     else None),
        assigned_at=review.assigned_at, decided_at=review.decided_at,
        decision_note=review.decision_note,
        index_reviewed=cast(Score, review.score).value if review.score_id else None,
        new_version=review.new_version,
        new_index=cast(Score, review.new_score).value if review.new_score_id else None)


def _review_detail(review: ScoreReview, actor: Actor) -> ReviewDetailOut:
    steps = [StepOut(kind=e.kind, label=str(e.get_kind_display()), at=e.at,
                     actor=e.actor_label if _staff(actor) else "", note=e.note,
                     document_reference=e.document_reference)
             for e in ReviewEvent.objects.filter(review=review).order_by("at", "id")]
    return ReviewDetailOut(**_review_fields(review, actor), steps=steps)


def _complaint_fields(c: Complaint, actor: Actor) -> dict:  # type: ignore[type-arg]
    return dict(
        reference=c.reference, category=c.category,
        category_label=str(c.get_category_display()), channel=c.channel, status=c.status,
        status_label=str(c.get_status_display()), subject=c.subject,
        description=c.description, complainant_idcs=c.complainant.idcs,
        household=c.household.reference if c.household else None, filed_at=c.filed_at,
        due_on=c.due_on, escalated=c.escalated_at is not None, escalated_at=c.escalated_at,
        assigned_to=c.assigned_to.username if c.assigned_to and _staff(actor) else None,
        response=c.response, answered_at=c.answered_at)


def _complaint_out(c: Complaint, actor: Actor) -> ComplaintOut:
    return ComplaintOut(**_complaint_fields(c, actor))


def _complaint_detail(c: Complaint, actor: Actor) -> ComplaintDetailOut:
    steps = [StepOut(kind=e.kind, label=str(e.get_kind_display()), at=e.at,
                     actor=e.actor_label if _staff(actor) else "",
                     note=e.note if (_staff(actor) or e.kind == "answered") else "")
             for e in ComplaintEvent.objects.filter(complaint=c).order_by("at", "id")]
    return ComplaintDetailOut(**_complaint_fields(c, actor), steps=steps)


def _tracking_out(t: selectors.Tracking, actor: Actor) -> TrackingOut:
    h = t.household
    w = t.window
    return TrackingOut(
        reference=h.reference, status=h.status, status_label=str(h.get_status_display()),
        commune=h.commune_id, commune_name=h.commune.name, milieu=h.milieu,
        registered_at=h.created_at, current_version=h.current_version,
        you_declare=t.you_declare,
        members=[MemberBriefOut(idcs=m.person.idcs, first_name_ar=m.person.first_name_ar,
                                family_name_ar=m.person.family_name_ar,
                                first_name_latin=m.person.first_name_latin,
                                family_name_latin=m.person.family_name_latin,
                                relationship=m.relationship, start_date=m.start_date)
                 for m in t.members],
        latest_index=_score_out(t.latest_score) if t.latest_score else None,
        review_window=ReviewWindowOut(notified_at=w.notice_at, opens_on=w.opens_on,
                                      closes_on=w.closes_on, open=w.open),
        open_review=_review_out(t.open_review, actor) if t.open_review else None)


def _history_out(h: selectors.History, actor: Actor) -> HistoryOut:
    return HistoryOut(
        reference=h.household.reference, status=h.household.status,
        events=[ReviewEventOut(from_status=e.from_status, to_status=e.to_status, at=e.at,
                         note=e.note) for e in h.events],
        versions=[ReviewVersionOut(version=v.version, reason=v.reason, created_at=v.created_at)
                  for v in h.versions],
        scores=[_score_out(s) for s in h.scores],
        changes=[ChangeOut(kind=c.kind, kind_label=str(c.get_kind_display()), version=c.version,
                           channel=c.channel, note=c.note, at=c.at) for c in h.changes],
        reviews=[_review_out(r, actor) for r in h.reviews],
        complaints=[_complaint_out(c, actor) for c in h.complaints])


# ---------------------------------------------------------------------------------------------
# The citizen's own


@router.get("/me/household", response={200: MyHouseholdOut, **ERRORS},
            summary="My household: status, members, latest index, review window")
def my_household(request: HttpRequest):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    tracking = selectors.my_household_track(actor=actor)
    return MyHouseholdOut(household=_tracking_out(tracking, actor) if tracking else None)


@router.get("/me/household/history", response={200: MyHistoryOut, **ERRORS},
            summary="My household's history: status steps, versions, index dates, changes, "
                    "reviews, my complaints")
def my_household_history(request: HttpRequest):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    history = selectors.my_household_history(actor=actor)
    return MyHistoryOut(household=_history_out(history, actor) if history else None)


@router.get("/me/complaints", response={200: list[ComplaintOut], **ERRORS},
            summary="My complaints, latest first")
def my_complaints(request: HttpRequest):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    return [_complaint_out(c, actor) for c in selectors.my_complaints(actor=actor)]


# ---------------------------------------------------------------------------------------------
# Declared changes


class ChangeIn(DeclarationIn):
    kind: Literal["birth", "death", "move", "job", "purchase", "other"]
    note: str = Field("", max_length=500)
    channel: ChannelIn | None = Field(None, description="Staff: centre (default) or phone.")


def _correction(payload: DeclarationIn) -> services.Correction:
    place = None
    if payload.commune or payload.milieu or payload.address:
        if not (payload.commune and payload.milieu and payload.address):
            raise ValidationFailed.single(
                "commune", "incomplete_place",
                gettext_lazy("A move gives the commune, the milieu and the address together."))
        place = Place(commune=payload.commune, milieu=payload.milieu.value,
                      address=payload.address)
    return services.Correction(declaration=payload.to_declaration(),
                               declarant_idcs=payload.declarant_idcs,
                               moving=frozenset(payload.moving), place=place)


@router.post("/households/{reference}/changes", response={201: ChangeOut, **ERRORS},
             summary="Declare a change (birth, death, move, job, purchase): the updated "
                     "declaration becomes a new version, reverified and rescored")
@idempotent
def declare_change(request: HttpRequest, reference: str, payload: ChangeIn):  # type: ignore[no-untyped-def]
    change = services.change_declare(actor=_actor(request), reference=reference,
                                     kind=payload.kind, correction=_correction(payload),
                                     note=payload.note, channel=payload.channel)
    return Status(201, ChangeOut(kind=change.kind, kind_label=str(change.get_kind_display()),
                          version=change.version, channel=change.channel, note=change.note,
                          at=change.at))


# ---------------------------------------------------------------------------------------------
# Score reviews


class ReviewRequestIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000)
    channel: ChannelIn | None = Field(None, description="Staff: centre (default) or phone.")


@router.post("/households/{reference}/reviews", response={201: ReviewDetailOut, **ERRORS},
             summary="Ask for a review of the index (within 60 days of the index notice)")
@idempotent
def request_review(request: HttpRequest, reference: str, payload: ReviewRequestIn):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    review = services.review_request(actor=actor, reference=reference, reason=payload.reason,
                                     channel=payload.channel)
    return Status(201, _review_detail(review, actor))


@router.get("/households/{reference}/reviews", response={200: list[ReviewOut], **ERRORS},
            summary="The household's reviews")
def household_reviews(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    return [_review_out(r, actor)
            for r in selectors.household_reviews(actor=actor, reference=reference)]


class ReviewQueueQuery(Schema):
    status: Literal["requested", "assigned", "decided"] | None = None
    open: bool = Field(False, description="Requested or assigned only.")
    mine: bool = Field(False, description="Assigned to me.")
    unassigned: bool = False
    province: str | None = Field(None, max_length=12)
    household: str | None = Field(None, max_length=12)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("/reviews", response={200: list[ReviewOut], **ERRORS},
            summary="Reviewers' queue (agents: their centre's provinces), oldest first")
def review_queue(request: HttpRequest, q: Query[ReviewQueueQuery]):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    rows = selectors.review_queue(actor=actor, status=q.status, open_only=q.open,
                                  assigned_to_me=q.mine, unassigned=q.unassigned,
                                  province=q.province, household=q.household, limit=q.limit,
                                  offset=q.offset)
    return [_review_out(r, actor) for r in rows]


@router.get("/reviews/{review_ref}", response={200: ReviewDetailOut, **ERRORS},
            summary="A review with every recorded step")
def review_detail(request: HttpRequest, review_ref: str):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    return _review_detail(selectors.review_read(actor=actor, reference=review_ref), actor)


class AssignIn(Schema):
    assignee: str | None = Field(None, max_length=150,
                                 description="Username; empty: assign to myself.")


@router.post("/reviews/{review_ref}/assignment", response={200: ReviewDetailOut, **ERRORS},
             summary="Assign the review to a reviewer (default: myself)")
@idempotent
def assign_review(request: HttpRequest, review_ref: str, payload: AssignIn):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    review = services.review_assign(actor=actor, reference=review_ref,
                                    assignee=payload.assignee)
    return _review_detail(review, actor)


class EvidenceIn(Schema):
    note: str = Field("", max_length=2000)
    document_reference: str = Field("", max_length=200,
                                    description="Reference of a document held elsewhere.")


@router.post("/reviews/{review_ref}/evidence", response={201: ReviewDetailOut, **ERRORS},
             summary="Add evidence to an open review (a note, a document reference)")
@idempotent
def add_evidence(request: HttpRequest, review_ref: str, payload: EvidenceIn):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    event = services.review_add_evidence(actor=actor, reference=review_ref, note=payload.note,
                                         document_reference=payload.document_reference)
    return Status(201, _review_detail(event.review, actor))


class ReviewDecisionIn(Schema):
    decision: Literal["confirmed", "corrected"]
    note: str = Field(..., min_length=1, max_length=2000)
    declaration: DeclarationIn | None = Field(
        None, description="With 'corrected': the corrected declaration (a new version).")


@router.post("/reviews/{review_ref}/decision", response={200: ReviewDetailOut, **ERRORS},
             summary="Decide: confirm the index, or correct the data and rescore")
@idempotent
def decide_review(request: HttpRequest, review_ref: str, payload: ReviewDecisionIn):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    review = services.review_decide(
        actor=actor, reference=review_ref, decision=payload.decision, note=payload.note,
        correction=_correction(payload.declaration) if payload.declaration else None)
    return _review_detail(review, actor)


# ---------------------------------------------------------------------------------------------
# Complaints


class ComplaintIn(Schema):
    category: Literal["registration", "score", "verification", "personal_data",
                      "centre_conduct", "other"]
    subject: str = Field(..., min_length=1, max_length=200)
    description: str = Field(..., min_length=1, max_length=4000)
    channel: ChannelIn | None = Field(None, description="Staff: centre (default) or phone.")
    complainant_idcs: str | None = Field(None, max_length=10,
                                         description="Staff: the person who complains.")
    household_reference: str | None = Field(None, max_length=12)


@router.post("/complaints", response={201: ComplaintDetailOut, **ERRORS},
             summary="File a complaint (portal, centre, phone)")
@idempotent
def file_complaint(request: HttpRequest, payload: ComplaintIn):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    complaint = services.complaint_file(
        actor=actor, category=payload.category, subject=payload.subject,
        description=payload.description, channel=payload.channel,
        complainant_idcs=payload.complainant_idcs,
        household_reference=payload.household_reference)
    return Status(201, _complaint_detail(complaint, actor))


class ComplaintQueueQuery(Schema):
    status: Literal["received", "assigned", "answered"] | None = None
    open: bool = Field(False, description="Not answered yet.")
    category: Literal["registration", "score", "verification", "personal_data",
                      "centre_conduct", "other"] | None = None
    channel: ChannelIn | None = None
    escalated: bool | None = None
    mine: bool = Field(False, description="Assigned to me.")
    unassigned: bool = False
    province: str | None = Field(None, max_length=12)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("/complaints", response={200: list[ComplaintOut], **ERRORS},
            summary="Complaints queue (agents: their centre's provinces), earliest deadline "
                    "first")
def complaint_queue(request: HttpRequest, q: Query[ComplaintQueueQuery]):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    rows = selectors.complaint_queue(
        actor=actor, status=q.status, open_only=q.open, category=q.category,
        channel=q.channel, escalated=q.escalated, assigned_to_me=q.mine,
        unassigned=q.unassigned, province=q.province, limit=q.limit, offset=q.offset)
    return [_complaint_out(c, actor) for c in rows]


@router.get("/complaints/{complaint_ref}", response={200: ComplaintDetailOut, **ERRORS},
            summary="A complaint with its steps")
def complaint_detail(request: HttpRequest, complaint_ref: str):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    return _complaint_detail(selectors.complaint_read(actor=actor, reference=complaint_ref),
                             actor)


@router.post("/complaints/{complaint_ref}/assignment",
             response={200: ComplaintDetailOut, **ERRORS},
             summary="Assign the complaint (default: to myself)")
@idempotent
def assign_complaint(request: HttpRequest, complaint_ref: str, payload: AssignIn):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    complaint = services.complaint_assign(actor=actor, reference=complaint_ref,
                                          assignee=payload.assignee)
    return _complaint_detail(complaint, actor)


class AnswerIn(Schema):
    response: str = Field(..., min_length=1, max_length=4000)


@router.post("/complaints/{complaint_ref}/answer", response={200: ComplaintDetailOut, **ERRORS},
             summary="Answer the complaint (the answer is sent to the complainant)")
@idempotent
def answer_complaint(request: HttpRequest, complaint_ref: str, payload: AnswerIn):  # type: ignore[no-untyped-def]
    actor = _actor(request)
    complaint = services.complaint_answer(actor=actor, reference=complaint_ref,
                                          response=payload.response)
    return _complaint_detail(complaint, actor)
