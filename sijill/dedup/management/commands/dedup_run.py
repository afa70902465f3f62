"""`manage.py dedup_run`: sweep the register for duplicates now (in this process), or enqueue."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sijill.accounts.actors import SYSTEM
from sijill.dedup import linkage, services


class Command(BaseCommand):
    help = "Find probable duplicate persons in the whole register (Splink on DuckDB)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threshold", type=float, default=linkage.RECOMMENDED_THRESHOLD,
                            help="match probability from which pairs form clusters")
        parser.add_argument("--enqueue", action="store_true",
                            help="hand the run to the task worker instead of running it here")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--recover", action="store_true",
                            help="only hand runs whose worker died to a new attempt (enqueued)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["recover"]:
            retried = services.runs_recover(actor=SYSTEM)
            self.stdout.write(json.dumps({"retried": retried}))
            return
        params = linkage.LinkageParams(threshold=options["threshold"], seed=options["seed"])
        run = services.run_start(actor=SYSTEM, params=params, enqueue=options["enqueue"])
        if options["enqueue"]:
            self.stdout.write(f"run {run.pk} enqueued")
            return
        run = services.run_execute(run.pk)
        self.stdout.write(json.dumps({
            "run": run.pk, "status": run.status, "records": run.records, "pairs": run.pairs,
            "clusters": run.clusters, "duplicates": run.duplicates, "by_band": run.by_band,
            "seconds": run.seconds}))
