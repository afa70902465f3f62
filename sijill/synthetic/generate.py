"""Generate a synthetic population for a scope, streaming chunks of Polars frames or Parquet.

Determinism: each cell (commune x milieu) is cut into slices of `SLICE_HOUSEHOLDS` households and
each slice draws from its own random stream, seeded by (seed, cell index, slice index). Keys come
from the census order of the whole country. So the same seed gives identical output, and a
commune comes out the same whether generated alone or as part of its province or the country;
`chunk_households` only decides how slices are batched into the frames yielded.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from sijill.synthetic.census import Cell, cells_for
from sijill.synthetic.duplicates import inject
from sijill.synthetic.population import generate_piece
from sijill.synthetic.schema import SCHEMAS, TABLES
from sijill.synthetic.tables import Rates, build_tables

SLICE_HOUSEHOLDS = 20_000
DEFAULT_AS_OF = date(2025, 1, 1)

Chunk = dict[str, pl.DataFrame]


@dataclass(frozen=True, slots=True)
class Options:
    """Everything that shapes the output besides scope and seed."""

    as_of: date = DEFAULT_AS_OF  # reference date: ages, bill months, deaths are relative to it
    rates: Rates = field(default_factory=Rates)
    bill_months: int = 12
    chunk_households: int = 50_000
    max_households: int | None = None  # stop after this many (the last cell may be cut short)


def _slices(
    cells: list[Cell], max_households: int | None
) -> Iterator[tuple[Cell, int, int, int, int]]:
    """(cell, slice index, first household, households, population) in national order."""
    left = max_households if max_households is not None else -1
    for cell in cells:
        for s, start in enumerate(range(0, cell.households, SLICE_HOUSEHOLDS)):
            n = min(SLICE_HOUSEHOLDS, cell.households - start)
            if left == 0:
                return
            if left > 0:
                n = min(n, left)
                left -= n
            pop = round(cell.population * (start + n) / cell.households) - round(
                cell.population * start / cell.households
            )
            yield cell, s, start, n, pop


def generate_slice(cell: Cell, slice_index: int, start: int, n: int, population: int, seed: int,
                   options: Options) -> Chunk:  # fmt: skip
    """All tables for households start..start+n of one cell."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, cell.index, slice_index]))
    hh, members = generate_piece(cell, start, n, population, rng, options.as_of)
    tables = build_tables(
        cell, hh, members, rng, seed=seed, as_of=options.as_of, rates=options.rates,
        bill_months=options.bill_months,
    )  # fmt: skip
    dups, truth = inject(tables["persons"], rng, options.rates.duplicate_person, seed)
    tables["persons"] = pl.concat([tables["persons"], dups])
    tables["duplicate_of"] = truth
    return tables


def generate(scope: str | None, seed: int, options: Options | None = None) -> Iterator[Chunk]:
    """Stream the population of a scope (commune, province or region code; None for Morocco).

    Yields dicts of table name -> frame (see `schema.SCHEMAS`), each holding whole households and
    about `options.chunk_households` of them, so memory stays flat whatever the scope's size.
    """
    options = options or Options()
    buffer: list[Chunk] = []
    count = 0
    for cell, s, start, n, pop in _slices(cells_for(scope), options.max_households):
        buffer.append(generate_slice(cell, s, start, n, pop, seed, options))
        count += n
        if count >= options.chunk_households:
            yield _concat(buffer)
            buffer, count = [], 0
    if buffer:
        yield _concat(buffer)


def _concat(chunks: list[Chunk]) -> Chunk:
    if len(chunks) == 1:
        return chunks[0]
    return {t: pl.concat([c[t] for c in chunks]) for t in TABLES}


def collect(scope: str | None, seed: int, options: Options | None = None) -> Chunk:
    """The whole scope in memory (for tests and small scopes)."""
    return _concat(list(generate(scope, seed, options)))


@dataclass(slots=True)
class Summary:
    """What a Parquet run wrote."""

    households: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    peak_rss_mb: float = 0.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_to_parquet(
    scope: str | None,
    seed: int,
    out_dir: str | Path,
    *,
    options: Options | None = None,
    tables: tuple[str, ...] = TABLES,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write each table to `out_dir/<table>.parquet`, one row group per chunk, streaming.

    `progress` is called with the running household count after each chunk (for commands and
    benchmarks). Returns the row counts and paths written.
    """
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary(rows={t: 0 for t in tables})
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for chunk in generate(scope, seed, options):
            for t in tables:
                arrow = chunk[t].to_arrow()
                if t not in writers:
                    summary.files[t] = out / f"{t}.parquet"
                    writers[t] = pq.ParquetWriter(
                        summary.files[t], arrow.schema, compression="zstd"
                    )
                writers[t].write_table(arrow.cast(writers[t].schema))
                summary.rows[t] += chunk[t].height
            summary.households += chunk["households"].height
            if progress is not None:
                progress(summary.households)
    finally:
        for w in writers.values():
            w.close()
    for t in tables:  # tables with no row at all still get a file with the right columns
        if t not in writers:
            summary.files[t] = out / f"{t}.parquet"
            pl.DataFrame(schema=SCHEMAS[t]).write_parquet(summary.files[t])
    summary.peak_rss_mb = peak_rss_mb()
    return summary
