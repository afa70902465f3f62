"""`manage.py verification_start [--limit N]`: start verifying households that were never sent
to verification (the synthetic loader sends no signal: they sit in "submitted", and the sweeper
leaves them to this command), and any other verifiable household whose current version has no
verification."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sijill.verification.services import verifications_start_pending


class Command(BaseCommand):
    help = "Start the verification of submitted households that have none yet."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args: Any, limit: int | None, **options: Any) -> None:
        n = verifications_start_pending(limit=limit)
        self.stdout.write(f"{n} verification(s) started")
