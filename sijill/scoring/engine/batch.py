"""Score many households at once: the fused compiled kernel (`kernel`, numba) for large batches,
or vectorised NumPy over columns, in chunks (below `KERNEL_MIN_HOUSEHOLDS`, or as the fallback
when the kernel cannot be built). Both evaluate the single path's derivations.

NumPy path: the derivations evaluated on columns. Member facts are counted per
household with one `np.add.reduceat` per eight features (each count packed in one byte of a
uint64, which is exact while a household has at most 255 members). Chunks keep the working set
in cache and memory flat; batches ordered by milieu only compute the columns of that milieu.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from sijill.declaration.vocab import Milieu, Relationship
from sijill.scoring.engine.codes import ENUM_FIELDS, code
from sijill.scoring.engine.derivations import DERIVATIONS, MEMBER_FEATURES, Derivation
from sijill.scoring.engine.formula import Formula
from sijill.scoring.engine.inputs import HouseholdBatch

log = logging.getLogger(__name__)

_N_MILIEUX = len(Milieu)
DEFAULT_CHUNK = 8_192
#: Below this many households "auto" keeps to NumPy: a kernel's first compilation in a process
#: (seconds, or a disk-cache load) would cost more than it saves on a small batch.
KERNEL_MIN_HOUSEHOLDS = 200_000


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Scores of a batch, and optionally the per-variable matrices.

    `columns` are the variable keys of all milieu models; in `values` a variable outside the
    household's milieu model is NaN (its contribution 0, its `verified` flag false).
    """

    formula_identifier: str
    formula_version: str
    columns: tuple[str, ...]
    score: np.ndarray
    provisional: np.ndarray
    provisional_nonzero: np.ndarray
    values: np.ndarray | None = None
    contributions: np.ndarray | None = None
    verified: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    columns: tuple[str, ...]
    derivations: tuple[Derivation, ...]
    weights: np.ndarray  # (milieu code, column)
    in_model: np.ndarray  # (milieu code, column) bool
    provisional: np.ndarray  # (milieu code, column) bool
    has_model: np.ndarray  # (milieu code,) bool
    model_provisional: np.ndarray  # (milieu code,) bool
    constants: np.ndarray  # (milieu code,)
    region_terms: np.ndarray  # (milieu code, formula region)
    order: tuple[tuple[int, tuple[int, ...]], ...]  # milieu code, its columns in model order
    provisional_columns: np.ndarray  # (milieu code, i): the model's provisional columns
    n_provisional: np.ndarray  # (milieu code,)


def _plan(formula: Formula) -> _Plan:
    columns: list[str] = []
    derivation_of: dict[str, Derivation] = {}
    for model in formula.milieux.values():
        for v in model.variables:
            if v.key not in derivation_of:
                columns.append(v.key)
                derivation_of[v.key] = DERIVATIONS[v.derivation]
    k, r = len(columns), len(formula.regions)
    weights = np.zeros((_N_MILIEUX, k))
    in_model = np.zeros((_N_MILIEUX, k), dtype=bool)
    provisional = np.zeros((_N_MILIEUX, k), dtype=bool)
    has_model = np.zeros(_N_MILIEUX, dtype=bool)
    model_provisional = np.zeros(_N_MILIEUX, dtype=bool)
    constants = np.zeros(_N_MILIEUX)
    region_terms = np.zeros((_N_MILIEUX, r))
    index = {c: j for j, c in enumerate(columns)}
    order = {}
    provisional_columns = np.zeros((_N_MILIEUX, k), dtype=np.int64)
    n_provisional = np.zeros(_N_MILIEUX, dtype=np.int64)
    for milieu, model in formula.milieux.items():
        mc = code(milieu)
        order[mc] = tuple(index[v.key] for v in model.variables)
        marked = [index[v.key] for v in model.variables if v.provisional]
        n_provisional[mc] = len(marked)
        provisional_columns[mc, : len(marked)] = marked
        has_model[mc] = True
        model_provisional[mc] = model.is_provisional
        constants[mc] = model.constant
        region_terms[mc] = [model.region_terms[c] for c in formula.region_codes]
        for v in model.variables:
            j = index[v.key]
            weights[mc, j] = v.coefficient
            in_model[mc, j] = True
            provisional[mc, j] = v.provisional
    return _Plan(
        tuple(columns),
        tuple(derivation_of[c] for c in columns),
        weights,
        in_model,
        provisional,
        has_model,
        model_provisional,
        constants,
        region_terms,
        tuple(sorted(order.items())),
        provisional_columns,
        n_provisional,
    )


@dataclass(frozen=True, slots=True)
class _ChunkLayout:
    """What a chunk with these milieux computes: columns, fields read, member features."""

    cols: np.ndarray
    derivations: tuple[Derivation, ...]
    household_fields: tuple[str, ...]
    head_fields: tuple[str, ...]
    features: tuple[str, ...]
    member_fields: tuple[str, ...]
    provisional_rows: tuple[int, ...]

    @classmethod
    def of(cls, plan: _Plan, present: np.ndarray) -> _ChunkLayout:
        cols = np.flatnonzero(plan.in_model[present].any(axis=0))
        derivations = tuple(plan.derivations[j] for j in cols)
        features = sorted(set().union(*(d.features for d in derivations)))
        return cls(
            cols=cols,
            derivations=derivations,
            household_fields=tuple(sorted(set().union(*(d.household_fields for d in derivations)))),
            head_fields=tuple(sorted(set().union(*(d.head_fields for d in derivations)))),
            features=tuple(features),
            member_fields=tuple(
                sorted(set().union(*(MEMBER_FEATURES[f].member_fields for f in features)))
            ),
            provisional_rows=tuple(
                r for r, j in enumerate(cols) if plan.provisional[present, j].any()
            ),
        )


def _effective(
    batch: HouseholdBatch, name: str, level: str, rows: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """Declared column values at `rows` (slice or index array), replaced where verified."""
    columns = batch.household if level == "household" else batch.members
    overrides = batch.household_overrides if level == "household" else batch.member_overrides
    values = columns[name][rows]
    o = overrides.get(name)
    if o is None:
        return values, None
    mask = o.verified[rows]
    return np.where(mask, o.values[rows], values), mask


def _arith(name: str, values: np.ndarray) -> np.ndarray:
    """Quantities (not codes nor flags) as float64, so squares and sums cannot overflow and the
    derivations' divisions and products need no conversion (declared counts and amounts are
    small integers: exact in float64, the same values as the single path's Python ints)."""
    if name in ENUM_FIELDS or values.dtype == bool or values.dtype.kind == "f":
        return values
    return values.astype(np.float64)


def _count_features(features: list[Any], local: np.ndarray, size_max: int) -> list[np.ndarray]:
    """Per-household counts of boolean member features (rows grouped by `local` offsets)."""
    starts = local[:-1]
    n_rows = int(local[-1])
    if size_max > 255:
        return [np.add.reduceat(f.astype(np.int64), starts).astype(np.float64)
                for f in features]
    counts: list[np.ndarray] = []
    for g in range(0, len(features), 8):
        group = features[g : g + 8]
        packed = np.zeros((n_rows, 8), dtype=bool)
        for i, f in enumerate(group):
            packed[:, i] = f
        sums = np.add.reduceat(packed.view(np.uint64).ravel(), starts)
        as_bytes = sums.view(np.uint8).reshape(-1, 8)
        counts.extend(as_bytes[:, i].astype(np.float64) for i in range(len(group)))
    return counts


def score_batch(
    formula: Formula,
    batch: HouseholdBatch,
    *,
    values: bool = False,
    contributions: bool = False,
    sources: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    validate: bool = True,
    engine: str = "auto",
) -> BatchResult:
    """Score every household of `batch` with `formula` (declared values, replaced where
    verified). Ask for `values`, `contributions` and `sources` (verified flags) matrices only
    when needed: each is n x columns.

    `engine`: "kernel" (the fused compiled loop of `kernel`), "numpy" (columns in chunks of
    `chunk_size`), or "auto": the kernel for batches of at least `KERNEL_MIN_HOUSEHOLDS`
    households when numba is installed and the definitions translate, NumPy otherwise. Both
    give the same scores (to 1e-9). `validate=False` trusts the batch on the NumPy path; the
    kernel checks the same rules as it goes, at no extra pass."""
    if engine not in ("auto", "kernel", "numpy"):
        raise ValueError(f"unknown engine {engine!r}")
    plan = _plan(formula)
    n, k = batch.n, len(plan.columns)
    try:
        region_map = np.array([formula.region_codes.index(c) for c in batch.region_codes])
    except ValueError:
        raise ValueError(f"batch has regions unknown to {formula.label}") from None
    if engine == "kernel" or (engine == "auto" and n >= KERNEL_MIN_HOUSEHOLDS):
        batch.validate_columns()  # always: the kernel checks the rest as it goes
        result = _score_with_kernel(
            formula, plan, batch, region_map,
            values=values, contributions=contributions, sources=sources,
            strict=engine == "kernel",
        )  # fmt: skip
        if result is not None:
            return result
    if validate:
        batch.validate()
    present_codes = np.flatnonzero(np.bincount(batch.milieu, minlength=_N_MILIEUX))
    if not np.all(plan.has_model[present_codes]):
        raise ValueError(f"{formula.label} has no model for some milieu in the batch")

    score = np.empty(n)
    provisional = plan.model_provisional[batch.milieu]
    provisional_nonzero = np.zeros(n, dtype=bool)
    out_values = np.full((n, k), np.nan) if values else None
    out_contrib = np.zeros((n, k)) if contributions else None

    layouts: dict[tuple[int, ...], _ChunkLayout] = {}
    for a, b in _chunks(batch.milieu, chunk_size):
        mil = batch.milieu[a:b]
        present = np.flatnonzero(np.bincount(mil, minlength=_N_MILIEUX))
        key = tuple(present.tolist())
        if key not in layouts:
            layouts[key] = _ChunkLayout.of(plan, present)
        layout = layouts[key]
        cols, derivations = layout.cols, layout.derivations
        off = batch.offsets[a : b + 1]
        m0, m1 = int(off[0]), int(off[-1])
        local = off - m0
        heads = off[:-1]
        size = np.diff(off)

        ctx: dict[str, Any] = {"size": size.astype(np.float64)}
        for name in layout.household_fields:
            col, _mask = _effective(batch, name, "household", slice(a, b))
            ctx[name] = _arith(name, col)
        for name in layout.head_fields:
            col, _mask = _effective(batch, name, "member", heads)
            ctx["head_" + name] = _arith(name, col)
        features = layout.features
        if features:
            member_ctx: dict[str, Any] = {}
            for name in layout.member_fields:
                col, _mask = _effective(batch, name, "member", slice(m0, m1))
                member_ctx[name] = col
            m = SimpleNamespace(**member_ctx)
            evaluated = [np.asarray(MEMBER_FEATURES[f].fn(m), dtype=bool) for f in features]
            counts = _count_features(evaluated, local, int(size.max()))
            for f, c in zip(features, counts, strict=True):
                ctx["n_" + f] = c
        h = SimpleNamespace(**ctx)

        x = np.empty((len(cols), b - a))
        for r, d in enumerate(derivations):
            x[r] = d.fn(h)

        region = region_map[batch.region[a:b]]
        weights = plan.weights[:, cols]
        in_model = plan.in_model[:, cols]
        if len(present) == 1:
            mc = int(present[0])
            score[a:b] = plan.constants[mc] + plan.region_terms[mc][region] + weights[mc] @ x
            rows_in_model = in_model[mc][np.newaxis, :]
            rows_weights = weights[mc][np.newaxis, :]
        else:
            s = weights @ x
            score[a:b] = (
                plan.constants[mil] + plan.region_terms[mil, region] + s[mil, np.arange(b - a)]
            )
            rows_in_model = np.take(in_model, mil, axis=0)
            rows_weights = np.take(weights, mil, axis=0)

        for r in layout.provisional_rows:
            nonzero = x[r] != 0
            if len(present) > 1:
                nonzero &= plan.provisional[:, cols[r]][mil]
            provisional_nonzero[a:b] |= nonzero

        if out_values is not None:
            out_values[a:b, cols] = np.where(rows_in_model, x.T, np.nan)
        if out_contrib is not None:
            out_contrib[a:b, cols] = x.T * rows_weights

    return BatchResult(
        formula_identifier=formula.identifier,
        formula_version=formula.version,
        columns=plan.columns,
        score=score,
        provisional=provisional,
        provisional_nonzero=provisional_nonzero,
        values=out_values,
        contributions=out_contrib,
        verified=_verified_flags(plan, batch) if sources else None,
    )


def _chunks(milieu: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Chunk bounds of at most `chunk_size`, also cut where the milieu changes when the batch
    is ordered by milieu (so each chunk computes one milieu's columns only)."""
    n = len(milieu)
    cuts = set(range(0, n, chunk_size)) | {n}
    changes = np.flatnonzero(milieu[1:] != milieu[:-1]) + 1
    if len(changes) <= max(8, n // chunk_size):
        cuts |= set(changes.tolist())
    bounds = sorted(cuts)
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _score_with_kernel(
    formula: Formula,
    plan: _Plan,
    batch: HouseholdBatch,
    region_map: np.ndarray,
    *,
    values: bool,
    contributions: bool,
    sources: bool,
    strict: bool,
) -> BatchResult | None:
    """The batch through the fused kernel, or None (NumPy fallback) when numba is missing or a
    definition cannot be compiled; `strict` raises instead."""
    from sijill.scoring.engine import kernel as fused

    n, k = batch.n, len(plan.columns)
    bool_fields = frozenset(
        name
        for columns in (batch.household, batch.members)
        for name, column in columns.items()
        if column.dtype == bool
    )
    layout = fused.Layout(
        plan.derivations,
        plan.order,
        values=values,
        contributions=contributions,
        bool_fields=bool_fields,
    )
    try:
        kernel = fused.compile_kernel(layout)
    except (ImportError, fused.Untranslatable) as e:
        if strict:
            raise
        _warn_fallback(e)
        return None

    def effective(level: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        columns = batch.household if level == "household" else batch.members
        overrides = batch.household_overrides if level == "household" else batch.member_overrides
        out = {}
        for name in names:
            o = overrides.get(name)
            declared = columns[name]
            out[name] = declared if o is None else np.where(o.verified, o.values, declared)
        return out

    score = np.empty(n)
    provisional = np.empty(n, dtype=bool)
    provisional_nonzero = np.empty(n, dtype=bool)
    out_values = np.empty((n if values else 0, k))
    out_contrib = np.empty((n if contributions else 0, k))
    try:
        bad, no_model, heads = kernel.run(
            offsets=batch.offsets,
            milieu=batch.milieu,
            region=batch.region,
            weights=plan.weights,
            in_model=plan.in_model,
            constants=plan.constants,
            region_terms=plan.region_terms[:, region_map],
            provisional=plan.provisional_columns,
            n_provisional=plan.n_provisional,
            model_provisional=plan.model_provisional,
            household=effective("household", kernel.household_fields),
            members=effective("member", kernel.member_fields),
            score=score,
            provisional_out=provisional,
            provisional_nonzero=provisional_nonzero,
            values=out_values,
            contributions=out_contrib,
            head=code(Relationship.HEAD),
            n_regions=len(batch.region_codes),
        )
    except Exception as e:
        from numba.core.errors import NumbaError

        if strict or not isinstance(e, NumbaError):
            raise
        _warn_fallback(e)
        return None
    if bad or heads != n:
        batch.validate()  # raises with the precise rule
        raise ValueError("invalid household batch")  # pragma: no cover
    if no_model:
        raise ValueError(f"{formula.label} has no model for some milieu in the batch")
    return BatchResult(
        formula_identifier=formula.identifier,
        formula_version=formula.version,
        columns=plan.columns,
        score=score,
        provisional=provisional,
        provisional_nonzero=provisional_nonzero,
        values=out_values if values else None,
        contributions=out_contrib if contributions else None,
        verified=_verified_flags(plan, batch) if sources else None,
    )


_warned: set[str] = set()


def _warn_fallback(error: Exception) -> None:
    text = f"{type(error).__name__}: {error}"
    if text not in _warned:
        _warned.add(text)
        log.warning("batch scoring falls back to NumPy: %s", text.splitlines()[0])


def _verified_flags(plan: _Plan, batch: HouseholdBatch) -> np.ndarray:
    """(n, columns): whether a verified value fed each variable of each household's model."""
    n = batch.n
    heads = batch.offsets[:-1]
    household = {f: o.verified for f, o in batch.household_overrides.items()}
    head = {f: o.verified[heads] for f, o in batch.member_overrides.items()}
    member: dict[str, np.ndarray] = {}
    out = np.zeros((n, len(plan.columns)), dtype=bool)
    in_model = plan.in_model[batch.milieu]
    for j, d in enumerate(plan.derivations):
        flag = np.zeros(n, dtype=bool)
        for name in d.household_fields:
            flag |= household.get(name, False)
        for name in d.head_fields:
            flag |= head.get(name, False)
        for name in d.member_fields:
            o = batch.member_overrides.get(name)
            if o is not None:
                if name not in member:
                    member[name] = np.logical_or.reduceat(o.verified, heads) if n else flag
                flag |= member[name]
        out[:, j] = flag & in_model[:, j]
    return out
