from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from sijill.audit.models import AuditEntry
from sijill.notifications.models import Notification
from sijill.notifications.selectors import file_messages
from sijill.notifications.services import (
    notice_queue,
    notifications_requeue_overdue,
    one_time_code_send,
)
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db


def test_an_email_goes_through_djangos_mail_with_a_message_id_from_its_idempotency_key(
        django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        n = notice_queue(kind="generic", person=person, channel="email", email="a@example.org",
                         key="mail", context={"message": "Bonjour"}, language="fr")
    n.refresh_from_db()
    assert n.status == "sent"
    [message] = mail.outbox
    assert message.to == ["a@example.org"]
    assert message.subject == "Un message du registre social"
    assert message.extra_headers["Message-ID"] == f"<{n.idempotency_key}@sijill>"
    assert n.provider_message_id == message.extra_headers["Message-ID"]


def test_an_email_needs_an_address():
    with pytest.raises(ValueError, match="e-mail"):
        notice_queue(kind="generic", person=person_create(), channel="email", key="x",
                     context={"message": "hi"})


def test_the_clear_code_is_in_no_table_once_sent_nor_in_the_audit_trail(
        django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        n = one_time_code_send(person=person, code="905512", purpose="sign_in")
    row = Notification.objects.filter(pk=n.pk).values().get()
    assert not any("905512" in str(value) for value in row.values())
    assert not any("905512" in str(e.detail) + e.entity_id
                   for e in AuditEntry.objects.all())
    assert "905512" not in n.key
    # Only the phone (the file backend playing it) got the clear text.
    assert "905512" in file_messages("sms", to=person.phone)[-1]["body"]


def test_a_code_waiting_to_be_sent_holds_its_clear_text_only_in_secret_body(
        django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=False):
        n = one_time_code_send(person=person, code="330021", purpose="sign_in")
    assert "330021" in n.secret_body and "330021" not in n.body
    assert n.expires_at is not None


def test_the_same_code_for_the_same_purpose_is_sent_once(django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        first = one_time_code_send(person=person, code="111222", purpose="sign_in")
        again = one_time_code_send(person=person, code="111222", purpose="sign_in")
        other = one_time_code_send(person=person, code="111223", purpose="sign_in")
    assert first.pk == again.pk != other.pk
    assert len(file_messages("sms", to=person.phone)) == 2


def test_a_person_without_a_phone_cannot_get_a_code():
    with pytest.raises(ValueError, match="phone"):
        one_time_code_send(person=person_create(phone=""), code="1", purpose="sign_in")


def test_overdue_sends_are_enqueued_again_and_sent(django_capture_on_commit_callbacks):
    person = person_create()
    with django_capture_on_commit_callbacks(execute=False):  # the task is lost
        n = notice_queue(kind="generic", person=person, channel="sms", key="lost",
                         context={"message": "hi"})
    assert notifications_requeue_overdue() == 0  # not overdue yet
    Notification.objects.filter(pk=n.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert notifications_requeue_overdue() == 1
    n.refresh_from_db()
    assert n.status == "sent"
    assert len(file_messages("sms", to=person.phone)) == 1


def test_a_sign_in_code_is_queued_ahead_of_bulk_notices(settings,
                                                         django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from sijill.notifications.services import CODE_TASK_PRIORITY

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    person = person_create()
    with django_capture_on_commit_callbacks(execute=True):
        notice_queue(kind="generic", person=person, key="bulk", context={"message": "hi"})
        one_time_code_send(person=person, code="482913", purpose="sign_in")
    priorities = sorted(DBTaskResult.objects.values_list("priority", flat=True))
    assert priorities == [0, CODE_TASK_PRIORITY]
    first = DBTaskResult.objects.ready().first()  # what a worker takes next
    assert first is not None and first.priority == CODE_TASK_PRIORITY
