"""Registration opens region by region; elsewhere it is refused saying when it opens."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sijill.households.models import Household, RolloutWindow
from sijill.households.tests.factories import CASABLANCA, KENITRA, registration_payload

pytestmark = pytest.mark.django_db


def test_the_pilot_region_rabat_sale_kenitra_is_open_from_november_2022():
    window = RolloutWindow.objects.get(code="04")
    assert window.scope == "region" and window.opens_on == date(2022, 11, 14)


def test_registration_is_refused_where_no_opening_date_is_set(as_admin, person_factory):
    r = as_admin.post("households", registration_payload([(person_factory(), "head")],
                                                         commune=CASABLANCA))
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["fields"][0]["field"] == "commune"
    assert error["fields"][0]["code"] == "rollout_not_scheduled"
    assert "Casablanca" in error["fields"][0]["message"]
    assert "no opening date" in error["fields"][0]["message"]
    assert error["opens_on"] is None
    assert not Household.objects.exists()


def test_registration_is_refused_before_the_opening_date_saying_when_it_opens(as_admin,
                                                                              person_factory):
    opens = date.today() + timedelta(days=30)
    RolloutWindow.objects.create(scope="region", code="06", opens_on=opens)
    r = as_admin.post("households", registration_payload([(person_factory(), "head")],
                                                         commune=CASABLANCA))
    assert r.status_code == 422
    field = r.json()["error"]["fields"][0]
    assert field["code"] == "rollout_not_open"
    assert opens.isoformat() in field["message"]
    assert r.json()["error"]["opens_on"] == opens.isoformat()


def test_a_region_opens_on_its_date(as_admin, person_factory):
    RolloutWindow.objects.create(scope="region", code="06", opens_on=date.today())
    r = as_admin.post("households", registration_payload([(person_factory(), "head")],
                                                         commune=CASABLANCA))
    assert r.status_code == 201


def test_a_commune_window_overrides_its_province_and_region(as_agent_b, person_factory):
    later = date.today() + timedelta(days=10)
    RolloutWindow.objects.create(scope="commune", code=KENITRA, opens_on=later)
    r = as_agent_b.post("households", registration_payload([(person_factory(), "head")],
                                                           commune=KENITRA))
    assert r.json()["error"]["fields"][0]["code"] == "rollout_not_open"
    r = as_agent_b.post("households", registration_payload([(person_factory(), "head")],
                                                           commune="04.281.01.05"))
    assert r.status_code == 201


def test_a_draft_cannot_be_submitted_once_its_commune_is_closed(as_agent_a, person_factory):
    r = as_agent_a.post("households", registration_payload([(person_factory(), "head")],
                                                           submit=False))
    RolloutWindow.objects.filter(code="04").update(opens_on=None)
    r = as_agent_a.post(f"households/{r.json()['reference']}/submit")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["code"] == "rollout_not_scheduled"
