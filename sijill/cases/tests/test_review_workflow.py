"""A reviewer's workflow end to end: request, assignment, evidence, decision.

A correction writes the next declaration version (by the reviewer), recomputes the index, and
tells the outbox (household_scored with reason "review", then review_decided). Every step is a
ReviewEvent and an audit entry.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

import sijill.urls  # noqa: F401  (routes and schemas load before time is frozen)
from sijill.audit.models import AuditEntry
from sijill.cases import services
from sijill.cases.models import ReviewEvent, ScoreReview
from sijill.cases.tests.factories import notified_household
from sijill.core.errors import Conflict, PermissionDenied
from sijill.households.models import DeclarationVersion
from sijill.households.tests.factories import household_data, member_data
from sijill.scoring.models import Score

pytestmark = pytest.mark.django_db
CASA = ZoneInfo("Africa/Casablanca")
NOTICE = datetime(2026, 1, 10, 10, 0, tzinfo=CASA)
LATER = datetime(2026, 1, 25, 11, 0, tzinfo=CASA)


@pytest.fixture
def household(citizen, person_factory):
    spouse = person_factory(sex="F")
    return notified_household(members=[(citizen.person, "head"), (spouse, "spouse")],
                              notified_at=NOTICE)


def _members(household):
    return [member_data(m.person.idcs, m.relationship)
            for m in household.memberships.filter(end_date__isnull=True).select_related("person")
            .order_by("start_date", "id")]


def test_request_assign_evidence_correct_rescore_and_tell_the_outbox(
        household, as_citizen, as_reviewer, reviewer, caught,
        django_capture_on_commit_callbacks):
    old_score = Score.objects.filter(household=household).latest("computed_at")
    old_version = household.current_version
    with freeze_time(LATER):
        asked = as_citizen.post(f"households/{household.reference}/reviews",
                                {"reason": "We have no car: the car was sold in 2024."})
        assert asked.status_code == 201, asked.json()
        ref = asked.json()["reference"]
        assert asked.json()["status"] == "requested"
        assert asked.json()["index_reviewed"] == pytest.approx(old_score.value)

        queue = as_reviewer.get("reviews", {"open": True, "unassigned": True}).json()
        assert [r["reference"] for r in queue] == [ref]

        assigned = as_reviewer.post(f"reviews/{ref}/assignment", {})
        assert assigned.status_code == 200, assigned.json()
        assert (assigned.json()["status"], assigned.json()["assigned_to"]) == (
            "assigned", reviewer.username)
        assert [r["reference"] for r in as_reviewer.get("reviews", {"mine": True}).json()] == [ref]

        evidence = as_reviewer.post(f"reviews/{ref}/evidence", {
            "note": "Vehicle registry: car deregistered on 2024-05-02.",
            "document_reference": "NARSA-2024-118822"})
        assert evidence.status_code == 201, evidence.json()

        corrected = {"household": household_data(cars=0, rooms=2, computers=0),
                     "members": _members(household)}
        with django_capture_on_commit_callbacks(execute=True):
            decided = as_reviewer.post(f"reviews/{ref}/decision", {
                "decision": "corrected", "note": "Car sold; two rooms, not three.",
                "declaration": corrected})
    assert decided.status_code == 200, decided.json()
    body = decided.json()
    assert (body["status"], body["decision"]) == ("decided", "corrected")
    assert body["new_version"] == old_version + 1
    assert [s["kind"] for s in body["steps"]] == [
        "requested", "assigned", "evidence", "corrected", "rescored", "decided"]
    assert body["steps"][2]["document_reference"] == "NARSA-2024-118822"

    version = DeclarationVersion.objects.get(household=household, version=old_version + 1)
    assert (version.rooms, version.created_by) == (2, f"user:{reviewer.pk}")
    new_score = Score.objects.get(declaration=version)
    assert body["new_index"] == pytest.approx(new_score.value)
    assert new_score.value != pytest.approx(old_score.value)

    review = ScoreReview.objects.get(reference=ref)
    assert review.new_score == new_score
    assert caught.named("household_scored") == [
        {"household_id": household.pk, "score_id": new_score.pk, "reason": "review"}]
    assert caught.named("review_decided") == [{"review_id": review.pk}]
    household.refresh_from_db()
    assert household.status == "submitted"  # reverified through the usual pipeline
    actions = set(AuditEntry.objects.filter(entity="score_review", entity_id=ref)
                  .values_list("action", flat=True))
    assert actions >= {"request", "assign", "add_evidence", "decide", "read"} - {"read"}


def test_a_confirmed_index_is_decided_without_a_new_version_or_score(
        household, citizen_actor, reviewer_actor, caught, django_capture_on_commit_callbacks):
    review = services.review_request(actor=citizen_actor, reference=household.reference,
                                     reason="Please check.", now=LATER)
    services.review_assign(actor=reviewer_actor, reference=review.reference)
    version = household.current_version
    with django_capture_on_commit_callbacks(execute=True):
        services.review_decide(actor=reviewer_actor, reference=review.reference,
                               decision="confirmed", note="The declared data holds.")
    review.refresh_from_db()
    household.refresh_from_db()
    assert (review.decision, review.new_version, household.current_version) == (
        "confirmed", None, version)
    assert caught.named("household_scored") == []
    assert caught.named("review_decided") == [{"review_id": review.pk}]


def test_one_open_review_per_household(household, citizen_actor, agent_a_actor):
    services.review_request(actor=citizen_actor, reference=household.reference,
                            reason="First.", now=LATER)
    with pytest.raises(Conflict):
        services.review_request(actor=agent_a_actor, reference=household.reference,
                                reason="Second.", now=LATER)
    assert ScoreReview.objects.filter(household=household).count() == 1


def test_the_database_refuses_a_second_open_review(household, citizen_actor):
    from django.db import IntegrityError, transaction

    first = services.review_request(actor=citizen_actor, reference=household.reference,
                                    reason="First.", now=LATER)
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreReview.objects.create(
            reference="REV-00000000", household=household, requested_by="x", channel="portal",
            reason="x", notice_at=first.notice_at, closes_on=first.closes_on, requested_at=LATER)


def test_a_new_review_can_be_asked_once_the_first_is_decided(household, citizen_actor,
                                                             reviewer_actor):
    first = services.review_request(actor=citizen_actor, reference=household.reference,
                                     reason="First.", now=LATER)
    services.review_assign(actor=reviewer_actor, reference=first.reference)
    services.review_decide(actor=reviewer_actor, reference=first.reference,
                           decision="confirmed", note="Holds.")
    second = services.review_request(actor=citizen_actor, reference=household.reference,
                                     reason="Again.", now=LATER)
    assert second.reference != first.reference


def test_only_the_assigned_reviewer_decides(household, citizen_actor, reviewer_actor,
                                            other_reviewer):
    from sijill.accounts.auth import actor_for_user

    review = services.review_request(actor=citizen_actor, reference=household.reference,
                                     reason="Check.", now=LATER)
    with pytest.raises(Conflict):  # not assigned yet
        services.review_decide(actor=reviewer_actor, reference=review.reference,
                               decision="confirmed", note="x")
    services.review_assign(actor=reviewer_actor, reference=review.reference)
    with pytest.raises(PermissionDenied):
        services.review_decide(actor=actor_for_user(other_reviewer), reference=review.reference,
                               decision="confirmed", note="x")


def test_a_member_who_is_not_the_declarant_cannot_ask(person_factory, citizen, citizen_actor):
    head = person_factory()
    household = notified_household(members=[(head, "head"), (citizen.person, "spouse")],
                                   notified_at=NOTICE)
    with pytest.raises(PermissionDenied):
        services.review_request(actor=citizen_actor, reference=household.reference,
                                reason="x", now=LATER)


def test_every_step_is_recorded(household, citizen_actor, reviewer_actor):
    review = services.review_request(actor=citizen_actor, reference=household.reference,
                                     reason="Check.", now=LATER)
    services.review_assign(actor=reviewer_actor, reference=review.reference)
    services.review_add_evidence(actor=reviewer_actor, reference=review.reference,
                                 note="Called the declarant.")
    services.review_decide(actor=reviewer_actor, reference=review.reference,
                           decision="confirmed", note="Holds.")
    kinds = list(ReviewEvent.objects.filter(review=review).values_list("kind", flat=True))
    assert kinds == ["requested", "assigned", "evidence", "decided"]
    with pytest.raises(RuntimeError):
        ReviewEvent.objects.filter(review=review).first().delete()


def test_a_reviewer_cannot_take_another_reviewers_case_an_administrator_can(
        household, citizen_actor, reviewer_actor, other_reviewer, admin_user):
    from sijill.accounts.auth import actor_for_user

    review = services.review_request(actor=citizen_actor, reference=household.reference,
                                     reason="Check.", now=LATER)
    services.review_assign(actor=reviewer_actor, reference=review.reference)
    with pytest.raises(PermissionDenied):
        services.review_assign(actor=actor_for_user(other_reviewer), reference=review.reference)
    services.review_assign(actor=actor_for_user(admin_user), reference=review.reference,
                           assignee=other_reviewer.username)
    review.refresh_from_db()
    assert review.assigned_to == other_reviewer
    assert list(review.events.values_list("kind", flat=True)) == [
        "requested", "assigned", "assigned"]


def test_a_retried_request_with_the_same_idempotency_key_opens_one_review(household, as_citizen):
    with freeze_time(LATER):
        first = as_citizen.post(f"households/{household.reference}/reviews",
                                {"reason": "Check."}, headers={"Idempotency-Key": "rev-1"})
        again = as_citizen.post(f"households/{household.reference}/reviews",
                                {"reason": "Check."}, headers={"Idempotency-Key": "rev-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["reference"] == again.json()["reference"]
    assert ScoreReview.objects.filter(household=household).count() == 1
