"""DCI fixtures: partners (with and without signatures), envelopes, a conformance check of
every answer against the standard's OpenAPI document, and a local HTTP receiver."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.dci import services, signing, spec
from sijill.dci.models import DciPartner
from sijill.programs.models import Program

BASE = "/api/dci"


def conforms(pointer: str, body: Any) -> None:
    problems = spec.errors(pointer, body, limit=10)
    assert problems == [], problems


def header(action: str, *, sender_id: str, total: int = 1, **extra: Any) -> dict[str, Any]:
    return {"version": "1.0.0", "message_id": uuid.uuid4().hex,
            "message_ts": services.now_iso(), "action": action, "sender_id": sender_id,
            "receiver_id": signing.registry_sender_id(), "total_count": total, **extra}


def search_item(query_type: str, query: Any, ref: str = "r1", **criteria: Any) -> dict[str, Any]:
    return {"reference_id": ref, "timestamp": services.now_iso(),
            "search_criteria": {"version": "1.0.0", "reg_type": "ns:org:RegistryType:Social",
                                "query_type": query_type, "query": query, **criteria},
            "locale": "eng"}


def by_uin(idcs: str, **criteria: Any) -> dict[str, Any]:
    return search_item("idtype-value", {"type": "UIN", "value": idcs}, **criteria)


class Dci:
    """A partner's client: builds, signs and posts envelopes; checks each answer conforms."""

    def __init__(self, partner: DciPartner, token: str, key: Ed25519PrivateKey | None = None):
        self.partner, self.token, self.key = partner, token, key
        self.client = Client()

    def envelope(self, action: str, message: dict[str, Any], total: int | None = None,
                 **extra: Any) -> dict[str, Any]:
        items = next((v for v in message.values() if isinstance(v, list)), [])
        h = header(action, sender_id=self.partner.sender_id,
                   total=len(items) if total is None else total, **extra)
        body: dict[str, Any] = {"header": h, "message": message}
        if self.key is not None:
            body["signature"] = signing.sign(self.key, header=h, message=message,
                                             sender_id=self.partner.sender_id, key_id="k1")
        return body

    def post(self, path: str, body: Any, token: str | bool | None = True) -> Any:
        """POST with the partner's token (or the one given; None: no token)."""
        headers = {}
        token = self.token if token is True else token
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        raw = body if isinstance(body, bytes) else json.dumps(body)
        response = self.client.post(BASE + path, raw, content_type="application/json",
                                    **headers)
        status = str(response.status_code) if response.status_code in (401, 403, 500) \
            else "default"
        conforms(spec.response_pointer(path, status), response.json())
        return response

    def search(self, *items: dict[str, Any], sync: bool = True, **extra: Any) -> Any:
        message = {"transaction_id": uuid.uuid4().hex[:20], "search_request": list(items)}
        path = "/registry/sync/search" if sync else "/registry/search"
        return self.post(path, self.envelope("search", message, **extra))


def make_partner(**options: Any) -> tuple[DciPartner, str]:
    options.setdefault("signature_required", False)
    options.setdefault("callback_prefix", "http://127.0.0.1:")
    return services.partner_create(actor=SYSTEM, sender_id=options.pop("sender_id", "spmis"),
                                   name="Test SPMIS", purpose=options.pop(
                                       "purpose", "targeting of direct social aid"), **options)


@pytest.fixture
def dci(db: Any) -> Dci:
    partner, token = make_partner(detail="members", can_subscribe=True,
                                  program=Program.objects.get(code="asd"))
    return Dci(partner, token)


@pytest.fixture
def receiver() -> Any:
    """A local HTTP server recording every POST (path, JSON body); answers 200, or the
    statuses queued in `.answers`."""
    received: list[tuple[str, Any]] = []
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()
            self.wfile.write(b'{"message": {"ack_status": "ACK"}}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received, server.answers = received, answers  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
