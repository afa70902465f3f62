"""Actors of citizen services tests: reviewers, a citizen with a household, signal catchers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from sijill.accounts.auth import actor_for_user
from sijill.conftest import ApiClient
from sijill.core import events
from sijill.testing import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _session(user: Any) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


@pytest.fixture
def reviewer(db: Any) -> Any:
    return factories.user_create(username="reviewer-1", role="reviewer")


@pytest.fixture
def other_reviewer(db: Any) -> Any:
    return factories.user_create(username="reviewer-2", role="reviewer")


@pytest.fixture
def as_reviewer(reviewer: Any) -> ApiClient:
    return _session(reviewer)


@pytest.fixture
def as_other_reviewer(other_reviewer: Any) -> ApiClient:
    return _session(other_reviewer)


@pytest.fixture
def reviewer_actor(reviewer: Any) -> Any:
    return actor_for_user(reviewer)


@pytest.fixture
def citizen_actor(citizen: Any) -> Any:
    return actor_for_user(citizen)


@pytest.fixture
def agent_a_actor(agent_a: Any) -> Any:
    return actor_for_user(agent_a)


@pytest.fixture
def other_citizen(db: Any) -> Any:
    person = factories.person_create()
    user = factories.user_create(username=f"citizen-{person.idcs}", role="citizen",
                                 idcs=person.idcs)
    user.person = person
    return user


@pytest.fixture
def as_other_citizen(other_citizen: Any) -> ApiClient:
    return _session(other_citizen)


class Caught:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def named(self, name: str) -> list[dict[str, Any]]:
        return [kw for n, kw in self.calls if n == name]


@pytest.fixture
def caught() -> Iterator[Caught]:
    """What the outbox would receive: review_decided, complaint_answered, household_scored."""
    result = Caught()
    receivers = {}
    for name in ("review_decided", "complaint_answered", "household_scored"):
        def receive(sender: Any, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            result.calls.append((_name, kwargs))
        receivers[name] = receive
        getattr(events, name).connect(receive, weak=False, dispatch_uid=f"cases-test-{name}")
    yield result
    for name in receivers:
        getattr(events, name).disconnect(dispatch_uid=f"cases-test-{name}")
