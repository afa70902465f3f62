"""Re-decide eligibility: every program (or one), every household; `--recheck` re-runs the
conditions too (ages move with the calendar: run it daily)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sijill.programs import eligibility
from sijill.programs.models import Program
from sijill.programs.tasks import _notify


class Command(BaseCommand):
    help = "Re-decide programs' eligibility over the registry (only changes are written)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--program", help="Only this program's code.")
        parser.add_argument("--recheck", action="store_true",
                            help="Re-run the conditions of every household.")

    def handle(self, *args: Any, **options: Any) -> None:
        programs = Program.objects.filter(status__in=eligibility.DECIDED_STATUSES)
        if options["program"]:
            programs = programs.filter(code=options["program"])
            if not programs.exists():
                raise CommandError(f"no deciding program {options['program']!r}")
        for program in programs.order_by("pk"):
            start = time.perf_counter()
            outcome = eligibility.redecide(program, recheck=options["recheck"],
                                           reason="recheck" if options["recheck"] else None)
            _notify([outcome])
            self.stdout.write(
                f"{program.code}: {outcome.evaluated} households' conditions run, "
                f"{outcome.written} decisions written, "
                f"{len(outcome.changes)} changes ({time.perf_counter() - start:.1f} s)")
