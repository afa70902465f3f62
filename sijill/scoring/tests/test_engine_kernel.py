"""The fused compiled kernel of the batch path: generated from the same definitions, it scores
as the NumPy path does, falls back to NumPy when it cannot compile, and keeps its compiled code
where it is told."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sijill.declaration.model import HouseholdData, MemberData
from sijill.declaration.vocab import Milieu, Relationship
from sijill.scoring.engine import (
    ColumnOverride,
    HouseholdBatch,
    default_formula,
    kernel,
    score_batch,
)
from sijill.scoring.engine import batch as batch_module
from sijill.scoring.engine.codes import ENUM_FIELDS, code, codes
from sijill.scoring.engine.derivations import MEMBER_CONTEXT_FIELDS
from sijill.scoring.engine.ops import isin, maximum

REPO = Path(__file__).resolve().parents[3]
FORMULA = default_formula()


def _column(rng: np.random.Generator, kind: Any, name: str, n: int) -> np.ndarray:
    if name in ENUM_FIELDS:
        return rng.integers(0, len(ENUM_FIELDS[name]), n, dtype=np.uint8)
    if kind is bool:
        return rng.random(n) < 0.4
    if name == "age":
        return rng.integers(0, 100, n, dtype=np.uint8)
    if name.startswith("monthly_"):
        return rng.integers(0, 3000, n, dtype=np.int32)
    return rng.integers(0, 7, n, dtype=np.int64)


def random_batch(sizes: list[int], seed: int = 3) -> HouseholdBatch:
    """Households of the given sizes, milieux and regions mixed, head first, with verified
    household and member values here and there."""
    rng = np.random.default_rng(seed)
    n = len(sizes)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    m = int(offsets[-1])
    household_types = typing.get_type_hints(HouseholdData)
    member_types = {**typing.get_type_hints(MemberData), "age": int, "sex": StrEnum}
    household = {f: _column(rng, t, f, n) for f, t in household_types.items()}
    members = {f: _column(rng, member_types[f], f, m) for f in MEMBER_CONTEXT_FIELDS}
    relationship = members["relationship"]
    relationship[relationship == code(Relationship.HEAD)] = code(Relationship.CHILD)
    relationship[offsets[:-1]] = code(Relationship.HEAD)
    return HouseholdBatch(
        household=household,
        members=members,
        offsets=offsets,
        milieu=rng.integers(0, len(Milieu), n, dtype=np.uint8),
        region=rng.integers(0, len(FORMULA.region_codes), n).astype(np.int64),
        region_codes=FORMULA.region_codes,
        household_overrides={
            "cars": ColumnOverride(rng.integers(0, 3, n), rng.random(n) < 0.3, "vehicles"),
            "dwelling_type": ColumnOverride(
                _column(rng, None, "dwelling_type", n), rng.random(n) < 0.2, "land_registry"
            ),
        },
        member_overrides={
            "health_coverage": ColumnOverride(
                _column(rng, None, "health_coverage", m), rng.random(m) < 0.2, "cnss"
            ),
            "occupation": ColumnOverride(
                _column(rng, None, "occupation", m), rng.random(m) < 0.1, "cnss"
            ),
        },
    )


def assert_same(a: Any, b: Any) -> None:
    assert np.allclose(a.score, b.score, rtol=0, atol=1e-9)
    assert np.array_equal(a.provisional, b.provisional)
    assert np.array_equal(a.provisional_nonzero, b.provisional_nonzero)
    assert np.array_equal(np.isnan(a.values), np.isnan(b.values))
    assert np.allclose(np.nan_to_num(a.values), np.nan_to_num(b.values), rtol=0, atol=1e-9)
    assert np.allclose(a.contributions, b.contributions, rtol=0, atol=1e-9)
    assert np.array_equal(a.verified, b.verified)


def score_both(batch: HouseholdBatch) -> tuple[Any, Any]:
    outputs = {"values": True, "contributions": True, "sources": True}
    return (
        score_batch(FORMULA, batch, engine="numpy", **outputs),
        score_batch(FORMULA, batch, engine="kernel", **outputs),
    )


def test_the_kernel_scores_a_mixed_batch_with_verified_values_as_numpy_does() -> None:
    sizes = np.random.default_rng(5).integers(1, 12, 5_000).tolist()
    numpy_result, kernel_result = score_both(random_batch(sizes))
    assert_same(numpy_result, kernel_result)
    assert kernel_result.provisional_nonzero.any()


def test_the_kernel_counts_members_of_households_larger_than_a_byte_can_hold() -> None:
    sizes = [3, 255, 256, 300, 1, 700, 2]
    batch = random_batch(sizes)
    batch.milieu[:] = code(Milieu.RURAL)  # its model counts members aged 60+
    batch.members["age"][:] = 70
    numpy_result, kernel_result = score_both(batch)
    assert_same(numpy_result, kernel_result)
    j = kernel_result.columns.index("members_aged_60_plus")
    assert kernel_result.values[:, j].tolist() == sizes


def test_the_kernel_scores_only_the_score_when_no_matrix_is_asked() -> None:
    batch = random_batch([2, 4, 6, 1] * 50)
    numpy_result = score_batch(FORMULA, batch, engine="numpy")
    kernel_result = score_batch(FORMULA, batch, engine="kernel")
    assert kernel_result.values is None and kernel_result.contributions is None
    assert np.allclose(numpy_result.score, kernel_result.score, rtol=0, atol=1e-9)


def test_auto_uses_numpy_when_the_kernel_cannot_be_built(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = random_batch([2, 3, 4])

    def cannot(*args: Any, **kwargs: Any) -> Any:
        raise kernel.Untranslatable("for this test")

    monkeypatch.setattr(kernel, "compile_kernel", cannot)
    monkeypatch.setattr(batch_module, "KERNEL_MIN_HOUSEHOLDS", 0)
    expected = score_batch(FORMULA, batch, engine="numpy").score
    assert np.array_equal(score_batch(FORMULA, batch).score, expected)
    with pytest.raises(kernel.Untranslatable):
        score_batch(FORMULA, batch, engine="kernel")


def test_auto_uses_numpy_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = random_batch([5, 1])

    def no_numba(*args: Any, **kwargs: Any) -> Any:
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(kernel, "compile_kernel", no_numba)
    monkeypatch.setattr(batch_module, "KERNEL_MIN_HOUSEHOLDS", 0)
    expected = score_batch(FORMULA, batch, engine="numpy").score
    assert np.array_equal(score_batch(FORMULA, batch).score, expected)


_TWO = code(Relationship.SPOUSE)
_SOME = codes(Relationship.CHILD, Relationship.PARENT)


def _a_definition(h: Any) -> Any:
    """Uses a local, a code, a set of codes and `maximum`."""
    per_room = h.size / maximum(h.rooms, 1)
    return (per_room <= 2) | isin(h.head_relationship, _SOME) | (h.head_relationship == _TWO)


def _an_untranslatable_definition(h: Any) -> Any:
    return np.where(h.size > 2, 1, 0)


def test_a_definition_is_translated_to_locals_codes_and_equality_tests() -> None:
    statements, expression = kernel.translate(_a_definition, "h_", "d0_")
    child, parent = sorted(_SOME)
    assert statements == ["d0_per_room = h_size / max(h_rooms, 1)"]
    assert expression == (
        f"(d0_per_room <= 2) | ((h_head_relationship == {child}) "
        f"| (h_head_relationship == {parent})) | (h_head_relationship == {_TWO})"
    )


def test_a_definition_outside_the_translatable_subset_is_refused() -> None:
    with pytest.raises(kernel.Untranslatable):
        kernel.translate(_an_untranslatable_definition, "h_", "d0_")


def test_the_disk_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kernel.CACHE_ENV, "off")
    assert kernel.cache_dir() is None
    monkeypatch.delenv(kernel.CACHE_ENV)
    assert kernel.cache_dir() == REPO / "var" / "numba-kernels"


_SCORE_ONCE = """
import numpy as np
from sijill.scoring.engine import HouseholdBatch, default_formula, kernel, score_batch
from sijill.scoring.tests.test_engine_kernel import random_batch
score_batch(default_formula(), random_batch([2, 3]), engine="kernel")
(k,) = kernel._KERNELS.values()
print(k.cached_on_disk, k.dispatcher.stats.cache_hits.most_common(1))
"""


def test_compiled_kernels_are_kept_in_the_cache_directory_and_reused(tmp_path: Path) -> None:
    env = {**os.environ, kernel.CACHE_ENV: str(tmp_path / "kernels")}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", _SCORE_ONCE],
            capture_output=True, text=True, check=False, cwd=REPO, env=env, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    first = run()
    assert first.startswith("True []"), first  # compiled, nothing to load yet
    assert list((tmp_path / "kernels" / "__pycache__").glob("*.nbi"))
    second = run()
    assert second.startswith("True [("), second  # loaded from disk


@pytest.mark.parametrize("engine", ["numpy", "kernel"])
def test_both_engines_refuse_a_household_whose_head_is_not_listed_first(engine: str) -> None:
    batch = random_batch([2, 3])
    relationship = batch.members["relationship"]
    relationship[[2, 3]] = relationship[[3, 2]]
    with pytest.raises(ValueError, match="exactly one head, listed first"):
        score_batch(FORMULA, batch, engine=engine)


@pytest.mark.parametrize("engine", ["numpy", "kernel"])
def test_both_engines_refuse_a_region_index_outside_the_batch_regions(engine: str) -> None:
    batch = random_batch([2, 3])
    batch.region[1] = len(batch.region_codes)
    with pytest.raises(ValueError, match="region indices"):
        score_batch(FORMULA, batch, engine=engine)


@pytest.mark.parametrize("engine", ["numpy", "kernel"])
def test_both_engines_refuse_a_household_whose_milieu_the_formula_has_no_model_for(
    engine: str,
) -> None:
    urban_only = replace(FORMULA, milieux={Milieu.URBAN: FORMULA.model(Milieu.URBAN)})
    batch = random_batch([2, 3, 1])
    batch.milieu[:] = code(Milieu.URBAN)
    batch.milieu[1] = code(Milieu.RURAL)
    with pytest.raises(ValueError, match="no model for some milieu"):
        score_batch(urban_only, batch, engine=engine)


def test_the_kernel_refuses_offsets_past_the_member_rows_without_reading_them() -> None:
    batch = random_batch([2, 3])
    batch.offsets[1] = 7  # beyond the 5 member rows, and household 1 would have none
    with pytest.raises(ValueError, match="every household needs a member"):
        score_batch(FORMULA, batch, engine="kernel")
