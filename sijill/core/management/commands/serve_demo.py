"""Serve the demo: the web server and the background processes it needs, stopped together.

`make demo` runs this after `seed_demo`. Each entry of DEMO_PROCESSES is one child process (a
manage.py command line); apps that need a process of their own in the demo (the task worker,
the scheduler, the partner simulator) add one line here. Ctrl-C or SIGTERM stops them all; if a
child dies, the others are stopped and the command exits with an error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

MANAGE = [sys.executable, str(settings.BASE_DIR / "manage.py")]

# (name, arguments of manage.py); "{port}" is replaced by the web port.
DEMO_PROCESSES: list[tuple[str, list[str]]] = [
    ("web", ["runserver", "--noreload", "127.0.0.1:{port}"]),
    ("worker", ["db_worker", "--queue-name", "*", "--no-reload", "--interval", "0.5"]),
    ("scheduler", ["scheduler"]),
    # The partner bodies' simulator, answering from the demo's synthetic truth (var/synthetic).
    ("partners", ["partner_simulator", "--port", "8751"]),
]


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
        for name, argv in DEMO_PROCESSES:
            line = MANAGE + [a.replace("{port}", str(port)) for a in argv]
            children.append((name, subprocess.Popen(line, start_new_session=True)))  # noqa: S603 (our own argv)
            self.stdout.write(f"started {name}: {' '.join(line[1:])}")
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
