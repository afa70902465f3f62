"""manage.py generate_population: a synthetic population to Parquet or into the register.

    manage.py generate_population --scope 04.421.01.07 --seed 1 --to-db
    manage.py generate_population --scope country --seed 1 --to-parquet var/synthetic/ma-1
    manage.py generate_population --scope 04 --seed 7 --to-db --max-households 20000

--to-db loads through `sijill.synthetic.load.population_load` (COPY on PostgreSQL) and writes
the hidden truth to --truth-dir (default var/synthetic/<scope>-<seed>); --to-parquet writes
every table, declaration and truth, to Parquet files in a directory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sijill.synthetic.census import cells_for
from sijill.synthetic.generate import Options, generate_to_parquet, peak_rss_mb
from sijill.synthetic.load import LoadSummary, population_load


class Command(BaseCommand):
    help = "Generate a synthetic population (commune, province, region or country)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scope", required=True,
                            help="HCP code of a commune, province or region, or 'country'")
        parser.add_argument("--seed", type=int, required=True)
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--to-parquet", metavar="DIR", help="write Parquet files to DIR")
        target.add_argument("--to-db", action="store_true", help="load into the register")
        parser.add_argument("--max-households", type=int, default=None)
        parser.add_argument("--chunk-households", type=int, default=50_000)
        parser.add_argument("--truth-dir", default=None,
                            help="with --to-db: where the hidden truth goes (Parquet)")
        parser.add_argument("--include-duplicates", action="store_true",
                            help="with --to-db: also enrol the injected duplicate persons")

    def handle(self, *args: Any, **opts: Any) -> None:
        scope = None if opts["scope"].lower() in ("country", "ma") else opts["scope"]
        try:
            cells = cells_for(scope)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if opts["max_households"] is not None and opts["max_households"] < 1:
            raise CommandError("--max-households must be at least 1")
        total = sum(c.households for c in cells)
        if opts["max_households"] is not None:
            total = min(total, opts["max_households"])
        options = Options(max_households=opts["max_households"],
                          chunk_households=opts["chunk_households"])
        start = time.perf_counter()
        label = scope or "country"

        def line(households: int, persons: int | None = None) -> None:
            elapsed = time.perf_counter() - start
            rate = households / elapsed if elapsed else 0.0
            who = f", {persons:,} persons" if persons is not None else ""
            self.stdout.write(f"  {households:,}/{total:,} households{who}, "
                              f"{rate:,.0f} households/s, peak {peak_rss_mb():,.0f} MB")

        self.stdout.write(f"Generating {total:,} households of {label} (seed {opts['seed']})")
        if opts["to_parquet"]:
            summary = generate_to_parquet(scope, opts["seed"], opts["to_parquet"],
                                          options=options, progress=line)
            self.stdout.write(self.style.SUCCESS(
                f"Wrote {summary.households:,} households, {summary.rows['persons']:,} persons "
                f"to {opts['to_parquet']} in {time.perf_counter() - start:.1f} s"))
            return
        truth_dir = Path(opts["truth_dir"] or
                         Path(settings.VAR_DIR) / "synthetic" / f"{label}-{opts['seed']}")

        def progress(s: LoadSummary) -> None:
            line(s.households, s.persons)

        loaded = population_load(scope, opts["seed"], options,
                                 include_duplicates=opts["include_duplicates"],
                                 truth_dir=truth_dir, progress=progress)
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {loaded.households:,} households, {loaded.persons:,} persons "
            f"({loaded.method}) in {loaded.seconds:.1f} s; hidden truth in {truth_dir}"))
