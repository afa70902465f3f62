"""The roll-out calendar is set by decision (`manage.py rollout`), each change kept."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from sijill.accounts.actors import SYSTEM, Actor
from sijill.core.errors import PermissionDenied, ValidationFailed
from sijill.households.models import RolloutWindow
from sijill.households.rollout import rollout_history, rollout_window_set
from sijill.households.tests.factories import CASABLANCA, registration_payload

pytestmark = pytest.mark.django_db


def test_setting_a_date_opens_registration_on_that_day(as_admin, person_factory):
    body = registration_payload([(person_factory(), "head")], commune=CASABLANCA)
    assert as_admin.post("households", body).status_code == 422
    call_command("rollout", "06", "--opens", (date.today() - timedelta(days=1)).isoformat(),
                 "--decision", "Arrêté 12-27", stdout=io.StringIO())
    assert as_admin.post("households", body).status_code == 201


def test_every_change_is_kept_with_its_decision():
    rollout_window_set(actor=SYSTEM, code="06", opens_on=None, decision="announced")
    rollout_window_set(actor=SYSTEM, code="06", opens_on=date(2027, 3, 1), decision="A-1")
    rollout_window_set(actor=SYSTEM, code="06", opens_on=date(2027, 4, 1), decision="A-2")
    window = RolloutWindow.objects.get(code="06")
    assert (window.scope, window.opens_on, window.decision) == ("region", date(2027, 4, 1),
                                                                "A-2")
    changes = rollout_history(actor=SYSTEM, code="06")
    assert [c.after["opens_on"] for c in changes] == [None, "2027-03-01", "2027-04-01"]
    assert changes[0].before is None
    assert changes[2].before == {"opens_on": "2027-03-01", "decision": "A-1"}


@pytest.mark.parametrize(("code", "scope"), [("04", "region"), ("04.281", "province"),
                                             ("04.281.01.01", "commune")])
def test_the_scope_follows_the_code(code, scope):
    assert rollout_window_set(actor=SYSTEM, code=code, opens_on=date(2027, 1, 1),
                              decision="d").scope == scope


def test_an_unknown_area_or_a_missing_decision_is_refused_and_nothing_changes():
    before = list(RolloutWindow.objects.values_list("code", "opens_on"))
    with pytest.raises(ValidationFailed) as unknown:
        rollout_window_set(actor=SYSTEM, code="99.999", opens_on=date(2027, 1, 1),
                           decision="d")
    assert unknown.value.fields[0].code == "unknown_area"
    with pytest.raises(ValidationFailed) as undecided:
        rollout_window_set(actor=SYSTEM, code="06", opens_on=date(2027, 1, 1), decision=" ")
    assert undecided.value.fields[0].field == "decision"
    assert list(RolloutWindow.objects.values_list("code", "opens_on")) == before
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rollout", "06", "--opens", "soon", "--decision", "d")
    with pytest.raises(CommandError, match="HCP code"):
        call_command("rollout", "99", "--unset", "--decision", "d")


def test_only_an_administrator_sets_the_calendar():
    agent = Actor(role="agent", label="user:1", user_id=1)
    with pytest.raises(PermissionDenied):
        rollout_window_set(actor=agent, code="06", opens_on=date(2027, 1, 1), decision="d")
