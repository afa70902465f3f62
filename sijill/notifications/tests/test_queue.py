from __future__ import annotations

import pytest
from django.utils import translation

from sijill.households.tests.factories import household_create
from sijill.notifications.letters import letters_print
from sijill.notifications.models import Notification
from sijill.notifications.selectors import last_code_to, last_sms_to
from sijill.notifications.services import notice_queue, one_time_code_send
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db


def test_a_notice_goes_by_sms_to_the_declarants_phone_in_the_households_language(
        django_capture_on_commit_callbacks):
    household = household_create()
    with django_capture_on_commit_callbacks(execute=True):
        n = notice_queue(kind="index_notice", household=household, key="k1",
                         context={"index": "9.1234", "review_until": "01/02/2027"})
    n.refresh_from_db()
    assert (n.channel, n.status, n.language) == ("sms", "sent", "ar")
    assert n.recipient == household.declarant.phone
    assert household.reference in n.body
    assert last_sms_to(household.declarant.phone) == n.body


def test_queuing_the_same_key_twice_gives_the_first_notice(django_capture_on_commit_callbacks):
    household = household_create()
    with django_capture_on_commit_callbacks(execute=True):
        first = notice_queue(kind="index_notice", household=household, key="same",
                             context={"index": "9.1"})
        again = notice_queue(kind="index_notice", household=household, key="same",
                             context={"index": "9.9"})
    assert first.pk == again.pk
    assert Notification.objects.count() == 1


def test_a_one_time_code_reaches_the_phone_but_the_outbox_keeps_it_redacted(
        django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        n = one_time_code_send(person=person, code="482913", purpose="portal_sign_in")
    n.refresh_from_db()
    assert n.status == "sent"
    assert "482913" not in n.body and "482913" not in str(n.context)
    assert n.secret_body == ""
    assert "482913" in last_sms_to(person.phone)
    assert last_code_to(person.phone) == "482913"


def test_a_household_without_a_phone_gets_a_letter(django_capture_on_commit_callbacks):
    person = person_create(phone="")
    household = household_create(members=[(person, "head")])
    with django_capture_on_commit_callbacks(execute=True):
        n = notice_queue(kind="index_notice", household=household, key="letter",
                         context={"index": "9.1", "review_until": "01/02/2027"})
    n.refresh_from_db()
    assert (n.channel, n.status) == ("letter", "queued")  # until the next print batch
    letters_print()
    n.refresh_from_db()
    assert n.status == "sent" and n.batch is not None
    assert household.reference in n.html


def test_a_french_household_gets_french(django_capture_on_commit_callbacks):
    household = household_create()
    household.notice_language = "fr"
    household.save()
    with django_capture_on_commit_callbacks(execute=True):
        n = notice_queue(kind="index_notice", household=household, key="fr",
                         context={"index": "9.1", "review_until": "01/02/2027"})
    with translation.override("en"):
        assert n.language == "fr"


def test_a_long_key_and_purpose_are_fine_and_the_queuing_is_audited(
        django_capture_on_commit_callbacks):
    from sijill.audit.models import AuditEntry

    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        n = one_time_code_send(person=person, code="123456",
                               purpose="a-rather-long-purpose-name-for-a-code-" * 2)
    entry = AuditEntry.objects.get(action="notify")
    assert entry.entity_id == str(n.pk) and entry.subject == person.idcs
    assert entry.detail["key"] == n.key and entry.detail["channel"] == "sms"
