"""A local SMS gateway simulator: a small HTTP server speaking the protocol of
backends.HttpSmsGatewayBackend, for tests and the demo (`manage.py sms_gateway_simulator`).

    POST /messages   {"to", "body", "reference"}   headers: Idempotency-Key (required),
                                                   Authorization: Bearer <token> (if set)
        201 {"id": "sim-<n>", "duplicate": false}   delivered (counted once per key)
        200 {"id": <the first id>, "duplicate": true}   the key was seen: NOT delivered again
        400 without an Idempotency-Key, 401 with a wrong token, 503 when told to fail
    GET /messages    every delivered message (JSON list)

It can be told to fail the next N requests (503), to time out the next N (sleep longer than the
client waits — after delivering, or before), or to go down (the listening socket is closed:
connections are refused) and come back up on the same port.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    id: str
    key: str
    to: str
    body: str
    reference: str
    at: float


@dataclass
class _State:
    token: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    by_key: dict[str, Delivery] = field(default_factory=dict)
    requests: int = 0
    fail_next: int = 0
    fail_status: int = 503
    timeout_next: int = 0
    timeout_seconds: float = 2.0
    timeout_after_delivery: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # (the client may have given up, timed out, already)

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            items = [d.__dict__ for d in state.deliveries]
        self._answer(200, items)

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/messages":
            self._answer(404, {"error": "not found"})
            return
        if state.token and self.headers.get("Authorization") != f"Bearer {state.token}":
            self._answer(401, {"error": "bad token"})
            return
        key = self.headers.get("Idempotency-Key", "")
        if not key:
            self._answer(400, {"error": "Idempotency-Key is required"})
            return
        try:
            message = json.loads(raw)
            to, text = str(message["to"]), str(message["body"])
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"error": "body must be JSON with to and body"})
            return
        with state.lock:
            state.requests += 1
            if state.fail_next > 0:
                state.fail_next -= 1
                failing = state.fail_status
            else:
                failing = 0
            stall = 0.0
            if not failing and state.timeout_next > 0:
                state.timeout_next -= 1
                stall = state.timeout_seconds
            duplicate = key in state.by_key
            if not failing and not duplicate and not (stall and not state.timeout_after_delivery):
                delivery = Delivery(id=f"sim-{len(state.deliveries) + 1}", key=key, to=to,
                                    body=text, reference=str(message.get("reference", "")),
                                    at=time.time())
                state.deliveries.append(delivery)
                state.by_key[key] = delivery
            existing = state.by_key.get(key)
        if failing:
            self._answer(failing, {"error": "simulated failure"})
            return
        if stall:
            time.sleep(stall)
        if existing is None:
            self._answer(503, {"error": "simulated timeout, not delivered"})
            return
        self._answer(200 if duplicate else 201, {"id": existing.id, "duplicate": duplicate})


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    state: _State


class SmsGatewaySimulator:
    """Start it (`with SmsGatewaySimulator() as gateway:`), point the backend at `gateway.url`."""

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1", token: str = ""):
        self.host, self.port = host, port
        self.state = _State(token=token)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> SmsGatewaySimulator:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.state = self.state
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=f"sms-gateway-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until start() is called again."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> SmsGatewaySimulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- behaviour ----------------------------------------------------------------------------
    def fail(self, times: int, *, status: int = 503) -> None:
        with self.state.lock:
            self.state.fail_next, self.state.fail_status = times, status

    def time_out(self, times: int, *, seconds: float = 2.0, after_delivery: bool = True) -> None:
        """Stall the next requests longer than the client waits; `after_delivery`: the
        message was delivered before the stall (the nasty case: the sender cannot know)."""
        with self.state.lock:
            self.state.timeout_next, self.state.timeout_seconds = times, seconds
            self.state.timeout_after_delivery = after_delivery

    # -- what happened ------------------------------------------------------------------------
    @property
    def delivered(self) -> list[Delivery]:
        with self.state.lock:
            return list(self.state.deliveries)

    def delivered_to(self, phone: str) -> list[Delivery]:
        return [d for d in self.delivered if d.to == phone]

    @property
    def requests(self) -> int:
        with self.state.lock:
            return self.state.requests
