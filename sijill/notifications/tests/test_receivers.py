"""Signals from the other apps become notices (sijill.core.events)."""

from __future__ import annotations

import pytest

from sijill.core.events import eligibility_changed, household_scored
from sijill.notifications.models import Notification
from sijill.notifications.selectors import last_sms_to
from sijill.notifications.tests.helpers import index_said, scored_household

pytestmark = pytest.mark.django_db


def _scored(household, score, reason="registration"):
    return household_scored.send_robust(sender=None, household_id=household.pk,
                                        score_id=score.pk, reason=reason)


def test_a_first_score_sends_the_index_notice_and_marks_the_household_notified(
        django_capture_on_commit_callbacks):
    household, score = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, score)
    notice = Notification.objects.get(kind="index_notice")
    assert notice.status == "sent"
    assert notice.reference == household.reference
    assert index_said(score.value, notice.language) in notice.body
    assert household.reference in notice.body
    assert last_sms_to(household.declarant.phone) == notice.body
    household.refresh_from_db()
    assert household.status == "notified"
    assert household.events.filter(to_status="notified").count() == 1


def test_the_same_signal_sent_twice_sends_one_notice(django_capture_on_commit_callbacks):
    household, score = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, score)
        _scored(household, score)
    assert Notification.objects.filter(kind="index_notice").count() == 1


def test_a_formula_rescore_sends_no_index_notice(django_capture_on_commit_callbacks):
    household, score = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, score, "rescore")
    assert not Notification.objects.exists()


@pytest.mark.parametrize("reason", ["verification", "death"])
def test_a_new_score_of_the_households_own_file_is_told_when_its_index_changed(
        reason, django_capture_on_commit_callbacks):
    from sijill.scoring.models import Score

    household, first = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, first)
    # The same index again (a late answer that changed nothing the index shows): no notice,
    # and the household, scored again, is notified by the notice it holds.
    from sijill.households.models import Household

    # Scored again, as a new version after a death is (resubmitted, verified, scored).
    Household.objects.filter(pk=household.pk).update(status="scored")
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, first, reason)
    assert Notification.objects.filter(kind="index_notice").count() == 1
    household.refresh_from_db()
    assert household.status == "notified"
    # A different index: told, with a new review window.
    changed = Score.objects.create(**{  # the next basis, as verification writes it
        f.attname: getattr(first, f.attname) for f in Score._meta.concrete_fields
        if f.name not in {"id", "value", "basis"}}, value=first.value + 0.25,
        basis=first.basis + 1)
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, changed, reason)
    notice = Notification.objects.filter(kind="index_notice").latest("pk")
    assert (notice.context["reason"], notice.context["score_id"]) == (reason, changed.pk)
    assert index_said(changed.value, notice.language) in notice.body


@pytest.mark.parametrize("reason", ["update", "review"])
def test_an_update_or_a_review_sends_the_index_notice(reason,
                                                       django_capture_on_commit_callbacks):
    household, score = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, score, reason)
    notice = Notification.objects.get(kind="index_notice")
    assert (notice.status, notice.context["reason"]) == ("sent", reason)


def test_one_score_is_notified_once_whatever_the_reasons(django_capture_on_commit_callbacks):
    household, score = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, score, "registration")
        _scored(household, score, "update")
    assert Notification.objects.filter(kind="index_notice").count() == 1


def test_a_change_of_eligibility_is_told_once_per_change(django_capture_on_commit_callbacks):
    household, _score = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        for eligible in (True, True, False):
            eligibility_changed.send_robust(sender=None, household_id=household.pk,
                                            program_code="amo_tadamon", eligible=eligible)
    notices = list(Notification.objects.filter(kind="eligibility_change").order_by("id"))
    assert [n.context["eligible"] for n in notices] == [True, False]
    assert all(n.status == "sent" for n in notices)


def test_a_notice_in_french_for_a_french_speaking_household(django_capture_on_commit_callbacks):
    household, score = scored_household()
    household.notice_language = "fr"
    household.save(update_fields=["notice_language"])
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, score)
    notice = Notification.objects.get(kind="index_notice")
    assert notice.language == "fr"
    assert "Registre social" in notice.body or "registre social" in notice.body.lower()


def test_a_notice_that_cannot_be_addressed_is_logged_not_raised(caplog):
    from sijill.notifications import receivers

    def unreachable(sender, **kwargs):
        raise ValueError("no phone number on record")

    wrapped = receivers._logged(unreachable)
    assert wrapped(None, complaint_id=7) is None
    assert "no notice" in caplog.text and "complaint_id" in caplog.text


def test_a_provisional_index_is_told_as_provisional_in_the_notice():
    from sijill.notifications.render import render

    context = {"index": "11.2034", "review_until": "01/02/2027", "reference": "MEN-00000001",
               "provisional": True}
    sms = render(kind="index_notice", channel="sms", language="fr", context=context)
    assert "Cet indice est provisoire" in sms.body and "11,2034" in sms.body
    letter = render(kind="index_notice", channel="letter", language="ar", context=context)
    assert "هذا المؤشر مؤقت" in letter.html


def test_a_final_index_carries_no_provisional_warning(django_capture_on_commit_callbacks):
    household, score = scored_household()
    assert not score.provisional
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, score)
    notice = Notification.objects.get(kind="index_notice")
    assert notice.context["provisional"] is False
    # The warning in the notice's own language is absent (its words are tested above).
    warning = {"ar": "مؤقت", "fr": "provisoire", "en": "provisional"}[notice.language]
    assert warning not in notice.body and notice.body


def test_a_change_notice_for_a_score_already_replaced_is_not_sent(
        django_capture_on_commit_callbacks):
    from sijill.scoring.models import Score

    household, first = scored_household()
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, first)
    fields = {f.attname: getattr(first, f.attname) for f in Score._meta.concrete_fields
              if f.name not in {"id", "value", "basis"}}
    older = Score.objects.create(**fields, value=first.value + 0.25, basis=first.basis + 1)
    newer = Score.objects.create(**fields, value=first.value + 0.5, basis=first.basis + 2)
    with django_capture_on_commit_callbacks(execute=True):
        _scored(household, newer, "verification")
        _scored(household, older, "verification")  # its signal arrives late
    notices = Notification.objects.filter(kind="index_notice").order_by("pk")
    assert [n.context["score_id"] for n in notices] == [first.pk, newer.pk]
