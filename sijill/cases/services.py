"""Writers of citizen services: declared changes, score reviews, complaints.

Rules (each refusal is a domain error in the caller's language):
- a citizen acts on their own household only (404 for any other); declared changes and review
  requests are the declarant's; an agent acts on behalf of households of their centre's
  provinces (at the centre or by phone);
- a declared change is a new declaration version written by the households services (reverified
  and rescored through their signals); this app records which change produced which version;
- a review of the index is asked from the index notice (day 0, Africa/Casablanca) to the end of
  day REVIEW_WINDOW_DAYS (60) after it; later it is refused with the day it closed. One open
  review per household (database constraint). A reviewer is assigned, adds evidence, and
  decides: confirm, or correct the data (a new declaration version by the reviewer), which
  rescores the household at once;
- a complaint is answered by the end of day COMPLAINT_RESPONSE_DAYS (15) after filing; an
  unanswered one is escalated once when that day has passed (`complaints_escalate_overdue`).

Every step is a ReviewEvent / ComplaintEvent row and an audit entry. Signals for the outbox
(`review_decided`, `complaint_answered`, `household_scored` with reason "review") are sent with
`send_robust` after commit: this app sends no notice itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import SYSTEM, Actor
from sijill.accounts.models import User
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.cases import selectors
from sijill.cases.models import (
    ChangeDeclaration,
    Channel,
    Complaint,
    ComplaintEvent,
    ReviewEvent,
    ScoreReview,
)
from sijill.core import events
from sijill.core.errors import (
    Conflict,
    FieldError,
    PermissionDenied,
    ValidationFailed,
)
from sijill.declaration.model import Declaration
from sijill.households import services as households
from sijill.households.models import Household
from sijill.population.models import Person
from sijill.scoring.models import Score

STAFF_CHANNELS = (Channel.CENTRE, Channel.PHONE)


# ---------------------------------------------------------------------------------------------
# Helpers


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _draw(prefix: str) -> str:
    return prefix + secrets.token_hex(4).upper()


def _insert_with_reference(row: Model, *, prefix: str, on_clash: Callable[[], None]) -> None:
    """Insert a row with a freshly drawn reference; a reference already taken is drawn again.
    `on_clash` runs when the insert breaks another constraint (it raises the domain error)."""
    model = type(row)
    for _attempt in range(8):
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            if not model._default_manager.filter(reference=row.reference).exists():  # type: ignore[attr-defined]
                on_clash()
                raise
            row.reference = _draw(prefix)  # type: ignore[attr-defined]
            continue
        return
    raise RuntimeError(f"could not draw a free {model.__name__} reference after 8 draws")


def _channel(actor: Actor, channel: str | None) -> str:
    """A citizen acts through the portal; staff at the centre (default) or by phone."""
    if actor.role == "citizen":
        if channel not in (None, Channel.PORTAL):
            raise ValidationFailed.single("channel", "invalid_choice",
                                          _("On the portal, the channel is the portal."))
        return Channel.PORTAL
    if channel is None:
        return Channel.CENTRE
    allowed = Channel.values if actor.role == "admin" else list(STAFF_CHANNELS)
    if channel not in allowed:
        raise ValidationFailed.single("channel", "invalid_choice",
                                      _("Choose one of: %(choices)s.")
                                      % {"choices": ", ".join(allowed)})
    return channel


def _require_declarant(actor: Actor, household: Household) -> None:
    if actor.role == "citizen" and household.declarant.idcs != actor.idcs:
        raise PermissionDenied(_("Only the household's declarant can do this. Members can "
                                 "follow the registration and file complaints."))


def _text(field: str, value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed.single(field, "required", _("This field is required."))
    return value


# ---------------------------------------------------------------------------------------------
# Declared changes


@dataclass(frozen=True)
class Correction:
    """A corrected declaration (full, like an update), with an optional move of the household."""

    declaration: Declaration
    declarant_idcs: str | None = None
    moving: frozenset[str] = frozenset()
    place: households.Place | None = None


def change_declare(*, actor: Actor, reference: str, kind: str, correction: Correction,
                   note: str = "", channel: str | None = None) -> ChangeDeclaration:
    """The declarant declares a change (a birth, a death, a move, a job, a purchase): the
    updated declaration becomes a new version through the households services, which send it
    to verification and scoring; this records which change produced it."""
    if kind not in ChangeDeclaration.Kind.values:
        raise ValidationFailed.single("kind", "invalid_choice",
                                      _("Choose one of: %(choices)s.")
                                      % {"choices": ", ".join(ChangeDeclaration.Kind.values)})
    channel = _channel(actor, channel)
    with transaction.atomic():
        household = selectors.household_for(actor=actor, reference=reference,
                                            perm=Perm.HOUSEHOLD_REGISTER, lock=True)
        _require_declarant(actor, household)
        if kind == ChangeDeclaration.Kind.MOVE and correction.place is None and \
                not correction.moving:
            raise ValidationFailed.single(
                "commune", "move_without_place",
                _("A move gives the new commune, milieu and address (or the members who "
                  "move in)."))
        household = households.household_declaration_update(
            actor=actor, reference=reference, declaration=correction.declaration,
            declarant_idcs=correction.declarant_idcs, moving=correction.moving,
            place=correction.place)
        change = ChangeDeclaration.objects.create(
            household=household, kind=kind, version=household.current_version, channel=channel,
            note=note.strip()[:500], declared_by=actor.label)
        audit_record(actor=actor, action="declare_change", entity="household",
                     entity_id=reference, subject=household.declarant.idcs,
                     detail={"kind": kind, "version": household.current_version,
                             "channel": channel})
    return change


# ---------------------------------------------------------------------------------------------
# Score reviews


def _review_event(review: ScoreReview, kind: str, actor: Actor, *, note: str = "",
                  document_reference: str = "", **detail: Any) -> ReviewEvent:
    return ReviewEvent.objects.create(review=review, kind=kind, actor_label=actor.label,
                                      note=note, document_reference=document_reference,
                                      detail=detail)


def _audit_review(actor: Actor, action: str, review: ScoreReview, **detail: Any) -> None:
    audit_record(actor=actor, action=action, entity="score_review", entity_id=review.reference,
                 subject=review.household.declarant.idcs,
                 detail={"household": review.household.reference, **detail})


def _window_refusal(window: selectors.ReviewWindow) -> ValidationFailed:
    if window.notice_at is None or window.closes_on is None:
        return ValidationFailed(fields=[FieldError(
            "reference", "not_notified",
            _("The index has not been notified yet: a review can be asked once the index "
              "notice has been sent."))], extra={"closed_on": None})
    assert window.opens_on is not None  # set with closes_on (selectors.review_window)
    closed = formats.date_format(window.closes_on, "DATE_FORMAT")
    notified = formats.date_format(window.opens_on, "DATE_FORMAT")
    return ValidationFailed(fields=[FieldError(
        "reference", "review_period_closed",
        _("The period to ask for a review of the index closed on %(date)s, %(days)s days after "
          "the index notice of %(notice)s.")
        % {"date": closed, "days": settings.SIJILL["REVIEW_WINDOW_DAYS"], "notice": notified})],
        extra={"closed_on": window.closes_on.isoformat()})


def review_request(*, actor: Actor, reference: str, reason: str, channel: str | None = None,
                   now: datetime | None = None) -> ScoreReview:
    """Ask for a review of a household's index, within the window after its index notice."""
    now = _now(now)
    reason = _text("reason", reason)
    channel = _channel(actor, channel)
    with transaction.atomic():
        household = selectors.household_for(actor=actor, reference=reference,
                                            perm=Perm.REVIEW_REQUEST, lock=True)
        _require_declarant(actor, household)
        if household.status in (Household.Status.CANCELLED, Household.Status.DRAFT):
            raise Conflict(_("This registration has no index to review."))
        window = selectors.review_window(household=household, now=now)
        if not window.open:
            raise _window_refusal(window)
        assert window.notice_at is not None and window.closes_on is not None
        open_review = ScoreReview.objects.filter(household=household,
                                                 status__in=ScoreReview.OPEN).first()
        if open_review is not None:
            raise _already_open(open_review.reference)
        score = (Score.objects.filter(household=household).order_by("-computed_at", "-id")
                 .first())
        requester = (Person.objects.filter(idcs=actor.idcs).first()
                     if actor.role == "citizen" else household.declarant)
        review = ScoreReview(
            reference=_draw("REV-"), household=household, requested_by=actor.label,
            requester=requester, channel=channel, reason=reason[:2000],
            notice_at=window.notice_at, closes_on=window.closes_on, score=score,
            requested_at=now)

        def clash() -> None:
            # A concurrent request for this household committed first (partial unique index).
            taken = ScoreReview.objects.filter(household=household,
                                               status__in=ScoreReview.OPEN).first()
            raise _already_open(taken.reference if taken else "")

        _insert_with_reference(review, prefix="REV-", on_clash=clash)
        _review_event(review, ReviewEvent.Kind.REQUESTED, actor, note=reason[:2000],
                      channel=channel, score_id=score.pk if score else None,
                      closes_on=window.closes_on.isoformat())
        _audit_review(actor, "request", review, channel=channel)
    return review


def _already_open(reference: str) -> Conflict:
    return Conflict(_("A review of this household's index is already open (%(ref)s): it is "
                      "decided before another can be asked.") % {"ref": reference},
                    extra={"review": reference})


def _open_review(actor: Actor, reference: str, *, lock_household: bool = False) -> ScoreReview:
    """The review, row-locked, if it is open and the actor may work on it. With
    `lock_household`, its household is locked first (the order every writer follows:
    household, then review)."""
    if lock_household:
        found = selectors.review_get(actor=actor, reference=reference, perm=Perm.REVIEW_DECIDE)
        list(Household.objects.select_for_update().filter(pk=found.household_id)
             .values_list("pk", flat=True))
    review = selectors.review_get(actor=actor, reference=reference, perm=Perm.REVIEW_DECIDE,
                                  lock=True)
    if review.status not in ScoreReview.OPEN:
        raise Conflict(_("This review is already decided."))
    return review


def _staff_user(*, username: str | None, actor: Actor, roles: tuple[str, ...],
                field: str = "assignee") -> User:
    if username is None:
        if actor.user_id is None:
            raise ValidationFailed.single(field, "required", _("Name the person to assign."))
        user = User.objects.filter(pk=actor.user_id, is_active=True).first()
    else:
        user = User.objects.filter(username=username, is_active=True).first()
    if user is None or user.role not in roles:
        raise ValidationFailed.single(field, "not_assignable",
                                      _("This person cannot be assigned this case."))
    return user


def review_assign(*, actor: Actor, reference: str, assignee: str | None = None,
                  now: datetime | None = None) -> ScoreReview:
    """Assign an open review to a reviewer (default: the caller). Reassigning is recorded."""
    now = _now(now)
    with transaction.atomic():
        review = _open_review(actor, reference)
        if actor.role != "admin" and review.assigned_to_id not in (None, actor.user_id):
            raise PermissionDenied(_("Only an administrator reassigns another reviewer's "
                                     "case."))
        user = _staff_user(username=assignee, actor=actor, roles=("reviewer", "admin"))
        if review.assigned_to_id == user.pk:
            return review
        review.assigned_to = user
        review.assigned_at = now
        review.status = ScoreReview.Status.ASSIGNED
        review.save(update_fields=["assigned_to", "assigned_at", "status", "updated_at"])
        _review_event(review, ReviewEvent.Kind.ASSIGNED, actor, assignee=user.username)
        _audit_review(actor, "assign", review, assignee=user.username)
    return review


def review_add_evidence(*, actor: Actor, reference: str, note: str = "",
                        document_reference: str = "") -> ReviewEvent:
    """Record evidence on an open review: a note, and/or the reference of a document."""
    note, document_reference = note.strip(), document_reference.strip()
    if not note and not document_reference:
        raise ValidationFailed.single("note", "required",
                                      _("Give a note or a document reference."))
    with transaction.atomic():
        review = _open_review(actor, reference)
        event = _review_event(review, ReviewEvent.Kind.EVIDENCE, actor, note=note[:2000],
                              document_reference=document_reference[:200])
        _audit_review(actor, "add_evidence", review,
                      document_reference=document_reference[:200])
    return event


def review_decide(*, actor: Actor, reference: str, decision: str, note: str,
                  correction: Correction | None = None,
                  now: datetime | None = None) -> ScoreReview:
    """Decide an assigned review: confirm the index, or correct the data and rescore.

    A correction writes the next declaration version (by the reviewer) and computes its index at
    once with the active formula; `household_scored` (reason "review") and `review_decided` are
    sent after commit."""
    now = _now(now)
    note = _text("note", note)
    if decision not in ScoreReview.Decision.values:
        raise ValidationFailed.single("decision", "invalid_choice",
                                      _("Choose one of: %(choices)s.")
                                      % {"choices": ", ".join(ScoreReview.Decision.values)})
    if decision == ScoreReview.Decision.CORRECTED and correction is None:
        raise ValidationFailed.single("declaration", "required",
                                      _("A correction gives the corrected declaration."))
    if decision == ScoreReview.Decision.CONFIRMED and correction is not None:
        raise ValidationFailed.single("declaration", "not_expected",
                                      _("A confirmed index takes no corrected declaration."))
    new_score: Score | None = None
    with transaction.atomic():
        review = _open_review(actor, reference, lock_household=True)
        if review.status != ScoreReview.Status.ASSIGNED:
            raise Conflict(_("Assign the review to a reviewer before deciding it."))
        if actor.role != "admin" and review.assigned_to_id != actor.user_id:
            raise PermissionDenied(_("This review is assigned to another reviewer."))
        household = review.household
        if correction is not None:
            from sijill.scoring.services import score_household_current

            updated = households.household_declaration_update(
                actor=actor, reference=household.reference,
                declaration=correction.declaration, declarant_idcs=correction.declarant_idcs,
                moving=correction.moving, place=correction.place, review=review.reference)
            review.new_version = updated.current_version
            _review_event(review, ReviewEvent.Kind.CORRECTED, actor,
                          version=updated.current_version)
            new_score = score_household_current(household_id=household.pk,
                                                version=updated.current_version, actor=actor)
            review.new_score = new_score
            _review_event(review, ReviewEvent.Kind.RESCORED, actor,
                          score_id=new_score.pk if new_score else None,
                          value=new_score.value if new_score else None,
                          previous=cast(Score, review.score).value if review.score_id else None)
        review.status = ScoreReview.Status.DECIDED
        review.decision = decision
        review.decision_note = note[:2000]
        review.decided_by = actor.label
        review.decided_at = now
        review.save()
        _review_event(review, ReviewEvent.Kind.DECIDED, actor, note=note[:2000],
                      decision=decision, version=review.new_version)
        _audit_review(actor, "decide", review, decision=decision, version=review.new_version)
        review_id, household_id = review.pk, household.pk
        score_id = new_score.pk if new_score else None
        if score_id is not None:
            transaction.on_commit(lambda: events.household_scored.send_robust(
                sender=ScoreReview, household_id=household_id, score_id=score_id,
                reason="review"))
        transaction.on_commit(lambda: events.review_decided.send_robust(
            sender=ScoreReview, review_id=review_id))
    return review


# ---------------------------------------------------------------------------------------------
# Complaints


def _complaint_event(complaint: Complaint, kind: str, actor: Actor, note: str = "",
                     ) -> ComplaintEvent:
    return ComplaintEvent.objects.create(complaint=complaint, kind=kind,
                                         actor_label=actor.label, note=note)


def _audit_complaint(actor: Actor, action: str, complaint: Complaint, **detail: Any) -> None:
    audit_record(actor=actor, action=action, entity="complaint", entity_id=complaint.reference,
                 subject=complaint.complainant.idcs,
                 detail={"household": complaint.household.reference if complaint.household
                         else "", **detail})


def complaint_file(*, actor: Actor, category: str, subject: str, description: str,
                   channel: str | None = None, complainant_idcs: str | None = None,
                   household_reference: str | None = None,
                   now: datetime | None = None) -> Complaint:
    """File a complaint: a citizen on the portal about themself (and their household); an
    agent at the centre or by phone for a person (and a household of their provinces)."""
    actor.require(Perm.COMPLAINT_FILE)
    now = _now(now)
    if category not in Complaint.Category.values:
        raise ValidationFailed.single("category", "invalid_choice",
                                      _("Choose one of: %(choices)s.")
                                      % {"choices": ", ".join(Complaint.Category.values)})
    subject, description = _text("subject", subject), _text("description", description)
    channel = _channel(actor, channel)
    if actor.role == "citizen":
        if complainant_idcs not in (None, actor.idcs):
            raise PermissionDenied(_("You can only file a complaint in your own name."))
        complainant_idcs = actor.idcs
    if not complainant_idcs:
        raise ValidationFailed.single("complainant_idcs", "required",
                                      _("Give the IDCS of the person who complains."))
    complainant = Person.objects.filter(idcs=complainant_idcs).first()
    if complainant is None:
        raise ValidationFailed.single("complainant_idcs", "not_enrolled",
                                      _("No person is enrolled with this IDCS."))
    with transaction.atomic():
        household: Household | None = None
        if household_reference:
            household = selectors.household_for(actor=actor, reference=household_reference,
                                                perm=Perm.COMPLAINT_FILE)
        elif actor.role == "citizen":
            household = selectors.citizen_household(actor=actor)
        province = household.commune.province_id if household else None
        centre = None
        if actor.centre_id is not None and channel == Channel.CENTRE:
            from sijill.accounts.models import ServiceCentre

            centre = ServiceCentre.objects.select_related("commune").get(pk=actor.centre_id)
            province = province or centre.commune.province_id
        days = settings.SIJILL["COMPLAINT_RESPONSE_DAYS"]
        complaint = Complaint(
            reference=_draw("REC-"), category=category, channel=channel,
            complainant=complainant, household=household, province_id=province, centre=centre,
            subject=subject[:200], description=description[:4000], filed_by=actor.label,
            filed_at=now, due_on=selectors.local_date(now) + timedelta(days=days))
        _insert_with_reference(complaint, prefix="REC-", on_clash=lambda: None)
        _complaint_event(complaint, ComplaintEvent.Kind.FILED, actor)
        _audit_complaint(actor, "file", complaint, category=category, channel=channel)
    return complaint


def complaint_assign(*, actor: Actor, reference: str, assignee: str | None = None,
                     now: datetime | None = None) -> Complaint:
    """Assign an unanswered complaint (default: to the caller). An agent is assignable only in
    the complaint's province."""
    now = _now(now)
    with transaction.atomic():
        complaint = selectors.complaint_get(actor=actor, reference=reference,
                                            perm=Perm.COMPLAINT_HANDLE, lock=True)
        if complaint.status == Complaint.Status.ANSWERED:
            raise Conflict(_("This complaint is already answered."))
        user = _staff_user(username=assignee, actor=actor, roles=("agent", "reviewer", "admin"))
        if user.role == "agent" and (
                complaint.province_id is None
                or not user.centre
                or not user.centre.provinces.filter(code=complaint.province_id).exists()):
            raise ValidationFailed.single("assignee", "not_assignable",
                                          _("This agent's centre does not serve the "
                                            "complaint's province."))
        if complaint.assigned_to_id == user.pk:
            return complaint
        complaint.assigned_to = user
        complaint.assigned_at = now
        complaint.status = Complaint.Status.ASSIGNED
        complaint.save(update_fields=["assigned_to", "assigned_at", "status", "updated_at"])
        _complaint_event(complaint, ComplaintEvent.Kind.ASSIGNED, actor, note=user.username)
        _audit_complaint(actor, "assign", complaint, assignee=user.username)
    return complaint


def complaint_answer(*, actor: Actor, reference: str, response: str,
                     now: datetime | None = None) -> Complaint:
    """Answer a complaint (assigned to the caller, or not yet assigned: it is then theirs);
    `complaint_answered` is sent after commit."""
    now = _now(now)
    response = _text("response", response)
    with transaction.atomic():
        complaint = selectors.complaint_get(actor=actor, reference=reference,
                                            perm=Perm.COMPLAINT_HANDLE, lock=True)
        if complaint.status == Complaint.Status.ANSWERED:
            raise Conflict(_("This complaint is already answered."))
        if complaint.assigned_to_id not in (None, actor.user_id) and actor.role != "admin":
            raise PermissionDenied(_("This complaint is assigned to someone else."))
        if complaint.assigned_to_id is None and actor.user_id is not None:
            complaint.assigned_to_id = actor.user_id
            complaint.assigned_at = now
        complaint.status = Complaint.Status.ANSWERED
        complaint.response = response[:4000]
        complaint.answered_by = actor.label
        complaint.answered_at = now
        complaint.save()
        _complaint_event(complaint, ComplaintEvent.Kind.ANSWERED, actor, note=response[:4000])
        _audit_complaint(actor, "answer", complaint,
                         overdue=selectors.local_date(now) > complaint.due_on)
        complaint_id = complaint.pk
        transaction.on_commit(lambda: events.complaint_answered.send_robust(
            sender=Complaint, complaint_id=complaint_id))
    return complaint


def complaints_escalate_overdue(*, now: datetime | None = None, actor: Actor = SYSTEM) -> int:
    """Escalate every unanswered complaint whose answer day has passed (Casablanca calendar).

    Idempotent and safe to run concurrently: a complaint is escalated once (the conditional
    update and the one-escalation-per-complaint index); returns how many were escalated now."""
    now = _now(now)
    today = selectors.local_date(now)
    due = list(Complaint.objects.filter(escalated_at__isnull=True, due_on__lt=today)
               .exclude(status=Complaint.Status.ANSWERED).order_by("due_on", "id")
               .values_list("pk", flat=True))
    escalated = 0
    for pk in due:
        with transaction.atomic():
            claimed = (Complaint.objects.filter(pk=pk, escalated_at__isnull=True)
                       .exclude(status=Complaint.Status.ANSWERED).update(escalated_at=now))
            if not claimed:
                continue
            complaint = Complaint.objects.select_related("complainant", "household").get(pk=pk)
            _complaint_event(complaint, ComplaintEvent.Kind.ESCALATED, actor,
                             note=f"due {complaint.due_on.isoformat()}")
            _audit_complaint(actor, "escalate", complaint, due_on=complaint.due_on.isoformat())
            escalated += 1
    return escalated
