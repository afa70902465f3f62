"""A retried submission with the same Idempotency-Key creates nothing new."""

from __future__ import annotations

import pytest

from sijill.households.models import DeclarationVersion, Household
from sijill.households.tests.factories import household_create, member_data, registration_payload

pytestmark = pytest.mark.django_db


def test_a_retried_registration_with_the_same_key_creates_one_household(as_agent_a,
                                                                        person_factory):
    body = registration_payload([(person_factory(), "head"), (person_factory(), "spouse")])
    key = {"Idempotency-Key": "reg-0001"}
    first = as_agent_a.post("households", body, headers=key)
    second = as_agent_a.post("households", body, headers=key)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert Household.objects.count() == 1


def test_the_same_key_for_another_body_is_refused(as_agent_a, person_factory):
    key = {"Idempotency-Key": "reg-0002"}
    as_agent_a.post("households", registration_payload([(person_factory(), "head")]),
                    headers=key)
    r = as_agent_a.post("households", registration_payload([(person_factory(), "head")]),
                        headers=key)
    assert r.status_code == 409
    assert Household.objects.count() == 1


def test_a_failed_registration_can_be_retried_with_the_same_key(as_agent_a, person_factory):
    head = person_factory()
    body = registration_payload([(head, "head")])
    body["household"]["rooms"] = 3
    bad = {**body, "members": [member_data(head.idcs, "spouse")]}
    key = {"Idempotency-Key": "reg-0003"}
    assert as_agent_a.post("households", bad, headers=key).status_code == 422
    # a corrected body under a fresh key succeeds; the failed one stored nothing
    assert as_agent_a.post("households", body, headers={"Idempotency-Key": "reg-0004"}
                           ).status_code == 201


def test_a_retried_declaration_update_writes_one_version(as_agent_a, person_factory):
    household = household_create()
    body = {"household": registration_payload([(household.head, "head")])["household"],
            "members": [member_data(household.head.idcs, "head", activity="unemployed")]}
    key = {"Idempotency-Key": "upd-0001"}
    first = as_agent_a.post(f"households/{household.reference}/declarations", body, headers=key)
    second = as_agent_a.post(f"households/{household.reference}/declarations", body,
                             headers=key)
    assert first.status_code == 200 and second.json() == first.json()
    assert DeclarationVersion.objects.filter(household=household).count() == 2
