"""A registration through the API costs a bounded number of queries, whatever the household's
size (a behaviour, not a timing: per-member queries would grow with the members)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sijill.households.tests.factories import registration_payload
from sijill.testing.factories import person_create

#: Statements of one registration of a submitted household, savepoints included: session,
#: user, idempotency claim, roll-out, persons (locked, with their active household), household,
#: events, version, member declarations, memberships, audit (2), idempotency answer; 4
#: savepoint statements (the commune is kept per process, read by the warm-up). Measured at 17
#: (32, then 23 before the persons' lock read their memberships and the inserts lost their
#: savepoints).
BUDGET = 17


def _register(client: Any, size: int, key: str) -> tuple[Any, int]:
    people = [(person_create(), "head")] + [(person_create(), "child") for _ in range(size - 1)]
    body = registration_payload(people)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/households", body, headers={"Idempotency-Key": key})
    return response, len(queries.captured_queries)


@pytest.mark.django_db
def test_a_registration_costs_a_fixed_number_of_queries_whatever_its_size(
        as_agent_a: Any) -> None:
    _register(as_agent_a, 1, "warm-up")  # the session's first request
    small, n_small = _register(as_agent_a, 2, "two")
    large, n_large = _register(as_agent_a, 6, "six")
    assert small.status_code == large.status_code == 201
    assert n_small == n_large <= BUDGET


@pytest.mark.django_db
def test_the_answer_built_without_reading_back_matches_a_read(as_agent_a: Any) -> None:
    people = [(person_create(), "head"), (person_create(), "spouse"), (person_create(), "child")]
    written = as_agent_a.post("/api/v1/households", registration_payload(people))
    assert written.status_code == 201
    read = as_agent_a.get(f"/api/v1/households/{written.json()['reference']}")
    assert read.json() == written.json()


@pytest.mark.django_db
def test_the_answer_built_without_validation_is_what_validation_gives(as_agent_a: Any) -> None:
    from sijill.households import api, services

    people = [(person_create(), "head"), (person_create(), "spouse"), (person_create(), "child")]
    written = as_agent_a.post("/api/v1/households", registration_payload(people))
    assert written.status_code == 201
    view = services.household_view(reference=written.json()["reference"])
    assert view is not None
    built = api._out(view)
    validated = api.HouseholdOut.model_validate(built.model_dump())
    assert built.model_dump(mode="json") == validated.model_dump(mode="json")
