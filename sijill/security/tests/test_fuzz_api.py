"""Fuzzing the API with schemathesis, in-process (WSGI), against its own OpenAPI schema.

Bounded for CI: a few examples per operation (SIJILL_FUZZ_EXAMPLES, default 6), no shrinking,
no deadline. Two callers: an administrator (bearer token: every permission, so requests reach
the domain code) and an anonymous caller (everything must be a clean, declared 401).

Checks: no server error; the status code is one the operation declares; the content type and the
body match what is declared for that status.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sijill.security.permission_rules import PUBLIC
from sijill.testing import factories
from sijill.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# As an administrator: generated cases; SIJILL_FUZZ_COVERAGE=1 adds schemathesis's coverage
# phase (boundary and negative values of every parameter: a deeper run, about 4x longer).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
schema.config.phases.coverage.enabled = os.environ.get("SIJILL_FUZZ_COVERAGE", "0") == "1"
# Anonymous: every answer is a refusal, a few generated cases per operation are enough.
anonymous_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
anonymous_schema.config.phases.coverage.enabled = False

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = int(os.environ.get("SIJILL_FUZZ_EXAMPLES", "6"))
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                   phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """Called through the bare WSGI handler, Django closes "old" connections at the start and end
    of each request, and a connection inside the test's transaction counts as one: the next
    query would fail (503 on PostgreSQL). Django's own test client disconnects the same
    receivers."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db: Any) -> str:
    return factories.token_for(role="admin", name="fuzzer", purpose="fuzzing")


@schema.parametrize()
@BOUNDED
def test_fuzz_as_admin(case: Any, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)


SAFE = {"GET", "HEAD", "OPTIONS"}
# PUBLIC's paths as the schema or the fuzzer name them (with or without the /api root).
_PUBLIC = PUBLIC | {(m, p.removeprefix("/api")) for m, p in PUBLIC}


@anonymous_schema.parametrize()
@settings(BOUNDED, max_examples=3)
def test_fuzz_as_anonymous(case: Any) -> None:
    response = case.call_and_validate(checks=CHECKS)
    status = response.status_code
    where = (case.method, case.formatted_path, status, response.text[:200])
    if case.method.upper() != case.operation.method.upper():
        assert status == 405, where  # a method the path does not have
    elif (case.method.upper(), case.operation.path) in _PUBLIC:
        assert status == 200, where  # reference data, open to anyone (permission_rules.PUBLIC)
    elif case.method.upper() in SAFE:
        assert status == 401, where
    else:
        # KNOWN GAP (reported): without a session, an unsafe request is refused by ninja's
        # session auth CSRF check (403 "CSRF check Failed") before the bearer-or-session
        # decision, instead of 401. Never a 2xx, never the domain code.
        assert status in (401, 403), where
        if status == 403:
            assert "CSRF" in response.text, where


def test_an_anonymous_post_without_a_session_is_asked_to_sign_in() -> None:
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/identity/verify", {"idcs": "1234567890"}, content_type="application/json")
    assert response.status_code == 401, response.content


def test_every_operation_declares_the_error_answers() -> None:
    """401/403/404/409/422 (and 400) are declared with the one error shape, so clients and the
    fuzzer know them."""
    document = schema.raw_schema
    missing = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (method.upper(), path) in _PUBLIC:
                continue  # no caller, object or input can be refused: only 200
            declared = set(operation.get("responses", {}))
            lacking = {"400", "401", "403", "404", "409", "422"} - declared
            if lacking:
                missing[f"{method.upper()} {path}"] = sorted(lacking)
    assert not missing, f"add the ERRORS dict to these operations' responses: {missing}"
