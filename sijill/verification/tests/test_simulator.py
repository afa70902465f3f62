"""The partner simulator as `make demo` runs it: `manage.py partner_simulator`, a real HTTP
service answering from the synthetic truth, steered over HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import polars as pl

MANAGE = str(Path(__file__).resolve().parents[3] / "manage.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, data: Any) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 (a local http URL)
        url, data=json.dumps(data).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310 (local)
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _truth(folder: Path) -> None:
    """A minimal truth directory in the loader's layout (person_key-keyed tables)."""
    folder.mkdir(parents=True)
    pl.DataFrame({"person_key": [1, 2], "idcs": ["0123456789", "1111111111"]}).write_parquet(
        folder / "person_ids.parquet")
    pl.DataFrame({"plate": ["12345-أ-6"], "household_key": [10], "owner_person_key": [1],
                  "kind": ["car"], "first_registration_year": [2018],
                  "fiscal_horsepower": [6]}).write_parquet(folder / "vehicles.parquet")


def test_the_simulator_command_serves_partner_records_and_obeys_its_controls(tmp_path):
    _truth(tmp_path / "demo" / "04.421.01.07")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # our own command line
        [sys.executable, MANAGE, "partner_simulator", "--port", str(port), "--data",
         str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:  # noqa: S310
                    health = json.loads(r.read())
                break
            except OSError:
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.2)
        assert health["records"]["vehicles"] == 1
        status, answer = _post(f"{base}/vehicles/query",
                               {"persons": [{"idcs": "0123456789", "cnie": "AB123456"}]})
        assert status == 200
        assert answer == {"vehicles": [{"owner_idcs": "0123456789", "plate": "12345-أ-6",
                                        "kind": "car", "first_registration_year": 2018,
                                        "fiscal_horsepower": 6}]}
        assert _post(f"{base}/vehicles/query", {"persons": [{"idcs": "1111111111"}]}) == (
            200, {"vehicles": []})
        _post(f"{base}/_control", {"down": ["vehicles"], "errors": {"land": "5xx"}})
        assert _post(f"{base}/vehicles/query", {"persons": []})[0] == 503
        assert _post(f"{base}/land/query", {"persons": []})[0] == 500
        _post(f"{base}/_control", {"errors": {"land": "5xx"}, "error_count": {"land": 1},
                                   "down": []})
        assert _post(f"{base}/land/query", {"persons": []})[0] == 500
        assert _post(f"{base}/land/query", {"persons": []}) == (200, {"titles": []})
        control = _post(f"{base}/_control", {})[1]
        assert control["requests"]["land"] == 3 and control["failures"]["vehicles"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0
