"""Actors the shared conftest does not have: a verifier and a reviewer (session users)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sijill.conftest import ApiClient
from sijill.testing import factories


def _session(username: str, role: str) -> ApiClient:
    client = Client()
    client.force_login(factories.user_create(username=username, role=role))
    return ApiClient(client)


@pytest.fixture
def as_verifier(db: Any) -> ApiClient:
    return _session("verifier", "verifier")


@pytest.fixture
def as_reviewer(db: Any) -> ApiClient:
    return _session("reviewer", "reviewer")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is slow by design; these tests create many users and never check a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
