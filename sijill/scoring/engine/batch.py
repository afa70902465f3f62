"""Score many households at once: vectorised NumPy over columns, in chunks.

Same derivations as the single path, evaluated on columns. Member facts are counted per
household with one `np.add.reduceat` per eight features (each count packed in one byte of a
uint64, which is exact while a household has at most 255 members). Chunks keep the working set
in cache and memory flat; batches ordered by milieu only compute the columns of that milieu.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from sijill.declaration.vocab import Milieu
from sijill.scoring.engine.codes import ENUM_FIELDS, code
from sijill.scoring.engine.derivations import DERIVATIONS, MEMBER_FEATURES, Derivation
from sijill.scoring.engine.formula import Formula
from sijill.scoring.engine.inputs import HouseholdBatch

_N_MILIEUX = len(Milieu)
DEFAULT_CHUNK = 8_192


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
    for milieu, model in formula.milieux.items():
        mc = code(milieu)
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
) -> BatchResult:
    """Score every household of `batch` with `formula` (declared values, replaced where
    verified). Ask for `values`, `contributions` and `sources` (verified flags) matrices only
    when needed: each is n x columns."""
    if validate:
        batch.validate()
    plan = _plan(formula)
    n, k = batch.n, len(plan.columns)
    try:
        region_map = np.array([formula.region_codes.index(c) for c in batch.region_codes])
    except ValueError:
        raise ValueError(f"batch has regions unknown to {formula.label}") from None
    present_codes = np.flatnonzero(np.bincount(batch.milieu, minlength=_N_MILIEUX))
    if not np.all(plan.has_model[present_codes]):
        raise ValueError(f"{formula.label} has no model for some milieu in the batch")

    score = np.empty(n)
    provisional = plan.model_provisional[batch.milieu]
    provisional_nonzero = np.zeros(n, dtype=bool)
    out_values = np.full((n, k), np.nan) if values else None
    out_contrib = np.zeros((n, k)) if contributions else None
    out_verified = np.zeros((n, k), dtype=bool) if sources else None

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
        masks: dict[tuple[str, str], np.ndarray] = {}
        for name in layout.household_fields:
            col, mask = _effective(batch, name, "household", slice(a, b))
            ctx[name] = _arith(name, col)
            if mask is not None:
                masks[("household", name)] = mask
        for name in layout.head_fields:
            col, mask = _effective(batch, name, "member", heads)
            ctx["head_" + name] = _arith(name, col)
            if mask is not None:
                masks[("head", name)] = mask
        features = layout.features
        if features:
            member_ctx: dict[str, Any] = {}
            for name in layout.member_fields:
                col, mask = _effective(batch, name, "member", slice(m0, m1))
                member_ctx[name] = col
                if mask is not None and sources:
                    masks[("member", name)] = np.logical_or.reduceat(mask, local[:-1])
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
        if out_verified is not None:
            for r, d in enumerate(derivations):
                flag = np.zeros(b - a, dtype=bool)
                for name in d.household_fields:
                    flag |= masks.get(("household", name), False)
                for name in d.head_fields:
                    flag |= masks.get(("head", name), False)
                for name in d.member_fields:
                    flag |= masks.get(("member", name), False)
                out_verified[a:b, cols[r]] = flag & rows_in_model[:, r]

    return BatchResult(
        formula_identifier=formula.identifier,
        formula_version=formula.version,
        columns=plan.columns,
        score=score,
        provisional=provisional,
        provisional_nonzero=provisional_nonzero,
        values=out_values,
        contributions=out_contrib,
        verified=out_verified,
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
