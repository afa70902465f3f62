"""The outcome of a score review and the answer to a complaint (cases app) are notified."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone, translation

from sijill.core.events import complaint_answered, review_decided
from sijill.notifications.models import Notification
from sijill.notifications.selectors import last_sms_to
from sijill.notifications.tests.helpers import index_said, scored_household

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("sijill.cases"),
                       reason="the cases app (reviews, complaints) is not installed"),
]


def _review(household, score):
    now = timezone.now()
    return apps.get_model("cases", "ScoreReview").objects.create(
        reference="REV-TEST0001", household=household, requested_by="test",
        requester=household.declarant, channel="centre", reason="too high",
        notice_at=now, closes_on=timezone.localdate() + timedelta(days=60), requested_at=now,
        score=score, status="decided", decision="confirmed", decision_note="checked",
        decided_by="reviewer", decided_at=now)


def test_a_decided_review_is_told_to_the_requester_once_in_their_language(
        django_capture_on_commit_callbacks):
    household, score = scored_household()
    household.notice_language = "fr"
    household.save(update_fields=["notice_language"])
    review = _review(household, score)
    with django_capture_on_commit_callbacks(execute=True):
        review_decided.send_robust(sender=None, review_id=review.pk)
        review_decided.send_robust(sender=None, review_id=review.pk)
    notice = Notification.objects.get(kind="review_outcome")
    assert notice.status == "sent"
    assert household.reference in notice.body
    assert index_said(score.value, notice.language) in notice.body
    assert last_sms_to(household.declarant.phone) == notice.body
    with translation.override("fr"):
        assert f"tranché : {review.get_decision_display()}" in notice.body


def test_an_answered_complaint_is_told_to_the_complainant(django_capture_on_commit_callbacks):
    household, _score = scored_household()
    now = timezone.now()
    complaint = apps.get_model("cases", "Complaint").objects.create(
        reference="REC-TEST0001", category="score", channel="centre",
        complainant=household.declarant, household=household,
        province_id=household.commune.province_id, subject="score", description="why",
        filed_by="test", filed_at=now, due_on=timezone.localdate() + timedelta(days=15),
        status="answered", response="Your score was checked.", answered_by="agent",
        answered_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_answered.send_robust(sender=None, complaint_id=complaint.pk)
    notice = Notification.objects.get(kind="complaint_answer")
    assert notice.status == "sent"
    assert "REC-TEST0001" in notice.body and "Your score was checked." in notice.body
