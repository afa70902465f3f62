"""The index notice leaves within SIJILL["NOTICE_LIMIT_DAYS"] of registration; operators see the
registrations at risk of missing it and those that missed it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from sijill.core.env import Env
from sijill.households.models import RegistrationEvent
from sijill.households.tests.factories import household_create
from sijill.notifications import conf
from sijill.notifications.models import Notification
from sijill.notifications.selectors import notice_deadlines
from sijill.notifications.services import notice_queue
from sijill.testing.factories import events_backdate

pytestmark = pytest.mark.django_db

ALL = ("on_time", "late", "pending", "at_risk", "missed")


def _registered(days_ago: float = 0):
    household = household_create()
    events_backdate(RegistrationEvent.objects.filter(household=household, to_status="submitted"),
                    at=timezone.now() - timedelta(days=days_ago))
    return household


def _notice_sent(household, days_after_registration: float) -> None:
    registered = household.events.get(to_status="submitted").at
    notice_queue(kind="index_notice", household=household, key=f"n{household.pk}",
                 context={"index": "9.0", "review_until": "01/01/2027"})
    Notification.objects.filter(household=household).update(
        status="sent", sent_at=registered + timedelta(days=days_after_registration))


def _states(**kwargs) -> dict[str, str]:
    return {d.reference: d.state for d in notice_deadlines(**kwargs)}


def test_a_registration_is_pending_then_at_risk_then_missed_as_days_pass():
    household = _registered()
    now = timezone.now()
    assert _states(states=ALL, now=now + timedelta(days=1)) == {household.reference: "pending"}
    assert _states(now=now + timedelta(days=8.5)) == {household.reference: "at_risk"}
    assert _states(now=now + timedelta(days=10.5)) == {household.reference: "missed"}


def test_by_default_only_those_at_risk_or_late_are_listed_most_urgent_first():
    old, at_risk, fresh = _registered(12), _registered(9), _registered(1)
    rows = notice_deadlines()
    assert [(r.reference, r.state) for r in rows] == [(old.reference, "missed"),
                                                      (at_risk.reference, "at_risk")]
    assert fresh.reference not in {r.reference for r in rows}
    assert rows[1].deadline == rows[1].registered_at + timedelta(days=10)


def test_a_notice_sent_in_time_is_on_time_and_one_sent_after_the_limit_is_late():
    on_time, late = _registered(20), _registered(20)
    _notice_sent(on_time, 3)
    _notice_sent(late, 12)
    assert _states(states=ALL) == {on_time.reference: "on_time", late.reference: "late"}
    assert _states() == {}


def test_a_shorter_limit_puts_households_at_risk_sooner(settings):
    settings.SIJILL = {**settings.SIJILL, "NOTICE_LIMIT_DAYS": 5}
    household = _registered(3.5)
    assert _states() == {household.reference: "at_risk"}


def test_cancelled_and_draft_registrations_are_not_listed():
    from sijill.accounts.actors import SYSTEM
    from sijill.households.services import household_transition

    household = _registered(12)
    household_transition(actor=SYSTEM, reference=household.reference, to="cancelled")
    household_create(submit=False)
    assert _states(states=ALL) == {}


@pytest.mark.parametrize("days", [4, 11, 0, "7"])
def test_a_limit_outside_five_to_ten_days_stops_the_start(settings, days):
    settings.SIJILL = {**settings.SIJILL, "NOTICE_LIMIT_DAYS": days}
    with pytest.raises(ImproperlyConfigured, match="NOTICE_LIMIT_DAYS"):
        conf.check_limits()


@pytest.mark.parametrize("value", ["4", "11", "ten"])
def test_the_environment_variable_outside_five_to_ten_stops_the_start(value):
    with pytest.raises(ImproperlyConfigured, match="SIJILL_NOTICE_LIMIT_DAYS"):
        Env({"SIJILL_NOTICE_LIMIT_DAYS": value}).int("SIJILL_NOTICE_LIMIT_DAYS", 10, minimum=5,
                                                     maximum=10)


def test_a_limit_from_five_to_ten_days_is_accepted(settings):
    for days in range(5, 11):
        settings.SIJILL = {**settings.SIJILL, "NOTICE_LIMIT_DAYS": days}
        assert conf.notice_limit_days() == days


def test_the_counts_are_made_in_the_database_and_agree_with_the_list_beyond_its_limit():
    from sijill.notifications.selectors import notice_deadline_counts

    for days_ago in (0, 1, 8.5, 9, 11, 12, 30):
        _registered(days_ago)
    on_time, late = _registered(20), _registered(25)
    _notice_sent(on_time, 3)
    _notice_sent(late, 12)
    listed = notice_deadlines(states=ALL)
    counts = notice_deadline_counts(states=ALL)
    assert counts == {state: sum(d.state == state for d in listed) for state in ALL}
    assert counts == {"on_time": 1, "late": 1, "pending": 2, "at_risk": 2, "missed": 3}
    # The list stops at its limit; the counts do not.
    assert len(notice_deadlines(limit=2)) == 2
    assert notice_deadline_counts(states=("at_risk", "missed")) == {"at_risk": 2, "missed": 3}
