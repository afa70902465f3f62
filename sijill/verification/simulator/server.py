"""The partner simulator: a real HTTP service (stdlib ThreadingHTTPServer) answering as every
partner body would, from the synthetic population's partner records (records.py).

    POST /<partner>/query       {"persons": [{"idcs": ..., "cnie": ...}, ...]} → the records
    GET  /<partner>/export      the partner's daily file, CSV (?format=parquet for Parquet)
    GET  /_control              the behaviour and request counters, as JSON
    POST /_control              change the behaviour (JSON, every key optional):
        {"latency_ms": 50,                       added before every answer
         "down": ["vehicles"],                   these partners answer 503
         "errors": {"land": "timeout" | "5xx" | "malformed" | "not_json"},
         "error_count": {"land": 2},             only the next N calls fail, then it recovers
         "timeout_s": 30,                        how long a "timeout" hangs
         "reset": true}                          back to normal, counters zeroed
    GET  /healthz

`manage.py partner_simulator --port N [--data DIR] [--latency-ms N]` runs it; tests run the
same server on a free port in a thread (`PartnerSimulator.start()`), and steer it over HTTP or
through `control()`.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from sijill.verification.simulator.records import SHAPES, PartnerRecords


class Behaviour:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.latency_ms = 0.0
        self.down: set[str] = set()
        self.errors: dict[str, str] = {}
        self.error_count: dict[str, int] = {}
        self.timeout_s = 30.0
        self.requests: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0  # most calls answered at once (shows callers work in parallel)

    def update(self, data: dict[str, Any]) -> None:
        with self.lock:
            if data.get("reset"):
                self.reset()
            if "latency_ms" in data:
                self.latency_ms = float(data["latency_ms"])
            if "down" in data:
                self.down = set(data["down"])
            if "errors" in data:
                self.errors = dict(data["errors"])
            if "error_count" in data:
                self.error_count = {k: int(v) for k, v in data["error_count"].items()}
            if "timeout_s" in data:
                self.timeout_s = float(data["timeout_s"])

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"latency_ms": self.latency_ms, "down": sorted(self.down),
                    "errors": self.errors, "error_count": self.error_count,
                    "timeout_s": self.timeout_s, "requests": dict(self.requests),
                    "failures": dict(self.failures), "max_in_flight": self.max_in_flight}

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def fault(self, partner: str) -> str:
        """What goes wrong with this call ("" if nothing); counts the call."""
        with self.lock:
            self.requests[partner] += 1
            if partner in self.down:
                self.failures[partner] += 1
                return "down"
            kind = self.errors.get(partner, "")
            if kind and partner in self.error_count:
                if self.error_count[partner] <= 0:
                    return ""
                self.error_count[partner] -= 1
            if kind:
                self.failures[partner] += 1
            return kind


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests carry IDCS: never logged

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode())

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def do_GET(self) -> None:
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        if parts == ["healthz"]:
            return self._json(200, {"ok": True, "records": self.server.records.counts()})
        if parts == ["_control"]:
            return self._json(200, self.server.behaviour.as_dict())
        if len(parts) == 2 and parts[0] in SHAPES and parts[1] == "export":
            frame = self.server.records.export(parts[0])
            buf = io.BytesIO()
            if parse_qs(url.query).get("format") == ["parquet"]:
                frame.write_parquet(buf)
                return self._send(200, buf.getvalue(), "application/vnd.apache.parquet")
            frame.write_csv(buf)
            return self._send(200, buf.getvalue(), "text/csv")
        return self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        parts = [p for p in urlparse(self.path).path.split("/") if p]
        try:
            body = self._body()
        except ValueError:
            return self._json(400, {"error": "not JSON"})
        if parts == ["_control"]:
            self.server.behaviour.update(body if isinstance(body, dict) else {})
            return self._json(200, self.server.behaviour.as_dict())
        if len(parts) != 2 or parts[0] not in SHAPES or parts[1] != "query":
            return self._json(404, {"error": "not found"})
        partner = parts[0]
        behaviour = self.server.behaviour
        fault = behaviour.fault(partner)
        if behaviour.latency_ms:
            behaviour.enter()
            try:
                time.sleep(behaviour.latency_ms / 1000)
            finally:
                behaviour.leave()
        if fault == "down":
            return self._json(503, {"error": "service unavailable"})
        if fault == "5xx":
            return self._json(500, {"error": "internal error"})
        if fault == "timeout":
            time.sleep(behaviour.timeout_s)
        persons = body.get("persons") if isinstance(body, dict) else None
        if not isinstance(persons, list):
            return self._json(400, {"error": "persons missing"})
        idcs = [str(p.get("idcs")) for p in persons if isinstance(p, dict)]
        answer = self.server.records.answer(partner, idcs)
        if fault == "malformed":
            key = SHAPES[partner][0]
            answer = {key: [{"unexpected": True}], "note": "malformed on purpose"}
        if fault == "not_json":
            return self._send(200, b"<html>proxy error</html>", "text/html")
        return self._json(200, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], records: PartnerRecords):
        super().__init__(address, _Handler)
        self.records = records
        self.behaviour = Behaviour()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (its timeout) is expected here, not an error to print."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class PartnerSimulator:
    """The simulator as an object: `start()` serves in a background thread (port 0 = a free
    one), `control(...)` changes behaviour, `stop()` shuts down."""

    def __init__(self, *, data: Path | str | None = None, records: PartnerRecords | None = None,
                 host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0.0):
        self.records = records if records is not None else PartnerRecords.load(data)
        self.server = _Server((host, port), self.records)
        self.server.behaviour.latency_ms = latency_ms
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def control(self, **data: Any) -> dict[str, Any]:
        self.server.behaviour.update(data)
        return self.server.behaviour.as_dict()

    def start(self) -> PartnerSimulator:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name=f"partner-simulator:{self.port}")
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
