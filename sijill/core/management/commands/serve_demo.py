"""Serve the demo: the web server and the background processes it needs, stopped together.

`make demo` runs this after `seed_demo`. Each entry of DEMO_PROCESSES is one child process (a
manage.py command line); apps that need a process of their own in the demo (the task worker,
the scheduler, the partner simulator) add one line here. Ctrl-C or SIGTERM stops them all; if a
child dies, the others are stopped and the command exits with an error.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

MANAGE = [sys.executable, str(settings.BASE_DIR / "manage.py")]

# (name, arguments of manage.py); "{port}" is replaced by the web port.
# (name, arguments of manage.py, a port to wait for before starting the next one or None).
DEMO_PROCESSES: list[tuple[str, list[str], int | None]] = [
    # The partner bodies' simulator, answering from the demo's synthetic truth (var/synthetic):
    # started first, and listening before the worker asks it anything.
    ("partners", ["partner_simulator", "--port", "8751"], 8751),
    ("web", ["runserver", "--noreload", "127.0.0.1:{port}"], None),
    ("worker", ["db_worker", "--queue-name", "*", "--no-reload", "--interval", "0.5"], None),
    ("scheduler", ["scheduler"], None),
]


def _wait_for_port(port: int, child: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


class Command(BaseCommand):
    help = "Serve the demo web server with its worker and helper processes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        children: list[tuple[str, subprocess.Popen[bytes]]] = []
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        for name, argv, listens_on in DEMO_PROCESSES:
            line = MANAGE + [a.replace("{port}", str(port)) for a in argv]
            child = subprocess.Popen(line, start_new_session=True)  # noqa: S603 (our own argv)
            children.append((name, child))
            self.stdout.write(f"started {name}: {' '.join(line[1:])}")
            if listens_on is not None:
                _wait_for_port(listens_on, child)
        code = 0
        try:
            while not stopping:
                for name, child in children:
                    if child.poll() is not None:
                        self.stderr.write(f"{name} stopped (exit {child.returncode})")
                        code, stopping = 1, True
                time.sleep(0.5)
        finally:
            for _, child in children:
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            for _, child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
        if code:
            raise SystemExit(code)
