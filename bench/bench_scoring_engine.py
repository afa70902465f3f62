"""Benchmark of the pure scoring engine (no Django, no database).

Prints the single-household latency and the batch engine on N synthetic households (default
10,000,000), from raw declaration columns (household fields, member rows with the head first)
through validation, member counts and derivations to the score, with its ratio to a bare
`X @ w` on the design matrix the engine derives (per milieu: X_urban @ w_urban + X_rural @
w_rural). The batch engine is the fused kernel (`engine.kernel`, numba, all cores); the NumPy
path is timed too. The kernel's compilation is timed apart: from numba's disk cache
(var/numba-kernels, as a process gets it once the kernel was compiled on the machine) and cold.

    .venv/bin/python bench/bench_scoring_engine.py [--households N] [--chunk-size C]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sijill.declaration.model import HOUSEHOLD_FIELDS, HouseholdData, MemberData
from sijill.declaration.vocab import Milieu, Relationship
from sijill.scoring.engine import (
    HouseholdBatch,
    HouseholdInput,
    MemberInput,
    default_formula,
    kernel,
    score_batch,
    score_household,
)
from sijill.scoring.engine.batch import DEFAULT_CHUNK
from sijill.scoring.engine.codes import ENUM_FIELDS, code
from sijill.scoring.engine.derivations import MEMBER_CONTEXT_FIELDS
from sijill.scoring.engine.formula import Formula

URBAN_SHARE = 0.628  # RGPH 2024
SIZE_WEIGHTS = np.array([0.09, 0.13, 0.17, 0.21, 0.17, 0.11, 0.06, 0.03, 0.02, 0.01])

_BOOL_FIELDS = {
    "has_bathroom_or_shower",
    "has_kitchen",
    "has_toilet",
    "has_running_water",
    "has_garage",
    "has_secondary_residence",
    "has_professional_premises",
    "owns_non_agricultural_land",
    "owns_or_farms_irrigated_land",
    "has_satellite_dish",
    "has_landline",
    "has_loan",
}
_SMALL_COUNTS = {"rooms": (1, 7), "cows": (0, 6), "mobile_phones": (0, 6), "computers": (0, 3)}
_SMALL_COUNTS |= {"cars": (0, 3), "motorcycles": (0, 3)}


def synthetic_batch(n: int, seed: int = 1) -> HouseholdBatch:
    """Households ordered by milieu (as a rescoring job streams them), members head first."""
    rng = np.random.default_rng(seed)
    n_urban = round(n * URBAN_SHARE)
    milieu = np.full(n, code(Milieu.RURAL), dtype=np.uint8)
    milieu[:n_urban] = code(Milieu.URBAN)
    region = rng.integers(0, 12, n).astype(np.int64)
    household: dict[str, np.ndarray] = {}
    for name in HOUSEHOLD_FIELDS:
        if name in ENUM_FIELDS:
            household[name] = rng.integers(0, len(ENUM_FIELDS[name]), n, dtype=np.uint8)
        elif name in _BOOL_FIELDS:
            household[name] = rng.random(n, dtype=np.float32) < 0.3
        elif name in _SMALL_COUNTS:
            lo, hi = _SMALL_COUNTS[name]
            household[name] = rng.integers(lo, hi, n, dtype=np.uint8)
        else:  # monthly dirham amounts
            household[name] = rng.integers(0, 600, n, dtype=np.int32)
    sizes = rng.choice(np.arange(1, 11), n, p=SIZE_WEIGHTS / SIZE_WEIGHTS.sum())
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    m = int(offsets[-1])
    members: dict[str, np.ndarray] = {}
    for name in MEMBER_CONTEXT_FIELDS:
        if name == "age":
            members[name] = rng.integers(0, 95, m, dtype=np.uint8)
        elif name == "literate":
            members[name] = rng.random(m, dtype=np.float32) < 0.6
        else:
            members[name] = rng.integers(0, len(ENUM_FIELDS[name]), m, dtype=np.uint8)
    head, spouse = code(Relationship.HEAD), code(Relationship.SPOUSE)
    rel = members["relationship"]
    rel[rel == head] = spouse
    rel[offsets[:-1]] = head
    members["age"][offsets[:-1]] = rng.integers(18, 95, n, dtype=np.uint8)
    return HouseholdBatch(
        household=household,
        members=members,
        offsets=offsets,
        milieu=milieu,
        region=region,
        region_codes=default_formula().region_codes,
    )


def household_input(batch: HouseholdBatch, i: int) -> HouseholdInput:
    """Household i of a synthetic batch as the records the single path takes."""

    def value(name: str, column: np.ndarray, row: int) -> object:
        raw = column[row]
        if name in ENUM_FIELDS:
            return list(ENUM_FIELDS[name])[int(raw)]
        return bool(raw) if column.dtype == bool else int(raw)

    data = HouseholdData(**{f: value(f, batch.household[f], i) for f in HOUSEHOLD_FIELDS})
    members = []
    for r in range(int(batch.offsets[i]), int(batch.offsets[i + 1])):
        fields = {f: value(f, batch.members[f], r) for f in MEMBER_CONTEXT_FIELDS}
        age, sex = fields.pop("age"), fields.pop("sex")
        members.append(MemberInput(MemberData(idcs=f"{r:010d}", **fields), age, sex))
    return HouseholdInput(
        household=data,
        members=tuple(members),
        region=batch.region_codes[int(batch.region[i])],
        milieu=list(Milieu)[int(batch.milieu[i])],
    )


def single_latency(batch: HouseholdBatch, count: int = 2000) -> dict[str, float]:
    """Microseconds per score_household call, urban and rural synthetic households."""
    formula = default_formula()
    out = {}
    for milieu in (Milieu.URBAN, Milieu.RURAL):
        rows = np.flatnonzero(batch.milieu == code(milieu))[:count]
        inputs = [household_input(batch, int(i)) for i in rows]
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            for household in inputs:
                score_household(formula, household)
            best = min(best, (time.perf_counter() - t) / len(inputs))
        out[milieu.value] = best * 1e6
    return out


def bare_matvec(formula: object, batch: HouseholdBatch, chunk_size: int) -> tuple[float, float]:
    """Best time of X_u @ w_u + X_r @ w_r on the engine's own design matrices, and the largest
    difference between those bare scores and the engine's."""
    f = default_formula()
    result = score_batch(f, batch, values=True, chunk_size=chunk_size)
    assert result.values is not None
    mats = []
    for milieu in (Milieu.URBAN, Milieu.RURAL):
        rows = np.flatnonzero(batch.milieu == code(milieu))
        if len(rows) == 0:
            continue
        model = f.model(milieu)
        cols = [result.columns.index(v.key) for v in model.variables]
        x = np.ascontiguousarray(result.values[rows[0] : rows[-1] + 1][:, cols])
        w = np.array([v.coefficient for v in model.variables])
        base = (
            model.constant
            + np.array([model.region_terms[c] for c in f.region_codes])[batch.region[rows]]
        )
        mats.append((x, w, base, rows))
    score = result.score
    del result
    gc.collect()
    best = float("inf")
    for _ in range(10):  # best of many: on a shared machine the bare product varies 0.14-0.6 s
        t = time.perf_counter()
        for x, w, _, _ in mats:
            x @ w
        best = min(best, time.perf_counter() - t)
    diff = max(float(np.max(np.abs(b + x @ w - score[rows]))) for x, w, b, rows in mats)
    return best, diff


def kernel_compile_times(f: Formula) -> tuple[float, bool, float]:
    """Seconds until the score-only kernel first runs in this process (loaded from the disk
    cache when it holds it: whether it did), then compiled again with the disk cache off."""
    small = synthetic_batch(1_000, seed=3)
    t = time.perf_counter()
    score_batch(f, small, engine="kernel")
    first = time.perf_counter() - t
    hit = any(k.dispatcher.stats.cache_hits for k in kernel._KERNELS.values())
    previous = os.environ.get(kernel.CACHE_ENV)
    os.environ[kernel.CACHE_ENV] = "off"
    try:
        kernel._KERNELS.clear()
        t = time.perf_counter()
        score_batch(f, small, engine="kernel")
        cold = time.perf_counter() - t
    finally:
        if previous is None:
            del os.environ[kernel.CACHE_ENV]
        else:
            os.environ[kernel.CACHE_ENV] = previous
    return first, hit, cold


def best_of(repeats: int, fn: object) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=10_000_000)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
    args = parser.parse_args()
    n = args.households
    label = f"{n // 1_000_000}m" if n % 1_000_000 == 0 else str(n)

    t = time.perf_counter()
    batch = synthetic_batch(n)
    members = int(batch.offsets[-1])
    print(
        f"# synthetic input: {n:,} households, {members:,} members "
        f"({time.perf_counter() - t:.1f} s to generate)"
    )
    for milieu, us in single_latency(synthetic_batch(20_000, seed=2)).items():
        print(f"scoring.single_{milieu}: {us:.1f} µs per household")
    formula = default_formula()
    first, hit, cold = kernel_compile_times(formula)
    print(
        f"scoring.kernel_compile: {first:.2f} s on first use "
        f"({'loaded from' if hit else 'compiled into'} the disk cache {kernel.cache_dir()}); "
        f"{cold:.1f} s to compile with the disk cache off"
    )
    import numba

    score_batch(formula, batch, engine="kernel")  # warm-up
    fused = best_of(5, lambda: score_batch(formula, batch, engine="kernel"))
    score_batch(formula, batch, engine="numpy", chunk_size=args.chunk_size)  # warm-up
    numpy_path = best_of(
        3, lambda: score_batch(formula, batch, engine="numpy", chunk_size=args.chunk_size)
    )
    bare, diff = bare_matvec(formula, batch, args.chunk_size)
    print(
        f"scoring.batch_{label}: {fused:.2f} s (ratio to bare X@w: {fused / bare:.1f}x); "
        f"fused kernel, {numba.get_num_threads()} threads"
    )
    print(
        f"scoring.batch_{label}_numpy: {numpy_path:.2f} s (ratio to bare X@w: "
        f"{numpy_path / bare:.1f}x); NumPy path, chunks of {args.chunk_size:,}"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"# bare X@w: {bare:.3f} s; kernel {n / fused / 1e6:.1f} M households/s; "
        f"max |engine - bare| = {diff:.1e}; load average {load} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
