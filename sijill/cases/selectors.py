"""Reads of citizen services: the review window, tracking, the reviewers' and agents' queues.

Every function that returns personal data takes `actor=` and records the read with
`audit_record`. Visibility follows the households rule: administrators see everything; agents
the households of their centre's provinces; citizens their own household (member or declarant);
reviewers every review and complaint. Anything hidden is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.cases.models import ChangeDeclaration, Complaint, ScoreReview
from sijill.core.errors import NotFound, PermissionDenied
from sijill.households.models import DeclarationVersion, Household, RegistrationEvent
from sijill.scoring.models import Score

#: Review windows and complaint deadlines are counted in calendar days where the registry runs.
REGISTRY_TZ = ZoneInfo("Africa/Casablanca")


def local_date(moment: datetime) -> date:
    """The calendar date in Africa/Casablanca of an aware moment (UTC+1, UTC+0 in Ramadan)."""
    return moment.astimezone(REGISTRY_TZ).date()


def end_of_local_day(day: date) -> datetime:
    """The last instant of a Casablanca calendar day (the start of the next one, exclusive)."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=REGISTRY_TZ)


# ---------------------------------------------------------------------------------------------
# Visibility


def household_visible(actor: Actor, household: Household) -> bool:
    """Administrators: all; agents: their centre's provinces; citizens: their own household;
    reviewers: every household (they review nationally)."""
    if actor.role == "admin":
        return True
    if actor.role == "agent":
        return household.commune.province_id in actor.province_codes
    if actor.role == "citizen":
        return citizen_in_household(actor, household)
    return actor.role == "reviewer"


def citizen_in_household(actor: Actor, household: Household) -> bool:
    return bool(actor.idcs) and (
        household.declarant.idcs == actor.idcs
        or household.memberships.filter(person__idcs=actor.idcs, end_date__isnull=True).exists())


def household_for(*, actor: Actor, reference: str, perm: Perm,
                  lock: bool = False) -> Household:
    """The household if the actor may see it (404 otherwise, existence not revealed)."""
    actor.require(perm)
    rows = Household.objects.select_related("commune__province", "declarant")
    if lock:
        rows = rows.select_for_update(of=("self",))
    household = rows.filter(reference=reference).first()
    if household is None or not household_visible(actor, household):
        raise NotFound(_("No household has this reference."))
    return household


def _reviews_for(actor: Actor) -> QuerySet[ScoreReview]:
    rows = ScoreReview.objects.select_related("household__commune__province",
                                              "household__declarant", "assigned_to")
    if actor.role in ("admin", "reviewer"):
        return rows
    if actor.role == "agent":
        return rows.filter(household__commune__province_id__in=actor.province_codes)
    if actor.role == "citizen" and actor.idcs:
        return rows.filter(Q(household__declarant__idcs=actor.idcs)
                           | Q(household__memberships__person__idcs=actor.idcs,
                               household__memberships__end_date__isnull=True)).distinct()
    return rows.none()


def _complaints_for(actor: Actor) -> QuerySet[Complaint]:
    rows = Complaint.objects.select_related("complainant", "household", "assigned_to")
    if actor.role in ("admin", "reviewer"):
        return rows
    if actor.role == "agent":
        return rows.filter(province_id__in=actor.province_codes)
    if actor.role == "citizen" and actor.idcs:
        return rows.filter(complainant__idcs=actor.idcs)
    return rows.none()


def review_get(*, actor: Actor, reference: str, perm: Perm = Perm.REVIEW_READ,
               lock: bool = False) -> ScoreReview:
    actor.require(perm)
    rows = _reviews_for(actor)
    if lock:
        # The row is found through the visibility filter, then locked alone.
        found = rows.filter(reference=reference).values_list("pk", flat=True).first()
        review = (ScoreReview.objects.select_for_update(of=("self",)).select_related(
            "household__commune__province", "household__declarant", "assigned_to")
            .filter(pk=found).first() if found else None)
    else:
        review = rows.filter(reference=reference).first()
    if review is None:
        raise NotFound(_("No review has this reference."))
    return review


def complaint_get(*, actor: Actor, reference: str, perm: Perm = Perm.COMPLAINT_READ,
                  lock: bool = False) -> Complaint:
    actor.require(perm)
    found = _complaints_for(actor).filter(reference=reference).values_list("pk", flat=True).first()
    rows = Complaint.objects.select_related("complainant", "household", "assigned_to")
    if lock:
        rows = rows.select_for_update(of=("self",))
    complaint = rows.filter(pk=found).first() if found else None
    if complaint is None:
        raise NotFound(_("No complaint has this reference."))
    return complaint


# ---------------------------------------------------------------------------------------------
# The index notice and the review window


def index_notice_at(household: Household) -> datetime | None:
    """When the household's latest index notice was sent: the start of its review window.

    The outbox (`sijill.notifications`, kind "index_notice", status "sent", `sent_at`) is the
    source. Where it has no sent notice (the outbox not installed, or households notified before
    it existed), the registration's last step to "notified" stands in for the notice date.
    """
    if apps.is_installed("sijill.notifications"):
        notification = apps.get_model("notifications", "Notification")
        sent = (notification.objects.filter(household=household, kind="index_notice",
                                            status="sent", sent_at__isnull=False)
                .order_by("-sent_at").values_list("sent_at", flat=True).first())
        if sent is not None:
            return sent  # type: ignore[no-any-return]
    return (RegistrationEvent.objects.filter(household=household, to_status="notified")
            .order_by("-at", "-id").values_list("at", flat=True).first())


@dataclass(frozen=True)
class ReviewWindow:
    """Day 0 is the notice's Casablanca date; the window closes at the end of day N."""

    notice_at: datetime | None
    opens_on: date | None
    closes_on: date | None
    open: bool


def review_window(*, household: Household, now: datetime | None = None) -> ReviewWindow:
    now = now or timezone.now()
    notice_at = index_notice_at(household)
    if notice_at is None:
        return ReviewWindow(notice_at=None, opens_on=None, closes_on=None, open=False)
    opens_on = local_date(notice_at)
    closes_on = opens_on + timedelta(days=settings.SIJILL["REVIEW_WINDOW_DAYS"])
    today = local_date(now)
    return ReviewWindow(notice_at=notice_at, opens_on=opens_on, closes_on=closes_on,
                        open=opens_on <= today <= closes_on)


# ---------------------------------------------------------------------------------------------
# Tracking


def citizen_household(*, actor: Actor) -> Household | None:
    """The citizen's own household: the one they are an active member of, else the latest one
    they declare that is not cancelled. None when they have none."""
    if actor.role != "citizen" or not actor.idcs:
        raise PermissionDenied(_("Only a citizen signed in with their IDCS has a household "
                                 "here."))
    rows = Household.objects.select_related("commune__province", "declarant", "head")
    member_of = rows.filter(memberships__person__idcs=actor.idcs,
                            memberships__end_date__isnull=True).first()
    if member_of is not None:
        return member_of
    return (rows.filter(declarant__idcs=actor.idcs).exclude(status="cancelled")
            .order_by("-created_at", "-id").first())


@dataclass(frozen=True)
class Tracking:
    household: Household
    members: list[Any]  # active memberships with their persons
    latest_score: Score | None
    window: ReviewWindow
    open_review: ScoreReview | None
    you_declare: bool


@dataclass(frozen=True)
class History:
    household: Household
    events: list[RegistrationEvent]
    versions: list[DeclarationVersion]
    scores: list[Score]
    changes: list[ChangeDeclaration]
    reviews: list[ScoreReview]
    complaints: list[Complaint]


def _tracking(actor: Actor, household: Household, now: datetime | None) -> Tracking:
    members = list(household.memberships.filter(end_date__isnull=True)
                   .select_related("person").order_by("start_date", "id"))
    latest = (Score.objects.select_related("formula", "declaration").filter(household=household)
              .order_by("-computed_at", "-id").first())
    open_review = (ScoreReview.objects.filter(household=household,
                                              status__in=ScoreReview.OPEN).first())
    return Tracking(household=household, members=members, latest_score=latest,
                    window=review_window(household=household, now=now),
                    open_review=open_review,
                    you_declare=bool(actor.idcs) and household.declarant.idcs == actor.idcs)


def household_track(*, actor: Actor, reference: str, now: datetime | None = None,
                    purpose: str = "") -> Tracking:
    """Where a registration stands: status, members, latest index, review window, open review.
    The read is audited."""
    household = household_for(actor=actor, reference=reference, perm=Perm.HOUSEHOLD_READ)
    audit_record(actor=actor, action="track", entity="household", entity_id=reference,
                 subject=household.declarant.idcs, purpose=purpose)
    return _tracking(actor, household, now)


def my_household_track(*, actor: Actor, now: datetime | None = None) -> Tracking | None:
    """The signed-in citizen's household tracking (None: they have no household yet)."""
    household = citizen_household(actor=actor)
    if household is None:
        return None
    audit_record(actor=actor, action="track", entity="household",
                 entity_id=household.reference, subject=household.declarant.idcs,
                 purpose="own household")
    return _tracking(actor, household, now)


def _history(actor: Actor, household: Household) -> History:
    complaints = Complaint.objects.filter(household=household)
    if actor.role == "citizen":
        # Complaints are personal: a member sees the ones they filed, not another member's.
        complaints = complaints.filter(complainant__idcs=actor.idcs)
    return History(
        household=household,
        events=list(household.events.order_by("at", "id")),
        versions=list(DeclarationVersion.objects.filter(household=household)
                      .order_by("version")),
        scores=list(Score.objects.select_related("formula", "declaration")
                    .filter(household=household).order_by("computed_at", "id")),
        changes=list(ChangeDeclaration.objects.filter(household=household).order_by("at", "id")),
        reviews=list(ScoreReview.objects.filter(household=household)
                     .order_by("requested_at", "id")),
        complaints=list(complaints.order_by("filed_at", "id")),
    )


def household_history(*, actor: Actor, reference: str, purpose: str = "") -> History:
    """A registration's whole history (status steps, declaration versions, index dates,
    declared changes, reviews, complaints). The read is audited."""
    household = household_for(actor=actor, reference=reference, perm=Perm.HOUSEHOLD_READ)
    audit_record(actor=actor, action="read_history", entity="household", entity_id=reference,
                 subject=household.declarant.idcs, purpose=purpose)
    return _history(actor, household)


def my_household_history(*, actor: Actor) -> History | None:
    household = citizen_household(actor=actor)
    if household is None:
        return None
    audit_record(actor=actor, action="read_history", entity="household",
                 entity_id=household.reference, subject=household.declarant.idcs,
                 purpose="own household")
    return _history(actor, household)


# ---------------------------------------------------------------------------------------------
# Queues


def review_queue(*, actor: Actor, status: str | None = None, open_only: bool = False,
                 assigned_to_me: bool = False, unassigned: bool = False,
                 province: str | None = None, household: str | None = None,
                 limit: int = 50, offset: int = 0) -> list[ScoreReview]:
    """Reviews the actor may see, oldest request first, filtered."""
    actor.require(Perm.REVIEW_READ)
    if actor.role == "citizen":
        raise PermissionDenied()
    rows = _reviews_for(actor)
    if status:
        rows = rows.filter(status=status)
    if open_only:
        rows = rows.filter(status__in=ScoreReview.OPEN)
    if assigned_to_me:
        rows = rows.filter(assigned_to_id=actor.user_id)
    if unassigned:
        rows = rows.filter(assigned_to__isnull=True)
    if province:
        rows = rows.filter(household__commune__province_id=province)
    if household:
        rows = rows.filter(household__reference=household)
    found = list(rows.order_by("requested_at", "id")[offset:offset + limit])
    audit_record(actor=actor, action="list", entity="score_review", entity_id="queue",
                 detail={"count": len(found), "status": status or "", "province": province or ""})
    return found


def household_reviews(*, actor: Actor, reference: str) -> list[ScoreReview]:
    household = household_for(actor=actor, reference=reference, perm=Perm.REVIEW_READ)
    audit_record(actor=actor, action="list_reviews", entity="household", entity_id=reference,
                 subject=household.declarant.idcs)
    return list(_reviews_for(actor).filter(household=household).order_by("requested_at", "id"))


def review_read(*, actor: Actor, reference: str) -> ScoreReview:
    """One review with its steps (prefetched as `steps`); the read is audited."""
    review = review_get(actor=actor, reference=reference)
    audit_record(actor=actor, action="read", entity="score_review", entity_id=reference,
                 subject=review.household.declarant.idcs,
                 detail={"household": review.household.reference})
    return review


def complaint_queue(*, actor: Actor, status: str | None = None, open_only: bool = False,
                    category: str | None = None, channel: str | None = None,
                    escalated: bool | None = None, overdue_on: date | None = None,
                    assigned_to_me: bool = False, unassigned: bool = False,
                    province: str | None = None, limit: int = 50,
                    offset: int = 0) -> list[Complaint]:
    """Complaints the actor may handle, earliest deadline first, filtered. `overdue_on`: those
    still unanswered after that day."""
    actor.require(Perm.COMPLAINT_HANDLE)
    rows = _complaints_for(actor)
    if status:
        rows = rows.filter(status=status)
    if open_only:
        rows = rows.exclude(status=Complaint.Status.ANSWERED)
    if category:
        rows = rows.filter(category=category)
    if channel:
        rows = rows.filter(channel=channel)
    if escalated is not None:
        rows = rows.filter(escalated_at__isnull=not escalated)
    if overdue_on is not None:
        rows = rows.exclude(status=Complaint.Status.ANSWERED).filter(due_on__lt=overdue_on)
    if assigned_to_me:
        rows = rows.filter(assigned_to_id=actor.user_id)
    if unassigned:
        rows = rows.filter(assigned_to__isnull=True)
    if province:
        rows = rows.filter(province_id=province)
    found = list(rows.order_by("due_on", "filed_at", "id")[offset:offset + limit])
    audit_record(actor=actor, action="list", entity="complaint", entity_id="queue",
                 detail={"count": len(found), "status": status or "",
                         "category": category or "", "province": province or ""})
    return found


def my_complaints(*, actor: Actor) -> list[Complaint]:
    """The complaints the signed-in citizen filed (or an agent filed for them)."""
    if actor.role != "citizen" or not actor.idcs:
        raise PermissionDenied(_("Only a citizen signed in with their IDCS has complaints "
                                 "here."))
    actor.require(Perm.COMPLAINT_READ)
    rows = list(_complaints_for(actor).order_by("-filed_at", "-id"))
    audit_record(actor=actor, action="list", entity="complaint", entity_id="own",
                 subject=actor.idcs, detail={"count": len(rows)})
    return rows


def complaint_read(*, actor: Actor, reference: str) -> Complaint:
    complaint = complaint_get(actor=actor, reference=reference)
    audit_record(actor=actor, action="read", entity="complaint", entity_id=reference,
                 subject=complaint.complainant.idcs)
    return complaint
