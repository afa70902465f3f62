"""manage.py import_households FILE.csv|FILE.parquet: all or nothing, every bad row reported.

The file layout is documented in sijill/households/bulk.py. Exit status 0 when imported, 1 when
the file has bad rows (nothing imported; the report lists row, field, code, reason as CSV on
stdout, or in --report FILE).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils import translation

from sijill.households.bulk import households_import


class Command(BaseCommand):
    help = "Import households (one row per member) from a CSV or Parquet file, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--report", type=Path, help="Write the bad-row report (CSV) here.")
        parser.add_argument("--lang", default="en", choices=["ar", "fr", "en"],
                            help="Language of the reasons in the report.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        started = time.perf_counter()
        with translation.override(options["lang"]):
            try:
                result = households_import(path=path)
            except (ValueError, UnicodeDecodeError, OSError, pl.exceptions.PolarsError) as exc:
                # The file as a whole cannot be read (empty, not UTF-8, ragged, a corrupt
                # Parquet file): one line saying so, nothing imported.
                why = " ".join(str(exc).split())[:300]
                raise CommandError(f"{path.name}: the file cannot be read "
                                   f"({type(exc).__name__}: {why}); nothing imported.") from exc
            except IntegrityError as exc:
                # A concurrent registration took a person or a reference first: the file's
                # transaction rolled back whole.
                raise CommandError(f"{path.name}: a concurrent change conflicts with the file "
                                   f"({str(exc).splitlines()[0][:300]}); nothing imported, "
                                   "run it again.") from exc
        elapsed = time.perf_counter() - started
        if result.errors:
            out = (options["report"].open("w", newline="", encoding="utf-8")
                   if options["report"] else self.stdout)
            writer = csv.writer(out)
            writer.writerow(["row", "field", "code", "reason"])
            for e in result.errors:
                writer.writerow([e.row, e.field, e.code, e.reason])
            if options["report"]:
                out.close()
            rows = len({e.row for e in result.errors})
            self.stderr.write(f"{path.name}: {rows} bad row(s), {len(result.errors)} "
                              "problem(s); nothing imported.")
            sys.exit(1)
        self.stdout.write(f"{path.name}: imported {result.households} households "
                          f"({result.members} members) in {elapsed:.1f}s "
                          f"[{result.method}]")
