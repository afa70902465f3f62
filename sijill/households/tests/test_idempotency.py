"""A retried submission with the same Idempotency-Key creates nothing new."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from sijill.conftest import ApiClient
from sijill.core.models import IdempotencyRecord
from sijill.households import services
from sijill.households.models import DeclarationVersion, Household
from sijill.households.tests.factories import household_create, member_data, registration_payload
from sijill.testing.concurrency import at_once

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


def test_the_answer_kept_for_replays_is_encrypted_at_rest(as_agent_a, person_factory):
    head = person_factory()
    key = {"Idempotency-Key": "reg-sealed"}
    first = as_agent_a.post("households", registration_payload([(head, "head")]), headers=key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT response_body FROM core_idempotencyrecord")
        [(stored,)] = cursor.fetchall()
    assert head.idcs not in stored and "health_coverage" not in stored
    assert first.json()["reference"] not in stored
    assert IdempotencyRecord.objects.get().response_body["reference"] == first.json()[
        "reference"]
    assert as_agent_a.post("households", registration_payload([(head, "head")]),
                           headers=key).json() == first.json()


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
    # the failed request stored nothing: the corrected body under the same key succeeds
    assert as_agent_a.post("households", body, headers=key).status_code == 201
    assert Household.objects.count() == 1
    # and the key now answers as the success did
    assert as_agent_a.post("households", body, headers=key).status_code == 201
    assert Household.objects.count() == 1


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


def _client(user: Any) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


def _race(clients: list[ApiClient], path: str, bodies: list[Any],
          headers: dict[str, str]) -> list[Any]:
    return at_once([lambda c=c, b=b: c.post(path, b, headers=headers)
                    for c, b in zip(clients, bodies, strict=True)])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_registrations_with_one_key_create_one_household_and_answer_alike(
        agent_a, person_factory):
    """The second request waits for the first to commit, then replays its answer."""
    body = registration_payload([(person_factory(), "head"), (person_factory(), "spouse")])
    results = _race([_client(agent_a), _client(agent_a)], "households", [body, body],
                    {"Idempotency-Key": "reg-race-1"})
    assert [r.status_code for r in results] == [201, 201], [r.json() for r in results]
    assert results[0].json() == results[1].json()
    assert Household.objects.count() == 1
    assert IdempotencyRecord.objects.filter(key="reg-race-1").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_and_different_bodies_apply_one(
        agent_a, person_factory):
    bodies = [registration_payload([(person_factory(), "head")]) for _ in range(2)]
    results = _race([_client(agent_a), _client(agent_a)], "households", bodies,
                    {"Idempotency-Key": "reg-race-2"})
    assert sorted(r.status_code for r in results) == [201, 409], [r.json() for r in results]
    refused = next(r for r in results if r.status_code == 409).json()["error"]
    assert refused["code"] == "idempotency_key_reused"
    assert Household.objects.count() == 1


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_waiting_on_a_key_whose_first_request_failed_proceeds(
        agent_a, person_factory, monkeypatch):
    """The first holder of the key fails (rolled back, nothing stored): the retry that was
    waiting on the key then claims it and does the work itself."""
    head = person_factory()
    good = registration_payload([(head, "head")])
    bad = {**good, "members": [member_data(head.idcs, "spouse")]}
    holding, release = threading.Event(), threading.Event()
    register = services.household_registration

    def first_holds_the_key(**kw: Any) -> Any:
        if kw["data"].declaration.members[0].relationship == "spouse":
            holding.set()
            release.wait(30)
        return register(**kw)

    monkeypatch.setattr(services, "household_registration", first_holds_the_key)
    key = {"Idempotency-Key": "reg-race-3"}
    results: list[Any] = [None, None]

    def run(i: int, body: dict[str, Any]) -> None:
        try:
            results[i] = _client(agent_a).post("households", body, headers=key)
        finally:
            connection.close()

    first = threading.Thread(target=run, args=(0, bad))
    first.start()
    assert holding.wait(30)
    second = threading.Thread(target=run, args=(1, good))
    second.start()
    waited = False
    for _ in range(1000):  # until the retry waits on the first one's key
        waited = _waiting_on_a_lock()
        if waited:
            break
        threading.Event().wait(0.01)
    release.set()
    first.join()
    second.join()
    assert waited, "the retry did not wait for the request holding its key"
    assert [r.status_code for r in results] == [422, 201], [r.json() for r in results]
    assert Household.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="reg-race-3").status_code == 201
