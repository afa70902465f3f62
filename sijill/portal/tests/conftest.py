"""Fixtures of the portal tests: codes captured at delivery, tasks run in-process."""

from __future__ import annotations

from typing import Any

import pytest

from sijill.portal import signin


@pytest.fixture
def sent_codes(monkeypatch: Any) -> dict[str, str]:
    """IDCS -> the last code handed to the SMS delivery (the notifications app)."""
    sent: dict[str, str] = {}

    def deliver(*, person: Any, code: str) -> None:
        sent[person.idcs] = code

    monkeypatch.setattr(signin, "code_deliver", deliver)
    return sent


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def sign_in(client: Any, idcs: str, sent: dict[str, str]) -> Any:
    client.post("/sign-in/", {"idcs": idcs})
    return client.post("/sign-in/code/", {"code": sent[idcs]})
