"""A citizen asks for a review of their index and files and follows a complaint."""

from __future__ import annotations

import pytest
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.cases.models import Complaint, ScoreReview
from sijill.households.services import household_transition
from sijill.households.tests.factories import household_create
from sijill.scoring.services import score_household_current
from sijill.testing import factories

pytestmark = pytest.mark.django_db


def _citizen_of(household) -> Client:
    person = household.declarant
    user = factories.user_create(username=f"c-{person.idcs}", role="citizen", idcs=person.idcs)
    client = Client()
    client.force_login(user)
    return client


def _notified():
    household = household_create()
    score_household_current(household_id=household.pk)
    for step in ("verifying", "scored", "notified"):
        household.refresh_from_db()
        if household.status != step:
            household_transition(actor=SYSTEM, reference=household.reference, to=step)
    return household


def test_a_declarant_asks_for_a_review_of_a_notified_index():
    household = _notified()
    client = _citizen_of(household)
    page = client.get("/me/review/")
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    response = client.post("/me/review/", {"reason": "We have no car: the vehicle is sold."})
    assert response.status_code == 302
    review = ScoreReview.objects.get(household=household)
    assert review.channel == "portal"
    assert review.reference in client.get("/me/review/").content.decode()
    # One open review at a time: the form is gone.
    assert 'name="reason"' not in client.get("/me/review/").content.decode()


def test_a_review_cannot_be_asked_before_the_index_is_notified():
    household = household_create()
    client = _citizen_of(household)
    page = client.get("/me/review/").content.decode()
    assert 'name="reason"' not in page
    assert client.post("/me/review/", {"reason": "x"}).status_code in (409, 422)


def test_a_citizen_files_a_complaint_and_follows_it():
    household = household_create()
    client = _citizen_of(household)
    response = client.post("/me/complaints/", {"category": "registration",
                                                "subject": "Délai", "description": "Trop long."})
    assert response.status_code == 302
    complaint = Complaint.objects.get(complainant=household.declarant)
    assert response["Location"] == f"/me/complaints/{complaint.reference}/"
    page = client.get(response["Location"]).content.decode()
    assert "Trop long." in page
    assert complaint.reference in client.get("/me/complaints/").content.decode()


def test_a_citizen_cannot_read_another_persons_complaint():
    household = household_create()
    client = _citizen_of(household)
    client.post("/me/complaints/", {"category": "other", "subject": "s", "description": "d"})
    reference = Complaint.objects.get().reference
    other = _citizen_of(household_create())
    assert other.get(f"/me/complaints/{reference}/").status_code == 404


def test_an_incomplete_complaint_is_shown_again_with_its_errors():
    client = _citizen_of(household_create())
    response = client.post("/me/complaints/", {"category": "other", "subject": ""})
    assert response.status_code == 422
    assert not Complaint.objects.exists()
