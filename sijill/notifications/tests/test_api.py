from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sijill.audit.models import AuditEntry
from sijill.households.models import RegistrationEvent
from sijill.households.tests.factories import household_create
from sijill.notifications.services import notice_queue, one_time_code_send
from sijill.testing.factories import events_backdate, person_create

pytestmark = pytest.mark.django_db


def _late_household(days: int = 12):
    household = household_create()
    events_backdate(RegistrationEvent.objects.filter(household=household),
                    at=timezone.now() - timedelta(days=days))
    return household


def test_an_analyst_lists_the_households_late_for_their_index_notice(as_analyst):
    missed, at_risk = _late_household(12), _late_household(9)
    answer = as_analyst.get("notifications/deadlines")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["limit_days"] == 10
    assert [(i["reference"], i["state"]) for i in body["items"]] == [
        (missed.reference, "missed"), (at_risk.reference, "at_risk")]
    assert body["items"][1]["days_left"] > 0 > body["items"][0]["days_left"]
    assert AuditEntry.objects.filter(action="read_notice_deadlines").exists()


def test_the_list_can_ask_for_one_state(as_admin):
    missed, _at_risk = _late_household(12), _late_household(9)
    body = as_admin.get("notifications/deadlines", {"state": "missed"}).json()
    assert [i["reference"] for i in body["items"]] == [missed.reference]


def test_an_unknown_state_is_a_validation_error(as_admin):
    answer = as_admin.get("notifications/deadlines", {"state": "lost"})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"].startswith("state")


def test_an_agent_may_not_see_the_deadlines(as_agent_a):
    assert as_agent_a.get("notifications/deadlines").status_code == 403


def test_the_outbox_in_figures(as_analyst, django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        notice_queue(kind="generic", person=person, channel="sms", key="a",
                     context={"message": "hi"})
    body = as_analyst.get("notifications/outbox").json()
    assert body == [{"channel": "sms", "status": "sent", "count": 1}]


def test_a_citizen_lists_the_notices_of_their_household_but_not_their_codes_nor_others(
        as_citizen, citizen, django_capture_on_commit_callbacks):
    from sijill.population.models import Person

    me = Person.objects.get(idcs=citizen.idcs)
    mine = household_create(members=[(me, "head")])
    theirs = household_create()
    with django_capture_on_commit_callbacks(execute=True):
        notice_queue(kind="index_notice", household=mine, key="mine",
                     context={"index": "9.1", "review_until": "01/01/2027"})
        notice_queue(kind="index_notice", household=theirs, key="theirs",
                     context={"index": "9.2", "review_until": "01/01/2027"})
        one_time_code_send(person=me, code="777111", purpose="sign_in")
    answer = as_citizen.get("me/notices")
    assert answer.status_code == 200
    items = answer.json()
    assert [(i["kind"], i["reference"]) for i in items] == [("index_notice", mine.reference)]
    assert "777111" not in answer.content.decode()


def test_an_administrator_without_a_person_has_no_notices(as_admin):
    answer = as_admin.get("me/notices")
    assert (answer.status_code, answer.json()) == (200, [])


def test_an_agent_has_no_own_notices_to_list(as_agent_a):
    assert as_agent_a.get("me/notices").status_code == 403
