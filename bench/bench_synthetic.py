"""Benchmark: synthetic households to Parquet and into PostgreSQL, time and peak memory, streaming.

Runs the national generator (census order, so the first million households are Tanger-Tétouan-
Al Hoceima and the start of the Oriental):

1. into Parquet files in a temporary directory;
2. into the register on PostgreSQL through the bulk loader (`sijill.synthetic.load`, COPY), in
   a database of its own (sijill_bench_synthetic on the benchmark server, created fresh and
   dropped at the end), in a child process so its peak memory is its own.

Each prints households per second, the time, and the peak resident memory once 100,000
households are written and again at the end: if streaming works, the two are close.

Usage: python bench/bench_synthetic.py [households] [seed] [--db-households N] [--no-db]
(households defaults to 1,000,000; --db-households defaults to the same number).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common

from sijill.synthetic.census import national_cells
from sijill.synthetic.generate import Options, generate_to_parquet, peak_rss_mb

DB_NAME = "sijill_bench_synthetic"


def _label(total: int) -> str:
    return f"{total // 1_000_000}m" if total % 1_000_000 == 0 else f"{total // 1000}k"


def _marks(total: int) -> tuple[dict[int, float], object]:
    marks: dict[int, float] = {}

    def progress(done: int) -> None:
        for mark in (100_000, total):
            if done >= mark and mark not in marks:
                marks[mark] = peak_rss_mb()

    return marks, progress


def bench_parquet(total: int, seed: int) -> None:
    national_cells()  # load the census once, outside the timing
    marks, progress = _marks(total)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = generate_to_parquet(
            None, seed, out, options=Options(max_households=total), progress=progress  # type: ignore[arg-type]
        )
        elapsed = time.perf_counter() - start
        size_mb = sum(f.stat().st_size for f in Path(out).glob("*.parquet")) / 1e6
    rate = summary.households / elapsed
    print(
        f"synthetic.parquet_{_label(total)}: {elapsed:.1f} s, {rate:,.0f} households/s, "
        f"peak RSS {summary.peak_rss_mb:,.0f} MB", flush=True
    )
    for mark, rss in sorted(marks.items()):
        print(f"synthetic.peak_rss_at_{mark:,}: {rss:,.0f} MB")
    persons = summary.rows["persons"]
    print(f"synthetic.rows: {summary.households:,} households, {persons:,} persons, "
          f"{size_mb:,.0f} MB", flush=True)


def _drop_db(url: str) -> None:
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def bench_postgres(total: int, seed: int) -> None:
    """Runs in its own process (see main): a fresh database, the load, the figures."""
    common.BENCH_DB = common.BENCH_DB.rsplit("/", 1)[0] + "/" + DB_NAME
    common.setup_django_on_bench_db(fresh=True)
    from django.db import connection

    from sijill.synthetic.load import population_load

    try:
        national_cells()
        marks, progress = _marks(total)
        summary = population_load(None, seed, Options(max_households=total),
                                  progress=lambda s: progress(s.households))  # type: ignore[operator]
        rate = summary.households / summary.seconds
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size_mb = cursor.fetchone()[0] / 1e6
        rows = sum(summary.rows.values())
        print(f"synthetic.postgres_{_label(total)}: {summary.seconds:.1f} s, {rate:,.0f} "
              f"households/s ({summary.method}), peak RSS {summary.peak_rss_mb:,.0f} MB",
              flush=True)
        for mark, rss in sorted(marks.items()):
            print(f"synthetic.postgres_peak_rss_at_{mark:,}: {rss:,.0f} MB")
        print(f"synthetic.postgres_rows: {summary.households:,} households, "
              f"{summary.persons:,} persons, {rows:,} rows in all, database {size_mb:,.0f} MB",
              flush=True)
    finally:
        connection.close()
        _drop_db(common.BENCH_DB)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("households", nargs="?", type=int, default=1_000_000)
    parser.add_argument("seed", nargs="?", type=int, default=1)
    parser.add_argument("--db-households", type=int, default=None)
    parser.add_argument("--no-db", action="store_true")
    parser.add_argument("--db-only", action="store_true", help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args()
    db_total = args.db_households or args.households
    if args.db_only:
        bench_postgres(db_total, args.seed)
        return 0
    bench_parquet(args.households, args.seed)
    if args.no_db:
        return 0
    if not common.postgres_available():
        print("synthetic.postgres: skipped (no PostgreSQL at the benchmark URL)")
        return 0
    return subprocess.run([sys.executable, __file__, "--db-only", "--db-households",
                           str(db_total), str(args.households), str(args.seed)],
                          check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
