"""Operations that work the same on a Python scalar and on a NumPy column.

Derivations are written once and evaluated both on one household (Python scalars, fast for a
single score) and on a chunk of many households (NumPy arrays). Plain arithmetic, comparisons
and `&`/`|` already behave alike; these helpers cover what does not.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=256)
def _lookup_table(values: frozenset[int]) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(values)] = True
    return table


def isin(x: Any, values: frozenset[int]) -> Any:
    """Whether `x` (a code) is one of `values`; elementwise on arrays."""
    if isinstance(x, np.ndarray):
        if x.dtype == np.uint8 and max(values, default=0) < 256:
            return _lookup_table(values)[x]
        return np.isin(x, list(values))
    return x in values


def maximum(x: Any, y: Any) -> Any:
    """The larger of `x` and `y`; elementwise on arrays."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return np.maximum(x, y)
    return max(x, y)
