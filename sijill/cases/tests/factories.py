"""Factories for citizen services: notified households, reviews and complaints."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sijill.accounts.actors import SYSTEM
from sijill.cases.models import Complaint, ComplaintEvent, ReviewEvent, ScoreReview
from sijill.cases.selectors import local_date
from sijill.households.models import Household, RegistrationEvent
from sijill.households.services import household_transition
from sijill.households.tests.factories import household_create
from sijill.population.models import Person
from sijill.scoring.services import score_household_current
from sijill.testing.factories import events_backdate


def notified_household(*, members: list[tuple[Person, str]], notified_at: datetime | None = None,
                       **kwargs: Any) -> Household:
    """A household registered, scored and notified (the lifecycle through its services); with
    `notified_at`, the "notified" step is dated then (the notice date the window runs from
    while no outbox notice was sent)."""
    household = household_create(members=members, **kwargs)
    score_household_current(household_id=household.pk)
    for step in ("verifying", "scored", "notified"):
        household_transition(actor=SYSTEM, reference=household.reference, to=step)
    if notified_at is not None:
        # Registration events are immutable (model and PostgreSQL trigger); the date is set as
        # the outbox would have stamped it (test data only).
        events_backdate(RegistrationEvent.objects.filter(household=household, to_status="notified"),
                        at=notified_at)
    household.refresh_from_db()
    return household


def matrix_cases(household_reference: str) -> dict[str, str]:
    """For the permission matrix: an open, unassigned review and an unanswered complaint about
    the given household, by their reference path parameters."""
    household = Household.objects.select_related("commune", "declarant").get(
        reference=household_reference)
    now = datetime.now().astimezone()
    review = ScoreReview.objects.filter(household=household, status__in=ScoreReview.OPEN).first()
    if review is None:
        review = ScoreReview.objects.create(
            reference="REV-MATRIX01", household=household, requested_by="matrix",
            requester=household.declarant, channel="centre", reason="matrix test",
            notice_at=now, closes_on=local_date(now) + timedelta(days=60), requested_at=now)
        ReviewEvent.objects.create(review=review, kind="requested", actor_label="matrix")
    complaint = Complaint.objects.filter(household=household, reference="REC-MATRIX01").first()
    if complaint is None:
        complaint = Complaint.objects.create(
            reference="REC-MATRIX01", category="score", channel="centre",
            complainant=household.declarant, household=household,
            province_id=household.commune.province_id, subject="matrix",
            description="matrix test", filed_by="matrix", filed_at=now,
            due_on=local_date(now) + timedelta(days=15))
        ComplaintEvent.objects.create(complaint=complaint, kind="filed", actor_label="matrix")
    return {"review_ref": review.reference, "complaint_ref": complaint.reference}
