"""Run the periodic jobs of sijill.core.schedule: `manage.py scheduler`.

Every `--interval` seconds, claims the due jobs (at most once each, even with several
schedulers running) and enqueues them for the task worker (or runs them itself with
`--inline`). `--once` does one pass and exits; `--list` shows the jobs and their last runs.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from sijill.core import schedule
from sijill.core.models import ScheduledJob


class Command(BaseCommand):
    help = "Run the periodic jobs (claims each due job once, enqueues it for the worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=5.0,
                            help="Seconds between passes (default 5).")
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--inline", action="store_true",
                            help="Run the jobs in this process instead of enqueuing them.")
        parser.add_argument("--list", action="store_true", help="List the jobs and exit.")

    def handle(self, *args: Any, interval: float, once: bool, inline: bool, list: bool,
               **options: Any) -> None:
        schedule.sync()
        if list:
            registered = schedule.jobs()
            for row in ScheduledJob.objects.all():
                mark = "" if row.name in registered else "  (not registered)"
                self.stdout.write(
                    f"{row.name}: every {row.every_seconds} s, "
                    f"next {row.next_run_at:%Y-%m-%d %H:%M:%S}, "
                    f"{row.status}, last {row.last_outcome or 'never'} "
                    f"{row.last_result}{mark}")
            return
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            self.stdout.write(f"scheduler: {len(schedule.jobs())} periodic jobs, "
                              f"every {interval:g} s")
        worker = schedule.worker_name()
        while True:
            for name, what in schedule.run_due(inline=inline, worker=worker).items():
                self.stdout.write(f"{name}: {what}")
            if once or stopping:
                return
            slept = 0.0
            while slept < interval and not stopping:
                time.sleep(min(0.5, interval - slept))
                slept += 0.5
            if stopping:
                return
            close_old_connections()  # a long-running process: drop a broken connection
