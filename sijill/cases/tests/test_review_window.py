"""The review window: from the index notice (day 0) to the end of day 60, Casablanca calendar.

Morocco runs on UTC+1 but goes back to UTC+0 around Ramadan (15 Feb – 22 Mar 2026 in the tz
data), so a notice in January has its day 60 in Ramadan time: 23:59 on day 60 is 23:59 UTC, and
a UTC+1 reading would wrongly close the window an hour early.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.utils import translation
from freezegun import freeze_time

import sijill.urls  # noqa: F401  (routes and schemas load before time is frozen)
from sijill.cases import services
from sijill.cases.models import ScoreReview
from sijill.cases.selectors import review_window
from sijill.cases.tests.factories import notified_household
from sijill.core.errors import ValidationFailed
from sijill.testing import factories

pytestmark = pytest.mark.django_db
CASA = ZoneInfo("Africa/Casablanca")


def casa(*args: int) -> datetime:
    return datetime(*args, tzinfo=CASA)


@pytest.fixture
def household_notified_in_january(citizen):
    # 10 January 2026, 10:00 in Casablanca (UTC+1): day 0. Day 60 is 11 March 2026 (UTC+0).
    return notified_household(members=[(citizen.person, "head")],
                              notified_at=casa(2026, 1, 10, 10, 0))


def _ask(actor, household, now):
    return services.review_request(actor=actor, reference=household.reference,
                                   reason="Our cows were sold last year.", now=now)


def test_the_tz_data_has_the_ramadan_shift_this_test_relies_on():
    assert casa(2026, 1, 10, 10).utcoffset().total_seconds() == 3600
    assert casa(2026, 3, 11, 23, 59).utcoffset().total_seconds() == 0


def test_a_review_is_accepted_on_day_60_at_23_59_casablanca_time(
        household_notified_in_january, citizen_actor):
    window = review_window(household=household_notified_in_january,
                           now=casa(2026, 3, 11, 23, 59))
    assert (window.opens_on, window.closes_on, window.open) == (
        date(2026, 1, 10), date(2026, 3, 11), True)
    review = _ask(citizen_actor, household_notified_in_january, casa(2026, 3, 11, 23, 59, 59))
    assert review.status == ScoreReview.Status.REQUESTED
    assert review.closes_on == date(2026, 3, 11)


def test_day_60_at_23_30_utc_is_still_day_60_in_ramadan_time(
        household_notified_in_january, citizen_actor):
    # UTC+0 in Ramadan: 23:30 UTC is 23:30 in Casablanca, not 00:30 the next day.
    review = _ask(citizen_actor, household_notified_in_january,
                  datetime(2026, 3, 11, 23, 30, tzinfo=UTC))
    assert review.pk


def test_a_review_is_refused_on_day_61_at_midnight_with_the_day_it_closed(
        household_notified_in_january, citizen_actor):
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        _ask(citizen_actor, household_notified_in_january, casa(2026, 3, 12, 0, 0))
    body = refused.value.as_dict()["error"]
    assert body["closed_on"] == "2026-03-11"
    assert body["fields"][0]["field"] == "reference"
    assert body["fields"][0]["code"] == "review_period_closed"
    assert "closed on March 11, 2026" in body["fields"][0]["message"]
    assert not ScoreReview.objects.exists()


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", "11 mars 2026"),
    ("ar", "2026"),
    ("en", "March 11, 2026"),
])
def test_the_refusal_names_the_closing_date_in_the_callers_language(
        household_notified_in_january, citizen_actor, language, expected):
    with translation.override(language), pytest.raises(ValidationFailed) as refused:
        _ask(citizen_actor, household_notified_in_january, casa(2026, 4, 2, 9, 0))
    message = refused.value.as_dict()["error"]["fields"][0]["message"]
    assert expected in message
    if language == "ar":
        assert "مارس" in message or "آذار" in message
        assert "مراجعة المؤشر" in message
    if language == "fr":
        assert "révision" in message


def test_day_0_is_the_casablanca_date_of_the_notice_not_the_utc_date(citizen, citizen_actor):
    # Sent at 23:30 UTC on 19 December 2025 = 00:30 on 20 December in Casablanca (UTC+1).
    household = notified_household(members=[(citizen.person, "head")],
                                   notified_at=datetime(2025, 12, 19, 23, 30, tzinfo=UTC))
    window = review_window(household=household, now=casa(2025, 12, 20, 8))
    assert (window.opens_on, window.closes_on) == (date(2025, 12, 20), date(2026, 2, 18))
    # 18 February 2026 is in Ramadan time (UTC+0): the window ends at 23:59:59 UTC.
    assert review_window(household=household,
                         now=datetime(2026, 2, 18, 23, 59, 59, tzinfo=UTC)).open
    assert not review_window(household=household,
                             now=datetime(2026, 2, 19, 0, 0, tzinfo=UTC)).open


def test_summer_boundary_on_utc_plus_one(citizen, citizen_actor):
    household = notified_household(members=[(citizen.person, "head")],
                                   notified_at=casa(2025, 6, 1, 15, 0))
    assert review_window(household=household, now=casa(2025, 7, 31, 23, 59)).open
    # 00:00 on 1 August in Casablanca is 23:00 UTC on 31 July.
    assert not review_window(household=household,
                             now=datetime(2025, 7, 31, 23, 0, tzinfo=UTC)).open
    with pytest.raises(ValidationFailed):
        _ask(citizen_actor, household, datetime(2025, 7, 31, 23, 0, tzinfo=UTC))


def test_a_review_is_refused_before_any_index_notice(citizen, citizen_actor):
    from sijill.households.tests.factories import household_create

    household = household_create(members=[(citizen.person, "head")])
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        _ask(citizen_actor, household, casa(2026, 1, 1, 10))
    assert refused.value.as_dict()["error"]["fields"][0]["code"] == "not_notified"


def test_the_api_refuses_on_day_61_and_says_when_it_closed(as_citizen, citizen):
    household = notified_household(members=[(citizen.person, "head")],
                                   notified_at=casa(2026, 1, 10, 10, 0))
    with freeze_time(casa(2026, 3, 11, 23, 59)):
        tracking = as_citizen.get("me/household").json()["household"]
        assert tracking["review_window"] == {
            "notified_at": tracking["review_window"]["notified_at"], "opens_on": "2026-01-10",
            "closes_on": "2026-03-11", "open": True}
    with freeze_time(casa(2026, 3, 12, 0, 0)):
        response = as_citizen.post(f"households/{household.reference}/reviews",
                                   {"reason": "Wrong number of rooms."}, lang="fr")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["closed_on"] == "2026-03-11"
    assert "11 mars 2026" in error["fields"][0]["message"]
    with freeze_time(casa(2026, 3, 11, 23, 59)):
        response = as_citizen.post(f"households/{household.reference}/reviews",
                                   {"reason": "Wrong number of rooms."})
    assert response.status_code == 201, response.json()
    assert response.json()["closes_on"] == "2026-03-11"


@pytest.mark.skipif(not apps.is_installed("sijill.notifications"),
                    reason="the outbox (sijill.notifications) is not installed")
def test_the_window_runs_from_the_outbox_index_notice_when_one_was_sent(citizen):
    notification = apps.get_model("notifications", "Notification")
    household = notified_household(members=[(citizen.person, "head")],
                                   notified_at=casa(2026, 1, 10, 10, 0))
    notification.objects.create(
        key=f"index-notice-{household.pk}", kind="index_notice", channel="sms",
        household=household, reference=household.reference, recipient="+212600000000",
        language="ar", body="...", status="sent", sent_at=casa(2026, 1, 12, 9, 0),
        created_by="test")
    window = review_window(household=household, now=casa(2026, 3, 13, 12))
    assert (window.opens_on, window.closes_on, window.open) == (
        date(2026, 1, 12), date(2026, 3, 13), True)


def test_an_agent_asks_on_behalf_of_the_household_by_phone(agent_a_actor):
    head = factories.person_create()
    household = notified_household(members=[(head, "head")],
                                   notified_at=casa(2026, 1, 10, 10, 0))
    review = services.review_request(actor=agent_a_actor, reference=household.reference,
                                     reason="Called the centre.", channel="phone",
                                     now=casa(2026, 1, 20, 10))
    assert (review.channel, review.requester) == ("phone", head)
