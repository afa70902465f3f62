"""Passwords hashed with Argon2, CSRF enforced on signed-in API calls, bearer tokens exempt."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client

from sijill import settings as project_settings
from sijill.households.tests.factories import registration_payload
from sijill.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings: Any) -> None:
    # tests/conftest.py swaps in a fast hasher; these tests check the configured ones.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def test_a_password_is_stored_as_argon2id(real_hashers: None) -> None:
    user = factories.user_create(username="agent-pw", role="agent",
                                 centre=factories.centre_create(code="c1", commune="04.421.01.0",
                                                                provinces=["04.421"]))
    user.set_password("correct horse battery staple")
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert "correct horse" not in user.password
    assert user.check_password("correct horse battery staple")
    assert not user.check_password("Correct horse battery staple")


def test_an_older_hash_is_upgraded_to_argon2_at_the_next_sign_in(real_hashers: None) -> None:
    user = factories.user_create(username="old-hash", role="analyst")
    user.password = make_password("an old password 123", hasher="pbkdf2_sha256")
    user.save()
    assert Client().login(username="old-hash", password="an old password 123")
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert check_password("an old password 123", user.password)


def _signed_in(centre_user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(centre_user)
    return client


def test_a_signed_in_api_write_without_the_csrf_token_is_refused(agent_a: Any) -> None:
    client = _signed_in(agent_a)
    body = registration_payload([(factories.person_create(), "head")])
    response = client.post("/api/v1/households", body, content_type="application/json")
    assert response.status_code == 403


def test_a_signed_in_api_write_with_the_csrf_token_goes_through(agent_a: Any) -> None:
    client = _signed_in(agent_a)
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    body = registration_payload([(factories.person_create(), "head")])
    response = client.post("/api/v1/households", body, content_type="application/json",
                           headers={"X-CSRFToken": secret})
    assert response.status_code == 201, response.content


def test_a_bearer_token_caller_has_no_cookie_to_forge_and_needs_no_csrf_token() -> None:
    token = factories.token_for(role="admin")
    client = Client(enforce_csrf_checks=True)
    body = registration_payload([(factories.person_create(), "head")])
    response = client.post("/api/v1/households", body, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.content


def test_the_admin_sign_in_form_refuses_a_post_without_the_csrf_token() -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
