"""Back-office test helpers: staff clients signed in with both factors, and the roles the
shared conftest lacks (reviewer, verifier)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from sijill.testing import factories


def totp_now(device: TOTPDevice) -> str:
    """The code the staff member's authenticator shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def signed_in(user: Any) -> Client:
    """A client signed in as `user` with a confirmed authenticator (both factors passed)."""
    client = Client()
    client.force_login(user)
    device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
              or TOTPDevice.objects.create(user=user, name="test", confirmed=True))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reviewer(db: Any) -> Any:
    return factories.user_create(username="reviewer", role="reviewer")


@pytest.fixture
def verifier(db: Any) -> Any:
    return factories.user_create(username="verifier", role="verifier")
