"""`make demo` prints the DCI partner's token, which opens the DCI API (renewed on a rerun)."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from sijill.dci.models import DciPartner
from sijill.dci.tests.conftest import Dci, by_uin

pytestmark = pytest.mark.django_db


def _token(monkeypatch: pytest.MonkeyPatch) -> str:
    from sijill.core.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "DEMO_POPULATION", [("04.421.01.07", 3)])
    out = StringIO()
    call_command("seed_demo", stdout=out)
    found = re.search(r"^DCI partner token: (\S+)$", out.getvalue(), re.MULTILINE)
    assert found, out.getvalue()
    return found.group(1)


def test_the_demo_prints_a_dci_partner_token_that_searches(
        monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    first = _token(monkeypatch)
    second = _token(monkeypatch)
    assert first != second and DciPartner.objects.count() == 1
    client = Dci(DciPartner.objects.get(), second)
    assert client.search(by_uin("1234567890")).status_code == 200
    client.token = first
    assert client.search(by_uin("1234567890")).status_code == 401
