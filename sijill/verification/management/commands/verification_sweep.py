"""`manage.py verification_sweep [--inline]`: queue (or run here) every verification pass that
is due: partner attempts whose backoff ended, deadlines passed, work of a lost task."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sijill.verification.services import verification_sweep


class Command(BaseCommand):
    help = "Queue or run the verification passes that are due."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--inline", action="store_true", help="Run them here, not queued.")
        parser.add_argument("--stale-seconds", type=float, default=None,
                            help="How late a pass must be (default: 600 on a backend that "
                                 "defers tasks, else 0).")

    def handle(self, *args: Any, inline: bool, stale_seconds: float | None,
               **options: Any) -> None:
        n = verification_sweep(inline=inline, stale_seconds=stale_seconds)
        self.stdout.write(f"{n} verification(s) {'advanced' if inline else 'queued'}")
