"""A fingerprint of each derivation's code, so a changed definition cannot pass unnoticed.

A formula version names its variables' derivations (`derivation: household_size`); the code of
those derivations lives in `derivations.py`, not in the version. Editing one would silently
change every number any formula version gives, old scores' recomputations included. The
fingerprint covers what decides a derivation's value: its body (as syntax, so comments,
docstrings and formatting do not count), the member features it counts, and the values of the
module constants they read (`code(...)` numbers, code sets). `tests/test_derivation_digests.py`
pins every fingerprint: a change fails it, and the fix is a new derivation name (old versions
keep their meaning) or, for a change that provably alters no value, a deliberate new pin.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from sijill.scoring.engine.derivations import DERIVATIONS, MEMBER_FEATURES


def _body(fn: Callable[..., Any]) -> str:
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                             ast.Constant):
        body = body[1:]  # the docstring
    return "\n".join(ast.dump(node, annotate_fields=False) for node in body)


def _constants(fn: Callable[..., Any]) -> str:
    """The module-level values the function reads by name (codes, sets of codes, numbers)."""
    names = sorted(set(fn.__code__.co_names))
    values = []
    for name in names:
        value = fn.__globals__.get(name)
        if isinstance(value, bool | int | float | str | tuple | frozenset):
            shown = sorted(value, key=repr) if isinstance(value, frozenset) else value
            values.append(f"{name}={shown!r}")
    return ";".join(values)


def derivation_digest(name: str) -> str:
    d = DERIVATIONS[name]
    parts = [_body(d.fn), _constants(d.fn)]
    for feature in sorted(d.features):
        f = MEMBER_FEATURES[feature].fn
        parts += [f"feature {feature}", _body(f), _constants(f)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def derivation_digests() -> dict[str, str]:
    """The fingerprint of every registered derivation."""
    return {name: derivation_digest(name) for name in sorted(DERIVATIONS)}
