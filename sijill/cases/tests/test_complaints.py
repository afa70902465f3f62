"""Complaints: filing by channel, the answer deadline, escalation once it passes, the answer."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from sijill.cases import selectors, services
from sijill.cases.models import Complaint, ComplaintEvent
from sijill.core.errors import NotFound, PermissionDenied, ValidationFailed
from sijill.households.tests.factories import KENITRA, household_create
from sijill.testing import factories

pytestmark = pytest.mark.django_db
CASA = ZoneInfo("Africa/Casablanca")
FILED = datetime(2026, 5, 4, 16, 0, tzinfo=CASA)


@pytest.fixture
def household(citizen):
    return household_create(members=[(citizen.person, "head")])


def _file(actor, **kw):
    values = {"category": "score", "subject": "Index too high",
              "description": "We have no car.", "now": FILED}
    values.update(kw)
    return services.complaint_file(actor=actor, **values)


def test_a_citizen_files_on_the_portal_about_themself_and_their_household(
        household, citizen_actor, citizen):
    complaint = _file(citizen_actor)
    assert (complaint.channel, complaint.complainant, complaint.household) == (
        "portal", citizen.person, household)
    assert complaint.province_id == household.commune.province_id
    assert complaint.due_on == date(2026, 5, 19)  # 15 days after filing, Casablanca calendar
    assert [e.kind for e in complaint.events.all()] == ["filed"]


def test_an_agent_takes_a_complaint_by_phone_for_a_person(agent_a_actor, household, citizen):
    complaint = _file(agent_a_actor, channel="phone", complainant_idcs=citizen.idcs,
                      household_reference=household.reference, category="centre_conduct")
    assert (complaint.channel, complaint.filed_by) == ("phone", agent_a_actor.label)


def test_an_agent_cannot_file_about_a_household_outside_their_provinces(agent_a_actor):
    head = factories.person_create()
    elsewhere = household_create(members=[(head, "head")], commune=KENITRA)
    with pytest.raises(NotFound):
        _file(agent_a_actor, complainant_idcs=head.idcs,
              household_reference=elsewhere.reference)


def test_a_citizen_files_only_in_their_own_name(citizen_actor, other_citizen):
    with pytest.raises(PermissionDenied):
        _file(citizen_actor, complainant_idcs=other_citizen.idcs)
    with pytest.raises(ValidationFailed):
        _file(citizen_actor, channel="phone")


def test_overdue_complaints_are_escalated_once(household, citizen_actor):
    complaint = _file(citizen_actor)
    # Still due on its last day, at 23:59 Casablanca time.
    assert services.complaints_escalate_overdue(
        now=datetime(2026, 5, 19, 23, 59, tzinfo=CASA)) == 0
    after = datetime(2026, 5, 20, 0, 1, tzinfo=CASA)
    assert services.complaints_escalate_overdue(now=after) == 1
    assert services.complaints_escalate_overdue(now=after) == 0
    assert services.complaints_escalate_overdue(
        now=datetime(2026, 6, 20, tzinfo=CASA)) == 0
    complaint.refresh_from_db()
    assert complaint.escalated_at == after
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="escalated").count() == 1


def test_the_command_escalates_idempotently(household, citizen_actor):
    complaint = Complaint.objects.get(pk=_file(citizen_actor).pk)
    call_command("escalate_overdue_complaints")  # now (2026-11) is far past 19 May
    call_command("escalate_overdue_complaints")
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="escalated").count() == 1


def test_an_answered_complaint_is_never_escalated(household, citizen_actor, agent_a_actor):
    complaint = _file(citizen_actor)
    services.complaint_answer(actor=agent_a_actor, reference=complaint.reference,
                              response="Your index was reviewed.",
                              now=datetime(2026, 5, 10, tzinfo=CASA))
    assert services.complaints_escalate_overdue(now=datetime(2026, 6, 1, tzinfo=CASA)) == 0


def test_the_answer_is_recorded_and_sent_to_the_outbox(
        household, citizen_actor, agent_a_actor, caught, django_capture_on_commit_callbacks):
    complaint = _file(citizen_actor)
    services.complaint_assign(actor=agent_a_actor, reference=complaint.reference)
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_answer(actor=agent_a_actor, reference=complaint.reference,
                                  response="A reviewer will call you.")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.response) == ("answered", "A reviewer will call you.")
    assert caught.named("complaint_answered") == [{"complaint_id": complaint.pk}]
    assert [e.kind for e in complaint.events.all()] == ["filed", "assigned", "answered"]


def test_the_queue_keeps_agents_to_their_provinces_and_filters(
        household, citizen_actor, agent_a_actor, agent_b, reviewer_actor):
    from sijill.accounts.auth import actor_for_user

    ours = _file(citizen_actor)
    head = factories.person_create()
    kenitra = household_create(members=[(head, "head")], commune=KENITRA)
    theirs = _file(actor_for_user(agent_b), complainant_idcs=head.idcs,
                   household_reference=kenitra.reference, category="registration")
    assert [c.reference for c in selectors.complaint_queue(actor=agent_a_actor)] == [
        ours.reference]
    assert [c.reference for c in selectors.complaint_queue(actor=actor_for_user(agent_b))] == [
        theirs.reference]
    assert {c.reference for c in selectors.complaint_queue(actor=reviewer_actor)} == {
        ours.reference, theirs.reference}
    assert [c.reference for c in selectors.complaint_queue(
        actor=reviewer_actor, category="registration")] == [theirs.reference]
    services.complaints_escalate_overdue(now=datetime(2026, 7, 1, tzinfo=CASA))
    assert len(selectors.complaint_queue(actor=reviewer_actor, escalated=True)) == 2
    with pytest.raises(NotFound):
        services.complaint_assign(actor=agent_a_actor, reference=theirs.reference)


def test_the_api_files_lists_and_answers(as_citizen, as_agent_a, household):
    filed = as_citizen.post("complaints", {"category": "verification", "subject": "Water bill",
                                           "description": "The bill is my neighbour's."})
    assert filed.status_code == 201, filed.json()
    ref = filed.json()["reference"]
    assert filed.json()["household"] == household.reference
    assert [c["reference"] for c in as_citizen.get("me/complaints").json()] == [ref]
    queue = as_agent_a.get("complaints", {"open": True}).json()
    assert [c["reference"] for c in queue] == [ref]
    answered = as_agent_a.post(f"complaints/{ref}/answer", {"response": "Corrected."})
    assert answered.status_code == 200, answered.json()
    seen = as_citizen.get(f"complaints/{ref}").json()
    assert (seen["status"], seen["response"], seen["assigned_to"]) == (
        "answered", "Corrected.", None)


def test_the_scheduler_knows_the_escalation_job(household, citizen_actor):
    from sijill.core import schedule

    jobs = schedule.jobs()
    assert "cases.escalate_complaints" in jobs
    _file(citizen_actor)
    assert jobs["cases.escalate_complaints"].func() == "1 complaints escalated"
    assert jobs["cases.escalate_complaints"].func() == "0 complaints escalated"
