"""A citizen never sees nor acts on another household's reviews, complaints or tracking."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from sijill.cases import services
from sijill.cases.models import ScoreReview
from sijill.cases.tests.factories import notified_household
from sijill.households.tests.factories import KENITRA

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger_household(person_factory):
    head, spouse = person_factory(), person_factory(sex="F")
    household = notified_household(members=[(head, "head"), (spouse, "spouse")],
                                   notified_at=timezone.now() - timedelta(days=3))
    household.secret_values = (head.idcs, spouse.idcs, head.family_name_latin)
    return household


@pytest.fixture
def stranger_review(stranger_household, agent_a_actor):
    return services.review_request(actor=agent_a_actor, reference=stranger_household.reference,
                                   reason="Asked at the centre: the index looks wrong.")


@pytest.fixture
def stranger_complaint(stranger_household, agent_a_actor):
    return services.complaint_file(
        actor=agent_a_actor, category="personal_data", subject="Address",
        description="Private complaint", complainant_idcs=stranger_household.declarant.idcs,
        household_reference=stranger_household.reference)


def _assert_hidden(response, household):
    assert response.status_code in (403, 404), response.content
    text = json.dumps(response.json(), ensure_ascii=False)
    for value in household.secret_values:
        assert value not in text


def test_a_citizen_cannot_see_another_households_review(as_citizen, stranger_review,
                                                        stranger_household):
    ref = stranger_review.reference
    for path in (f"reviews/{ref}", f"households/{stranger_household.reference}/reviews"):
        _assert_hidden(as_citizen.get(path), stranger_household)
    assert as_citizen.get(f"reviews/{ref}").status_code == 404
    assert as_citizen.get("reviews").status_code == 403


def test_a_citizen_cannot_act_on_another_households_review(as_citizen, stranger_review,
                                                           stranger_household):
    ref = stranger_review.reference
    for path, body in ((f"reviews/{ref}/assignment", {}),
                       (f"reviews/{ref}/evidence", {"note": "x"}),
                       (f"reviews/{ref}/decision", {"decision": "confirmed", "note": "x"}),
                       (f"households/{stranger_household.reference}/reviews", {"reason": "x"})):
        _assert_hidden(as_citizen.post(path, body), stranger_household)
    assert ScoreReview.objects.get(pk=stranger_review.pk).status == "requested"
    assert ScoreReview.objects.count() == 1


def test_a_citizen_cannot_see_or_answer_another_persons_complaint(
        as_citizen, stranger_complaint, stranger_household):
    ref = stranger_complaint.reference
    assert as_citizen.get(f"complaints/{ref}").status_code == 404
    _assert_hidden(as_citizen.get(f"complaints/{ref}"), stranger_household)
    _assert_hidden(as_citizen.post(f"complaints/{ref}/answer", {"response": "x"}),
                   stranger_household)
    assert as_citizen.get("complaints").status_code == 403
    assert as_citizen.get("me/complaints").json() == []


def test_a_citizen_cannot_file_about_another_household(as_citizen, stranger_household):
    response = as_citizen.post("complaints", {
        "category": "other", "subject": "x", "description": "y",
        "household_reference": stranger_household.reference})
    assert response.status_code == 404


def test_an_agent_of_another_centre_sees_nothing_of_it(as_agent_b, stranger_review,
                                                       stranger_complaint, stranger_household):
    assert as_agent_b.get(f"reviews/{stranger_review.reference}").status_code == 404
    assert as_agent_b.get(f"complaints/{stranger_complaint.reference}").status_code == 404
    assert as_agent_b.get("reviews").json() == []
    assert as_agent_b.get("complaints").json() == []


def test_an_agent_sees_the_review_queue_of_their_provinces(as_agent_a, stranger_review,
                                                           person_factory, agent_b):
    from sijill.accounts.auth import actor_for_user

    head = person_factory()
    kenitra = notified_household(members=[(head, "head")], commune=KENITRA,
                                 notified_at=datetime.now().astimezone() - timedelta(days=1))
    services.review_request(actor=actor_for_user(agent_b), reference=kenitra.reference,
                            reason="Kénitra.")
    refs = [r["reference"] for r in as_agent_a.get("reviews").json()]
    assert refs == [stranger_review.reference]
