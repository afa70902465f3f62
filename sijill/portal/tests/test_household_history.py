"""The registration's history tells the household who took each step (#3: "each transition
time-stamped with who did it, visible to the household")."""

from __future__ import annotations

import pytest
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.accounts.auth import actor_for_user
from sijill.households.services import household_transition
from sijill.households.tests.factories import household_create, person_create
from sijill.testing import factories

pytestmark = pytest.mark.django_db


def _page(household, language: str) -> str:
    idcs = household.declarant.idcs
    user = factories.user_create(username=f"c-{idcs}-{language}", role="citizen", idcs=idcs) \
        if not hasattr(household, "_citizen") else household._citizen
    household._citizen = user
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get("/me/household/").content.decode()


def test_a_step_taken_at_a_service_centre_names_the_centre_and_never_the_agent(agent_a):
    household = household_create(members=[(person_create(), "head")],
                                 actor=actor_for_user(agent_a))
    household_transition(actor=SYSTEM, reference=household.reference, to="verifying")
    page = _page(household, "fr")
    assert f"Agent de centre de services — {agent_a.centre.name_fr}" in page
    assert "Sijill (traitement automatique)" in page
    assert agent_a.username not in page
    arabic = _page(household, "ar")
    assert agent_a.centre.name_ar in arabic


def test_a_step_the_citizen_took_says_it_was_them():
    person = person_create()
    user = factories.user_create(username=f"c-{person.idcs}", role="citizen", idcs=person.idcs)
    household = household_create(members=[(person, "head")], actor=actor_for_user(user))
    household._citizen = user
    assert "par vous" in _page(household, "fr")
