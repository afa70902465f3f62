"""Benchmark: synthetic households written to Parquet, time and peak memory, streaming.

Runs the national generator (census order, so the first million households are Tanger-Tétouan-
Al Hoceima and the start of the Oriental) into a temporary directory, and prints the peak
resident memory once 100,000 households are written and again at the end: if streaming works,
the two are close. Usage: python bench/bench_synthetic.py [households] [seed]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sijill.synthetic.census import national_cells
from sijill.synthetic.generate import Options, generate_to_parquet, peak_rss_mb


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    national_cells()  # load the census once, outside the timing
    marks: dict[int, float] = {}

    def progress(done: int) -> None:
        for mark in (100_000, total):
            if done >= mark and mark not in marks:
                marks[mark] = peak_rss_mb()

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = generate_to_parquet(
            None, seed, out, options=Options(max_households=total), progress=progress
        )
        elapsed = time.perf_counter() - start
        size_mb = sum(f.stat().st_size for f in Path(out).glob("*.parquet")) / 1e6
    label = f"{total // 1_000_000}m" if total % 1_000_000 == 0 else f"{total // 1000}k"
    rate = summary.households / elapsed
    print(
        f"synthetic.parquet_{label}: {elapsed:.1f} s, {rate:,.0f} households/s, "
        f"peak RSS {summary.peak_rss_mb:,.0f} MB"
    )
    for mark, rss in sorted(marks.items()):
        print(f"synthetic.peak_rss_at_{mark:,}: {rss:,.0f} MB")
    persons = summary.rows["persons"]
    households = summary.households
    print(f"synthetic.rows: {households:,} households, {persons:,} persons, {size_mb:,.0f} MB")


if __name__ == "__main__":
    main()
