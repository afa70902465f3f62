"""The demo prints a way past the staff second factor: each staff account's authenticator key
and otpauth URI, and `manage.py staff_code USER` prints the current code (dev profile only)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from sijill.testing.factories import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_the_staff_authenticators_and_the_code_signs_in(
        monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> None:
    from sijill.core.management.commands import seed_demo

    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(seed_demo, "DEMO_POPULATION", [("04.421.01.07", 5)])
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "/backoffice/" in text and "otpauth://totp/" in text
    assert "agent.rabat" in text and "staff_code" in text
    code = StringIO()
    call_command("staff_code", "agent.rabat", stdout=code)
    client = Client()
    client.post("/backoffice/sign-in/", {"username": "agent.rabat", "password": DEMO_PASSWORD})
    answer = client.post("/backoffice/sign-in/code/", {"code": code.getvalue().strip()})
    assert answer.status_code == 302 and client.get("/backoffice/").status_code == 200


def test_staff_code_refuses_outside_the_dev_profile(settings: Any) -> None:
    settings.PROFILE = "production"
    with pytest.raises(CommandError):
        call_command("staff_code", "agent.rabat")
