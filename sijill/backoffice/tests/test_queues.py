"""The agents' and reviewers' queues: discrepancies with partners (sijill.verification), reviews
of the index and complaints (sijill.cases), worked through the services."""

from __future__ import annotations

import pytest

from sijill.backoffice.tests.conftest import discrepancy_create, signed_in
from sijill.cases.models import Complaint, ScoreReview
from sijill.cases.tests.factories import matrix_cases
from sijill.households.tests.factories import household_create

pytestmark = pytest.mark.django_db


def test_an_agent_confirms_a_discrepancy_of_their_province(agent_a, agent_b):
    household = household_create()
    found = discrepancy_create(household)
    client = signed_in(agent_a)
    listing = client.get("/backoffice/discrepancies/").content.decode()
    assert f"/backoffice/discrepancies/{found.pk}/" in listing
    assert f"/backoffice/discrepancies/{found.pk}/" not in signed_in(agent_b).get(
        "/backoffice/discrepancies/").content.decode()
    answer = client.post(f"/backoffice/discrepancies/{found.pk}/",
                         {"decision": "confirm", "note": "registration card seen"})
    assert answer.status_code == 302
    found.refresh_from_db()
    assert found.status == "confirmed" and found.decided_by == f"user:{agent_a.pk}"


def test_dismissing_needs_a_note_shown_next_to_the_field(agent_a):
    found = discrepancy_create(household_create())
    page = signed_in(agent_a).post(f"/backoffice/discrepancies/{found.pk}/",
                                   {"decision": "dismiss", "note": ""})
    assert page.status_code == 200 and "note" in page.context["form"].errors
    found.refresh_from_db()
    assert found.status == "open"


def test_a_reviewer_takes_a_review_adds_evidence_and_confirms_the_index(reviewer):
    household = household_create()
    reference = matrix_cases(household.reference)["review_ref"]
    client = signed_in(reviewer)
    assert reference in client.get("/backoffice/reviews/").content.decode()
    url = f"/backoffice/reviews/{reference}/"
    assert client.post(url, {"action": "assign"}).status_code == 302
    assert client.post(url, {"action": "evidence", "evidence-note": "visited the dwelling",
                             "evidence-document_reference": "PV-2026-118"}).status_code == 302
    answer = client.post(url, {"action": "decide",
                               "decision-note": "The declared data matches the visit."})
    assert answer.status_code == 302
    review = ScoreReview.objects.get(reference=reference)
    assert review.status == "decided" and review.decision == "confirmed"
    assert list(review.events.values_list("kind", flat=True)) == [
        "requested", "assigned", "evidence", "decided"]


def test_an_agent_reads_reviews_of_their_provinces_but_does_not_decide_them(agent_a):
    household = household_create()
    reference = matrix_cases(household.reference)["review_ref"]
    client = signed_in(agent_a)
    assert client.get(f"/backoffice/reviews/{reference}/").status_code == 200
    assert client.post(f"/backoffice/reviews/{reference}/",
                       {"action": "assign"}).status_code == 403


def test_an_agent_answers_a_complaint_of_their_province(agent_a, agent_b):
    household = household_create()
    reference = matrix_cases(household.reference)["complaint_ref"]
    assert signed_in(agent_b).post(f"/backoffice/complaints/{reference}/",
                                   {"action": "assign"}).status_code == 404
    client = signed_in(agent_a)
    assert reference in client.get("/backoffice/complaints/").content.decode()
    url = f"/backoffice/complaints/{reference}/"
    assert client.post(url, {"action": "assign"}).status_code == 302
    answer = client.post(url, {"action": "answer",
                               "answer-response": "Your index was recomputed on 12 May."})
    assert answer.status_code == 302
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.status == "answered" and complaint.assigned_to == agent_a


def test_a_reviewer_corrects_the_data_and_the_index_is_recomputed(reviewer):
    from sijill.households.models import Household

    household = household_create()
    reference = matrix_cases(household.reference)["review_ref"]
    client = signed_in(reviewer)
    url = f"/backoffice/reviews/{reference}/correct/"
    assert client.get(url).status_code == 302  # not assigned yet: back to the review
    client.post(f"/backoffice/reviews/{reference}/", {"action": "assign"})
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    for form in (page.context["data_form"], *page.context["members"].forms):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is not None:
                data[form.add_prefix(name)] = value
    management = page.context["members"].management_form
    data.update({management.add_prefix(k): v for k, v in management.initial.items()})
    data["household-cars"] = 2
    data["decision-note"] = "Two cars seen in the vehicle registry."
    answer = client.post(url, data)
    assert answer.status_code == 302, [f.errors for f in (page.context["data_form"],)]
    review = ScoreReview.objects.get(reference=reference)
    household = Household.objects.get(pk=household.pk)
    assert review.decision == "corrected" and review.new_version == household.current_version
    assert review.new_score is not None
    assert household.versions.get(version=household.current_version).cars == 2


def test_a_households_page_leads_to_its_own_discrepancies_and_reviews(agent_a):
    household, other = household_create(), household_create()
    mine, theirs = discrepancy_create(household), discrepancy_create(other)
    client = signed_in(agent_a)
    page = client.get(f"/backoffice/households/{household.reference}/").content.decode()
    assert f"household={household.reference}" in page
    listing = client.get("/backoffice/discrepancies/", {"status": "all",
                                                        "household": household.reference})
    assert [d.pk for d in listing.context["rows"]] == [mine.pk]
    assert theirs.pk != mine.pk
    reviews = client.get("/backoffice/reviews/", {"household": household.reference})
    assert reviews.status_code == 200 and reviews.context["rows"] == []


def test_a_discrepancy_is_shown_in_words_and_its_encrypted_values_opened(agent_a):
    from sijill.verification.sealed import seal

    household = household_create()
    sealed = discrepancy_create(household, field="health_coverage", partner="social_security",
                                declared=seal("health_coverage", "amo_tadamon"),
                                verified=seal("health_coverage", "amo_public"))
    discrepancy_create(household, field="cars", declared=0, verified=2)
    client = signed_in(agent_a)
    client.cookies["django_language"] = "fr"
    for url in ("/backoffice/discrepancies/", f"/backoffice/discrepancies/{sealed.pk}/"):
        page = client.get(url).content.decode()
        assert "Couverture médicale" in page and "AMO Tadamon" in page
        assert "Sécurité sociale et assurance maladie (CNSS, CNOPS)" in page
        assert sealed.declared not in page and "health_coverage" not in page
        assert "social_security" not in page
