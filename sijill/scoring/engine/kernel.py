"""The batch path as one fused compiled loop (numba), generated from the derivations' source.

The NumPy path makes one pass over the member rows per member feature and one over the
households per derivation, with a temporary for each. This module instead writes, for a formula's
layout (the union of its variables; per milieu, which of them its model sums, in order), Python
source that numba compiles into one parallel loop over blocks of households (`prange`). Each
block reads its inputs once:

* its member rows in one branch-free loop that the compiler vectorises: each member's features
  become one byte each of int64 words, turned into running sums over the block, so a
  household's counts are the difference of two sums (exact up to 255 members; a larger
  household counts feature by feature);
* then each household's fields and head row: it derives the variables of its milieu model and
  sums their contributions in the model's order (as the single path does), and optionally
  writes the values and contributions rows.

On the way it checks what `HouseholdBatch.validate` checks per household (offsets within the
member rows, one head listed first, a known region, a milieu with a model), so the batch is not
read a second time to validate it, and no member row is read through an unchecked offset.

Nothing is written twice: the kernel's source is produced from the registered definitions in
`derivations` (their `ast`; `h.<field>` and `m.<field>` turned into locals, `isin` into equality
tests, `maximum` into `max`, code constants inlined). The formula's numbers (weights, constants,
region terms, which variables are provisional) are arguments, so formula versions with the same
variables share a kernel. Verified overrides are applied to the columns before the call
(`np.where`, only for the overridden columns the kernel reads); the verified flags matrix is
computed with NumPy.

Compiled kernels are cached on disk (numba's cache, next to the generated source) under
`<project>/var/numba-kernels/`, or in `$SIJILL_KERNEL_CACHE`; `SIJILL_KERNEL_CACHE=off` turns
the disk cache off (each process then compiles, several seconds). Nothing is downloaded. When
numba is missing or a definition cannot be translated or typed, `batch.score_batch` uses NumPy.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib.util
import inspect
import logging
import os
import sys
import tempfile
import textwrap
import threading
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sijill.scoring.engine import ops
from sijill.scoring.engine.codes import ENUM_FIELDS
from sijill.scoring.engine.derivations import MEMBER_FEATURES, Derivation

log = logging.getLogger(__name__)

CACHE_ENV = "SIJILL_KERNEL_CACHE"
_PROJECT_ROOT = Path(__file__).resolve().parents[3]
_SAFE_BUILTINS = {"abs", "min", "max", "float", "int", "bool", "round"}


class Untranslatable(Exception):
    """A definition uses something the kernel generator does not translate."""


def cache_dir() -> Path | None:
    """Where compiled kernels are kept: $SIJILL_KERNEL_CACHE, else var/numba-kernels in the
    project checkout; None (no disk cache) when set to "off" or outside a checkout."""
    setting = os.environ.get(CACHE_ENV)
    if setting:
        return None if setting.lower() in {"off", "0", "false", "no"} else Path(setting)
    if (_PROJECT_ROOT / "manage.py").is_file():
        return _PROJECT_ROOT / "var" / "numba-kernels"
    return None


# --- translating a definition ----------------------------------------------------------------


def _free_values(fn: Callable[..., Any]) -> dict[str, Any]:
    closure = inspect.getclosurevars(fn)
    return {**closure.builtins, **closure.globals, **closure.nonlocals}


class _Rewrite(ast.NodeTransformer):
    """`p.<field>` -> `<prefix><field>`, locals renamed, constants inlined, ops rewritten."""

    def __init__(self, param: str, prefix: str, local_prefix: str, free: Mapping[str, Any]):
        self.param, self.prefix, self.local_prefix, self.free = param, prefix, local_prefix, free
        self.locals: set[str] = set()
        self.read: set[str] = set()

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == self.param:
            self.read.add(node.attr)
            return ast.copy_location(ast.Name(self.prefix + node.attr, ast.Load()), node)
        raise Untranslatable(f"attribute access {ast.unparse(node)!r}")

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if node.keywords or not isinstance(node.func, ast.Name):
            raise Untranslatable(f"call {ast.unparse(node)!r}")
        name = node.func.id
        target = self.free.get(name)
        if target is ops.isin and name not in self.locals:
            if len(node.args) != 2 or not isinstance(node.args[1], ast.Name):
                raise Untranslatable(f"isin needs a named constant set: {ast.unparse(node)!r}")
            values = self.free.get(node.args[1].id)
            if not isinstance(values, frozenset | set | tuple | list) or not all(
                isinstance(v, int) for v in values
            ):
                raise Untranslatable(f"isin over {node.args[1].id!r}: not a set of codes")
            x = self.visit(node.args[0])
            if not values:
                return ast.copy_location(ast.Constant(False), node)
            tests: list[ast.expr] = [
                ast.Compare(x, [ast.Eq()], [ast.Constant(v)]) for v in sorted(values)
            ]
            out = tests[0]
            for t in tests[1:]:
                out = ast.BinOp(out, ast.BitOr(), t)
            return ast.copy_location(out, node)
        if target is ops.maximum and name not in self.locals:
            args = [self.visit(a) for a in node.args]
            return ast.copy_location(ast.Call(ast.Name("max", ast.Load()), args, []), node)
        if name in _SAFE_BUILTINS and target is getattr(builtins, name):
            node.args = [self.visit(a) for a in node.args]
            return node
        raise Untranslatable(f"call of {name!r}")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Store):
            self.locals.add(node.id)
            return ast.copy_location(ast.Name(self.local_prefix + node.id, node.ctx), node)
        if node.id in self.locals:
            return ast.copy_location(ast.Name(self.local_prefix + node.id, node.ctx), node)
        if node.id == self.param:
            raise Untranslatable(f"bare use of {self.param!r}")
        if node.id in self.free:
            value = self.free[node.id]
            if isinstance(value, bool | int | float) and not isinstance(value, np.generic):
                return ast.copy_location(ast.Constant(value), node)
            if isinstance(value, np.integer | np.floating | np.bool_):
                return ast.copy_location(ast.Constant(value.item()), node)
        raise Untranslatable(f"name {node.id!r}")

    def generic_visit(self, node: ast.AST) -> ast.AST:
        allowed = (
            ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop,
            ast.BinOp, ast.UnaryOp, ast.Compare, ast.Constant, ast.IfExp, ast.BoolOp,
            ast.Assign, ast.Return,
        )  # fmt: skip
        if not isinstance(node, allowed):
            raise Untranslatable(f"{type(node).__name__} in a definition")
        return super().generic_visit(node)


def translate(fn: Callable[..., Any], prefix: str, local_prefix: str) -> tuple[list[str], str]:
    """The statements and the final expression of a one-argument definition, as kernel source
    over locals named `<prefix><field>`."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as e:
        raise Untranslatable(f"no source for {fn!r}") from e
    tree = ast.parse(source)
    func = tree.body[0]
    if not isinstance(func, ast.FunctionDef) or len(func.args.args) != 1:
        raise Untranslatable(f"{fn.__name__} is not a one-argument function")
    body = list(func.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        raise Untranslatable(f"{fn.__name__} does not end with `return <expression>`")
    rewrite = _Rewrite(func.args.args[0].arg, prefix, local_prefix, _free_values(fn))
    statements = []
    for stmt in body[:-1]:
        if not (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            raise Untranslatable(f"{fn.__name__}: only `name = expression` before the return")
        value = rewrite.visit(stmt.value)
        target = rewrite.visit(stmt.targets[0])
        statements.append(f"{ast.unparse(target)} = {ast.unparse(value)}")
    expression = ast.unparse(rewrite.visit(body[-1].value))
    return statements, expression


# --- generating a kernel ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Layout:
    """What a kernel computes: the derivation of each column (the union of the milieu models'
    variables); per milieu code, the columns its model sums, in the model's order; which
    outputs it writes; which fields are flags (bool columns stay bool, other quantities become
    float64, as in the NumPy path). The numbers (weights, constants, region terms) and which
    variables are provisional are arguments: formula data."""

    derivations: tuple[Derivation, ...]
    models: tuple[tuple[int, tuple[int, ...]], ...]
    values: bool
    contributions: bool
    bool_fields: frozenset[str]


#: Households per parallel task (each task keeps one scratch row of variable values).
BLOCK = 2048


def _field_load(name: str, array: str, index: str, bool_fields: frozenset[str]) -> str:
    if name in ENUM_FIELDS or name in bool_fields:
        return f"{array}[{index}]"
    return f"np.float64({array}[{index}])"


def kernel_source(layout: Layout) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The kernel's Python source and the household and member columns it takes (in order)."""
    terms = layout.derivations
    features = sorted(set().union(*(d.features for d in terms)))
    h_fields = sorted(set().union(*(d.household_fields for d in terms)))
    head_fields = sorted(set().union(*(d.head_fields for d in terms)))
    m_fields = sorted(set().union(*(MEMBER_FEATURES[f].member_fields for f in features)))
    hh_args = tuple(h_fields)
    mem_args = tuple(sorted(set(head_fields) | set(m_fields) | {"relationship"}))

    derive = ["h_size = np.float64(b - a)"]
    derive += [f"h_{f} = {_field_load(f, 'hh_' + f, 'i', layout.bool_fields)}" for f in h_fields]
    derive += [
        f"h_head_{f} = {_field_load(f, 'mem_' + f, 'ua', layout.bool_fields)}"
        for f in head_fields
    ]
    packing: list[str] = []
    if features:
        translated = [translate(MEMBER_FEATURES[f].fn, "m_", f"mf_{f}_") for f in features]
        loads = [f"m_{f} = mem_{f}[r]" for f in m_fields]
        # Each member's features as one byte each of int64 words (a branch-free loop over the
        # block's member rows that the compiler vectorises), then running sums over the block
        # (wrapping), so a household's counts are the difference of two of them: exact while
        # a household has at most 255 members; larger ones count feature by feature.
        words = [list(range(q, min(q + 8, len(features)))) for q in range(0, len(features), 8)]
        packing = ["m0 = offsets[lo]", "m1 = offsets[hi]"]
        packing += [f"w{q} = np.empty(m1 - m0 + 1, np.int64)" for q in range(len(words))]
        packing += [f"w{q}[0] = 0" for q in range(len(words))]
        packing += ["u0 = np.uint64(m0)", "heads = 0", "for r in range(u0, np.uint64(m1)):"]
        body = list(loads)
        if "relationship" not in m_fields:
            body.append("m_relationship = mem_relationship[r]")
        body.append("heads += np.int64(m_relationship == head)")
        for statements, _ in translated:
            body += statements
        for q, word in enumerate(words):
            lanes = [f"(np.int64({translated[p][1]}) << {8 * (p % 8)})" for p in word]
            body.append(f"w{q}[r - u0 + np.uint64(1)] = " + " | ".join(lanes))
        packing += ["    " + line for line in body]
        packing.append("for r in range(np.uint64(1), np.uint64(m1 - m0 + 1)):")
        packing += [f"    w{q}[r] += w{q}[r - np.uint64(1)]" for q in range(len(words))]
        derive.append("if b - a <= 255:")
        derive += [
            f"    t{q} = w{q}[np.uint64(b) - u0] - w{q}[ua - u0]" for q in range(len(words))
        ]
        derive += [
            f"    c_{features[p]} = (t{q} >> {8 * (p % 8)}) & 255"
            for q, word in enumerate(words)
            for p in word
        ]
        derive.append("else:")
        derive += [f"    c_{f} = 0" for f in features]
        derive.append("    for r in range(ua, np.uint64(b)):")
        slow = list(loads)
        for f, (statements, expression) in zip(features, translated, strict=True):
            slow += statements
            slow += [f"if {expression}:", f"    c_{f} += 1"]
        derive += ["        " + line for line in slow]
        derive += [f"h_n_{f} = np.float64(c_{f})" for f in features]
    else:
        packing = [
            "heads = 0",
            "for r in range(np.uint64(offsets[lo]), np.uint64(offsets[hi])):",
            "    heads += np.int64(mem_relationship[r] == head)",
        ]
    packing.append("problems[task, 2] = heads")
    # Per milieu, only its model's variables, summed in the model's order (as the single path
    # does); a column outside the model keeps a stale value that `in_model` masks.
    derivation_source = {j: translate(d.fn, "h_", f"d{j}_") for j, d in enumerate(terms)}
    derive += ["s = 0.0", "if False:", "    pass"]
    for mc, columns_of_model in layout.models:
        derive += [f"elif mc == {mc}:", "    pass"]
        for j in columns_of_model:
            statements, expression = derivation_source[j]
            derive += ["    " + line for line in statements]
            derive.append(f"    x[{j}] = np.float64({expression})")
            derive.append(f"    s += weights[{mc}, {j}] * x[{j}]")
    derive += [
        "else:  # a milieu without a model",
        "    problems[task, 1] += 1",
        "    score[i] = np.nan",
        "    continue",
    ]

    columns = ", ".join([*("hh_" + f for f in hh_args), *("mem_" + f for f in mem_args)])
    per_household = [
        "a = offsets[i]",
        "b = offsets[i + np.uint64(1)]",
        "ua = np.uint64(a)",
        "mc = milieu[i]",
        "rg = region[i]",
        "if mem_relationship[ua] != head or rg < 0 or rg >= n_regions:",
        "    problems[task, 0] += 1",
        "    rg = 0",
        *derive,
        "pnz = False",
        "for t in range(n_provisional[mc]):",
        "    if x[provisional[mc, t]] != 0.0:",
        "        pnz = True",
        "score[i] = constants[mc] + region_terms[mc, rg] + s",
        "provisional_out[i] = model_provisional[mc]",
        "provisional_nonzero[i] = pnz",
    ]
    if layout.values:
        per_household += [
            "for j in range(k):",
            "    values[i, j] = x[j] if in_model[mc, j] else np.nan",
        ]
    if layout.contributions:
        per_household += [
            "for j in range(k):",
            "    contributions[i, j] = weights[mc, j] * x[j] if in_model[mc, j] else 0.0",
        ]
    params = (
        "offsets, milieu, region, weights, in_model, constants, region_terms, provisional, "
        "n_provisional, model_provisional, score, provisional_out, provisional_nonzero, "
        f"values, contributions, {columns}"
    )
    # Each block first checks what `HouseholdBatch.validate` checks per household (offsets
    # within the member rows, one head listed first, a known region, a milieu with a model)
    # and counts in `problems` (per block: bad households, households without a model, heads);
    # it reads no member row through offsets it has not checked.
    # Indices are unsigned where they can be: a signed index costs a negative-index test per
    # load, which also keeps the member loop from being vectorised (3x slower).
    # The parallel loop only hands out blocks: a call per household would pass (and count
    # references to) every column per household, which costs more than the work itself.
    source = "\n".join(
        [
            '"""Generated by sijill.scoring.engine.kernel: do not edit."""',
            "import numpy as np",
            "from numba import njit, prange",
            "",
            "",
            "@njit(nogil=True, cache=CACHE)",
            f"def block(task, lo, hi, problems, head, n_regions, {params}):",
            "    n_members = mem_relationship.shape[0]",
            "    for i in range(np.uint64(lo), np.uint64(hi)):",
            "        a = offsets[i]",
            "        b = offsets[i + np.uint64(1)]",
            "        if a < 0 or b <= a or b > n_members:",
            "            problems[task, 0] += 1",
            "    if problems[task, 0] > 0:",
            "        return",
            "    k = weights.shape[1]",
            f"    x = np.empty({len(terms)})",
            *("    " + line for line in packing),
            "    for i in range(np.uint64(lo), np.uint64(hi)):",
            *("        " + s for s in per_household),
            "",
            "",
            "@njit(parallel=True, nogil=True, cache=CACHE)",
            f"def kernel(problems, head, n_regions, {params}):",
            "    n = milieu.shape[0]",
            f"    for task in prange((n + {BLOCK - 1}) // {BLOCK}):",
            f"        lo = task * {BLOCK}",
            f"        block(task, lo, min(n, lo + {BLOCK}), problems, head, n_regions, {params})",
            "",
        ]
    )
    return source, hh_args, mem_args


# --- compiling and calling -------------------------------------------------------------------


@dataclass(slots=True)
class Kernel:
    """A generated kernel: call it with `run`; `source` is what was compiled."""

    source: str
    household_fields: tuple[str, ...]
    member_fields: tuple[str, ...]
    dispatcher: Any
    cached_on_disk: bool

    def run(
        self,
        *,
        offsets: np.ndarray,
        milieu: np.ndarray,
        region: np.ndarray,
        weights: np.ndarray,
        in_model: np.ndarray,
        constants: np.ndarray,
        region_terms: np.ndarray,
        provisional: np.ndarray,
        n_provisional: np.ndarray,
        model_provisional: np.ndarray,
        household: Mapping[str, np.ndarray],
        members: Mapping[str, np.ndarray],
        score: np.ndarray,
        provisional_out: np.ndarray,
        provisional_nonzero: np.ndarray,
        values: np.ndarray,
        contributions: np.ndarray,
        head: int,
        n_regions: int,
    ) -> tuple[int, int, int]:
        """Fill the outputs; return the number of households breaking the batch's rules,
        of households whose milieu has no model, and of heads (the outputs of a batch with
        problems are not to be used)."""

        def c(x: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(x)

        problems = np.zeros(((len(milieu) + BLOCK - 1) // BLOCK, 3), dtype=np.int64)
        with _CALL_LOCK:  # numba's default threading layer must not be entered concurrently
            self.dispatcher(
                problems, head, n_regions,
                c(offsets), c(milieu), c(region), c(weights), c(in_model), c(constants),
                c(region_terms), c(provisional), c(n_provisional), c(model_provisional),
                score, provisional_out, provisional_nonzero, values, contributions,
                *(c(household[f]) for f in self.household_fields),
                *(c(members[f]) for f in self.member_fields),
            )  # fmt: skip
        bad, no_model, heads = (int(v) for v in problems.sum(axis=0))
        return bad, no_model, heads


_CALL_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()
_KERNELS: dict[tuple[Any, ...], Kernel] = {}


def _layout_key(layout: Layout) -> tuple[Any, ...]:
    derivations = tuple((d.key, d.fn) for d in layout.derivations)
    return (derivations, layout.models, layout.values, layout.contributions, layout.bool_fields)


def compile_kernel(layout: Layout, *, cache: bool = True) -> Kernel:
    """The kernel for `layout`, generated once per process (compiled by numba on its first
    call, or loaded from the disk cache). Raises Untranslatable or ImportError."""
    directory = cache_dir() if cache else None
    key = (*_layout_key(layout), directory)
    with _BUILD_LOCK:
        found = _KERNELS.get(key)
        if found is not None:
            return found
        import numba  # noqa: F401  (ImportError: the caller falls back to NumPy)

        source, hh_fields, mem_fields = kernel_source(layout)
        module, on_disk = _load(source, directory)
        kernel = Kernel(source, hh_fields, mem_fields, module.kernel, on_disk)
        _KERNELS[key] = kernel
        return kernel


def _load(source: str, directory: Path | None) -> tuple[types.ModuleType, bool]:
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"sijill_kernel_{digest}"
    if directory is not None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{name}.py"
            text = source.replace("cache=CACHE", "cache=True")
            if not path.is_file() or path.read_text() != text:
                fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
                with os.fdopen(fd, "w") as f:
                    f.write(text)
                os.replace(tmp, path)
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module, True
        except OSError as e:
            log.warning("kernel disk cache unusable (%s): compiling in memory", e)
    module = types.ModuleType(name)
    module.CACHE = False  # type: ignore[attr-defined]
    # The source is generated above from the registered definitions, never from input data.
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102
    return module, False
