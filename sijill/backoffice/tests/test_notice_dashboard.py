"""The operators' dashboard of the index notice's time limit (sijill.notifications)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sijill.backoffice.tests.conftest import signed_in
from sijill.households.models import RegistrationEvent
from sijill.households.tests.factories import household_create
from sijill.testing.factories import events_backdate

pytestmark = pytest.mark.django_db


def test_households_at_risk_and_late_are_listed_with_words_not_only_colours(analyst):
    late = household_create()
    events_backdate(RegistrationEvent.objects.filter(household=late),
                    at=timezone.now() - timedelta(days=30))
    at_risk = household_create()
    events_backdate(RegistrationEvent.objects.filter(household=at_risk),
                    at=timezone.now() - timedelta(days=9))
    on_track = household_create()
    page = signed_in(analyst).get("/backoffice/notices/time-limit/")
    html = page.content.decode()
    assert page.status_code == 200
    assert late.reference in html and at_risk.reference in html
    assert on_track.reference not in html
    states = {item["row"].reference: item["row"].state for item in page.context["rows"]}
    assert states == {late.reference: "missed", at_risk.reference: "at_risk"}
    assert "<svg" in html and "<table" in html


def test_an_agent_may_not_open_the_dashboard(agent_a):
    assert signed_in(agent_a).get("/backoffice/notices/time-limit/").status_code == 403


def test_the_dashboard_counts_every_household_not_only_the_listed_ones(analyst, monkeypatch):
    from sijill.notifications import selectors

    for _ in range(3):
        household = household_create()
        events_backdate(RegistrationEvent.objects.filter(household=household),
                        at=timezone.now() - timedelta(days=30))
    listed = selectors.notice_deadlines
    monkeypatch.setattr(selectors, "notice_deadlines",
                        lambda **kwargs: listed(**{**kwargs, "limit": 1}))
    page = signed_in(analyst).get("/backoffice/notices/time-limit/")
    assert len(page.context["rows"]) == 1
    assert {c["state"]: c["count"] for c in page.context["counts"]} == {"at_risk": 0,
                                                                       "missed": 3}
