"""The envelope: partner tokens (and only them), scopes, signatures with the partner's key,
the standard's error codes for malformed messages; each answer conforms to the standard."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from sijill.dci.tests.conftest import Dci, by_uin, make_partner
from sijill.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(db: Any) -> Dci:
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
    partner, token = make_partner(sender_id="signed-spmis", signature_required=True,
                                  public_key=public)
    return Dci(partner, token, key)


def _errors(r: Any) -> list[str]:
    return [e["code"] for e in r.json()["errors"]]


def test_a_signed_search_is_answered(signed: Dci) -> None:
    assert signed.search(by_uin("1234567890")).json()["header"]["status"] == "succ"


def test_an_unsigned_search_is_refused_when_the_partner_must_sign(signed: Dci) -> None:
    signed.key = None
    r = signed.search(by_uin("1234567890"))
    assert r.status_code == 401 and _errors(r) == ["err.signature.missing"]


def test_a_tampered_message_fails_its_signature(signed: Dci) -> None:
    body = signed.envelope("search", {"transaction_id": "t1",
                                      "search_request": [by_uin("1234567890")]})
    body["message"]["search_request"][0]["search_criteria"]["query"]["value"] = "1111111111"
    r = signed.post("/registry/sync/search", body)
    assert r.status_code == 401 and _errors(r) == ["err.signature.invalid"]


def test_another_key_fails_the_signature(signed: Dci) -> None:
    signed.key = Ed25519PrivateKey.generate()
    r = signed.search(by_uin("1234567890"))
    assert r.status_code == 401 and _errors(r) == ["err.signature.invalid"]


@pytest.mark.parametrize("token", [None, "nonsense"])
def test_without_a_partner_token_the_answer_is_unauthorized(dci: Dci, token: Any) -> None:
    r = dci.post("/registry/sync/search", dci.envelope(
        "search", {"transaction_id": "t", "search_request": [by_uin("1")]}), token=token)
    assert r.status_code == 401 and _errors(r) == ["err.request.unauthorized"]


@pytest.mark.parametrize("role", ["program", "partner", "admin"])
def test_an_api_token_of_the_registry_opens_no_dci_endpoint(dci: Dci, role: str) -> None:
    token = factories.token_for(role=role, name="x", purpose="y")
    r = dci.post("/registry/sync/search", dci.envelope(
        "search", {"transaction_id": "t", "search_request": [by_uin("1")]}), token=token)
    assert r.status_code == 401


def test_a_dci_token_opens_nothing_of_the_registry_api(dci: Dci) -> None:
    r = Client().get("/api/v1/programs/asd/eligible",
                     HTTP_AUTHORIZATION=f"Bearer {dci.token}")
    assert r.status_code == 401


def test_a_partner_without_the_scope_is_forbidden(db: Any) -> None:
    partner, token = make_partner(sender_id="no-search", can_search=False)
    client = Dci(partner, token)
    r = client.search(by_uin("1234567890"))
    assert r.status_code == 403 and _errors(r) == ["err.request.forbidden"]
    message = {"transaction_id": "t", "subscribe_request": [{
        "reference_id": "s", "timestamp": "2026-01-01T00:00:00Z",
        "subscribe_criteria": {"reg_event_type": "REGISTER", "filter": {},
                               "notify_record_type": "Group"}}]}
    r = client.post("/registry/subscribe", client.envelope("subscribe", message))
    assert r.status_code == 403


def test_another_partners_sender_id_is_refused(dci: Dci) -> None:
    body = dci.envelope("search", {"transaction_id": "t", "search_request": [by_uin("1")]})
    body["header"]["sender_id"] = "someone-else"
    r = dci.post("/registry/sync/search", body)
    assert r.status_code == 403 and _errors(r) == ["err.sender_id.invalid"]


def _sync_reject(r: Any) -> tuple[str | None, str]:
    header = r.json()["header"]
    assert r.status_code == 400 and header["status"] == "rjct"
    return header.get("status_reason_code"), header["meta"]["error"]["code"]


def test_malformed_envelopes_get_the_standards_codes(dci: Dci) -> None:
    message = {"transaction_id": "t", "search_request": [by_uin("1")]}
    assert _sync_reject(dci.post("/registry/sync/search", b"{not json")) == (
        None, "err.request.bad")
    assert _sync_reject(dci.post("/registry/sync/search", {"header": {}})) == (
        None, "err.request.bad")
    wrong_action = dci.envelope("search", message)
    wrong_action["header"]["action"] = "subscribe"
    assert _sync_reject(dci.post("/registry/sync/search", wrong_action)) == (
        "rjct.action.invalid", "err.request.bad")
    old = dci.envelope("search", message, version="0.9.0")
    assert _sync_reject(dci.post("/registry/sync/search", old)) == (
        "rjct.version.invalid", "err.version.not_supported")
    miscounted = dci.envelope("search", message, total=3)
    assert _sync_reject(dci.post("/registry/sync/search", miscounted)) == (
        "rjct.total_count.invalid", "err.request.bad")
    stranger = dci.envelope("search", message, receiver_id="another.registry")
    assert _sync_reject(dci.post("/registry/sync/search", stranger)) == (
        None, "err.receiver_id.invalid")
    encrypted = dci.envelope("search", message, is_msg_encrypted=True)
    assert _sync_reject(dci.post("/registry/sync/search", encrypted)) == (
        None, "err.encryption.invalid")


def test_a_message_id_is_accepted_once(dci: Dci) -> None:
    body = dci.envelope("search", {"transaction_id": "t", "search_request": [by_uin("1")]})
    assert dci.post("/registry/sync/search", body).status_code == 200
    assert _sync_reject(dci.post("/registry/sync/search", body)) == (
        "rjct.message_id.duplicate", "err.request.bad")


def test_an_async_malformed_message_is_acknowledged_as_an_error(dci: Dci) -> None:
    r = dci.post("/registry/search", {"header": {"action": "search"}, "message": {}})
    assert r.status_code == 400
    assert r.json()["message"]["ack_status"] == "ERR"
    assert r.json()["message"]["error"]["code"] == "err.request.bad"


def test_the_registry_publishes_its_public_key(client: Client) -> None:
    keys = json.loads(client.get("/api/dci/keys").content)["keys"]
    assert keys[0]["algorithm"] == "ed25519" and len(base64.b64decode(keys[0]["public_key"])) == 32


def test_a_partner_over_its_rate_is_told_to_wait(dci: Dci, settings: Any) -> None:
    settings.SIJILL_DCI_REQUESTS_PER_MINUTE = 2
    for _ in range(2):
        assert dci.search(by_uin("1234567890")).status_code == 200
    r = dci.search(by_uin("1234567890"))
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1
    assert _sync_reject_429(r) == "err.request.too_many_requests"


def _sync_reject_429(r: Any) -> str:
    header = r.json()["header"]
    assert header["status"] == "rjct"
    return header["meta"]["error"]["code"]


def test_a_configured_signing_key_is_the_one_published(client: Client, settings: Any) -> None:
    seed = bytes(range(32))
    settings.SIJILL_DCI_SIGNING_KEY = base64.b64encode(seed).decode()
    expected = base64.b64encode(Ed25519PrivateKey.from_private_bytes(seed).public_key()
                                .public_bytes(serialization.Encoding.Raw,
                                              serialization.PublicFormat.Raw)).decode()
    assert json.loads(client.get("/api/dci/keys").content)["keys"][0]["public_key"] == expected
