"""Conditions over many households at once: a CEL subset translated to Polars expressions.

CEL evaluates one household at a time, and turning a household into CEL values costs hundreds of
microseconds. For a re-decision over the registry, the conditions are translated into Polars
expressions over two frames (households, members) and evaluated column-wise:

- `household.f` → a household column; `m.f` inside `members.exists/all/exists_one/filter(m, …)`
  → a member column (household fields are joined onto the members frame);
- `members.exists(m, P)` → any(P) per household, `members.all(m, P)` → all(P),
  `members.exists_one(m, P)` → sum(P) == 1, `size(members.filter(m, P))` and
  `members.filter(m, P).size()` → sum(P), `size(members)` / `members.size()` → household size;
- literals, `== != < <= > >= && || ! + - *`, unary minus, `x in [literals]`, `c ? a : b`,
  `startsWith`, `endsWith`, `contains`.

Anything else (division, nested macros, indexing, other functions) raises `Unsupported`: the
caller then evaluates with CEL household by household. The translation is checked against CEL
on a sample of each chunk (`eligibility._evaluate`); on any difference CEL's answer is used for
the whole chunk. CEL remains the definition of a condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from sijill.programs.conditions import HOUSEHOLD_SCHEMA, MEMBER_SCHEMA


class Unsupported(Exception):
    """The expression uses something the translation does not cover."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<float>\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)
  | (?P<int>\d+)(?P<uint>[uU])?
  | (?P<str>"(?:[^"\\\n]|\\["\\])*"|'(?:[^'\\\n]|\\['\\])*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/%()\[\],.?:])
""", re.VERBOSE)


def _tokens(src: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise Unsupported(f"unexpected character at {pos}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        if m.group("uint"):
            raise Unsupported("unsigned integers")
        text = m.group(0)
        if kind == "float":
            out.append(("lit", float(text)))
        elif m.group("int") is not None:
            out.append(("lit", int(m.group("int"))))
        elif kind == "str":
            out.append(("lit", text[1:-1].replace('\\"', '"').replace("\\'", "'")
                        .replace("\\\\", "\\")))
        elif kind == "name":
            if text in ("true", "false"):
                out.append(("lit", text == "true"))
            elif text == "null":
                raise Unsupported("null")
            elif text == "in":
                out.append(("op", "in"))
            else:
                out.append(("name", text))
        else:
            out.append(("op", text))
    out.append(("end", None))
    return out


# Nodes are tuples: ("lit", v) ("id", name) ("sel", obj, name) ("call", name, target, args)
# ("list", items) ("un", op, x) ("bin", op, a, b) ("cond", c, a, b)


class _Parser:
    def __init__(self, src: str):
        self.t = _tokens(src)
        self.i = 0

    def peek(self) -> tuple[str, Any]:
        return self.t[self.i]

    def take(self, kind: str, value: Any = None) -> Any:
        k, v = self.t[self.i]
        if k != kind or (value is not None and v != value):
            raise Unsupported(f"expected {value or kind}")
        self.i += 1
        return v

    def accept(self, value: str) -> bool:
        if self.t[self.i] == ("op", value):
            self.i += 1
            return True
        return False

    def parse(self) -> tuple:
        node = self.expr()
        self.take("end")
        return node

    def expr(self) -> tuple:
        c = self.binary(0)
        if self.accept("?"):
            a = self.expr()
            self.take("op", ":")
            b = self.expr()
            return ("cond", c, a, b)
        return c

    _LEVELS = (("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "in"), ("+", "-"),
               ("*", "/", "%"))

    def binary(self, level: int) -> tuple:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self._LEVELS[level]:
            op = self.take("op")
            node = ("bin", op, node, self.binary(level + 1))
        return node

    def unary(self) -> tuple:
        if self.accept("!"):
            return ("un", "!", self.unary())
        if self.accept("-"):
            return ("un", "-", self.unary())
        return self.member()

    def args(self) -> list[tuple]:
        out: list[tuple] = []
        if self.accept(")"):
            return out
        while True:
            out.append(self.expr())
            if self.accept(")"):
                return out
            self.take("op", ",")

    def member(self) -> tuple:
        node = self.primary()
        while True:
            if self.accept("."):
                name = self.take("name")
                if self.accept("("):
                    node = ("call", name, node, self.args())
                else:
                    node = ("sel", node, name)
            elif self.accept("["):
                raise Unsupported("indexing")
            else:
                return node

    def primary(self) -> tuple:
        kind, value = self.peek()
        if kind == "lit":
            self.i += 1
            return ("lit", value)
        if kind == "name":
            self.i += 1
            if self.accept("("):
                return ("call", value, None, self.args())
            return ("id", value)
        if self.accept("("):
            node = self.expr()
            self.take("op", ")")
            return node
        if self.accept("["):
            items: list[tuple] = []
            if not self.accept("]"):
                while True:
                    items.append(self.expr())
                    if self.accept("]"):
                        break
                    self.take("op", ",")
            return ("list", items)
        raise Unsupported(f"unexpected {value!r}")


@dataclass
class Plan:
    """A condition as a household-level expression over aggregates of member expressions."""

    household: pl.Expr
    aggregates: list[tuple[str, str, pl.Expr]] = field(default_factory=list)


_MACROS = {"exists": "any", "all": "all", "exists_one": "one", "filter": "count"}
_BIN = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "&&": lambda a, b: a & b, "||": lambda a, b: a | b, "+": lambda a, b: a + b,
    "-": lambda a, b: a - b, "*": lambda a, b: a * b,
}


class _Compiler:
    def __init__(self, prefix: str):
        self.aggregates: list[tuple[str, str, pl.Expr]] = []
        self.prefix = prefix

    def _macro(self, node: tuple, var: str | None) -> tuple[str, pl.Expr]:
        _, name, target, args = node
        if var is not None:
            raise Unsupported("nested macros")
        if target != ("id", "members") or len(args) != 2 or args[0][0] != "id":
            raise Unsupported(f"{name} on something other than members")
        member = self.compile(args[1], args[0][1])
        return _MACROS[name], member

    def _aggregate(self, kind: str, member: pl.Expr) -> pl.Expr:
        alias = f"{self.prefix}{len(self.aggregates)}"
        self.aggregates.append((alias, kind, member))
        return pl.col(alias)

    def compile(self, node: tuple, var: str | None = None) -> pl.Expr:
        kind = node[0]
        if kind == "lit":
            return pl.lit(node[1])
        if kind == "sel":
            obj, name = node[1], node[2]
            if obj == ("id", "household") and name in HOUSEHOLD_SCHEMA:
                return pl.col(name if var is None else f"h_{name}")
            if var is not None and obj == ("id", var) and name in MEMBER_SCHEMA:
                return pl.col(name)
            raise Unsupported(f"field {name}")
        if kind == "call":
            _, name, target, args = node
            if name == "size" and target is None and len(args) == 1:
                return self._size(args[0], var)
            if name == "size" and target is not None and not args:
                return self._size(target, var)
            if name in ("exists", "all", "exists_one"):
                how, member = self._macro(node, var)
                if how == "any":
                    return self._aggregate("any", member)
                if how == "all":
                    return self._aggregate("all", member)
                return self._aggregate("count", member) == 1
            if name in ("startsWith", "endsWith", "contains") and target is not None \
                    and len(args) == 1 and args[0][0] == "lit" and isinstance(args[0][1], str):
                s = self.compile(target, var)
                lit = args[0][1]
                if name == "startsWith":
                    return s.str.starts_with(lit)
                if name == "endsWith":
                    return s.str.ends_with(lit)
                return s.str.contains(lit, literal=True)
            raise Unsupported(f"function {name}")
        if kind == "un":
            x = self.compile(node[2], var)
            return ~x if node[1] == "!" else -x
        if kind == "bin":
            op, a, b = node[1], node[2], node[3]
            if op == "in":
                if b[0] != "list" or any(i[0] != "lit" for i in b[1]):
                    raise Unsupported("in on something other than a literal list")
                values = [i[1] for i in b[1]]
                if not values or len({type(v) for v in values}) != 1:
                    raise Unsupported("mixed list")
                return self.compile(a, var).is_in(values)
            if op not in _BIN:
                raise Unsupported(f"operator {op}")
            if op in ("+", "-", "*") and "lit" in (a[0], b[0]) and any(
                    n[0] == "lit" and isinstance(n[1], str) for n in (a, b)):
                raise Unsupported("string arithmetic")
            return _BIN[op](self.compile(a, var), self.compile(b, var))
        if kind == "cond":
            return (pl.when(self.compile(node[1], var)).then(self.compile(node[2], var))
                    .otherwise(self.compile(node[3], var)))
        raise Unsupported(kind)

    def _size(self, node: tuple, var: str | None) -> pl.Expr:
        if node == ("id", "members") and var is None:
            return pl.col("size")
        if node[0] == "call" and node[1] == "filter":
            _, member = self._macro(node, var)
            return self._aggregate("count", member)
        raise Unsupported("size of something other than members")


def translate(expression: str, prefix: str = "_a") -> Plan:
    """The Polars plan of a condition (raises Unsupported)."""
    compiler = _Compiler(prefix)
    expr = compiler.compile(_Parser(expression).parse())
    return Plan(household=expr, aggregates=compiler.aggregates)


def evaluate(plans: dict[str, Plan], households: pl.DataFrame,
             members: pl.DataFrame) -> pl.DataFrame:
    """Evaluate plans (condition key → plan) over households (household_id, milieu, region,
    province, commune, size) and members (household_id + member fields): one boolean column
    per key, with household_id."""
    hh_cols = [c for c in HOUSEHOLD_SCHEMA if c in households.columns]
    joined = members.join(households.select("household_id",
                                            *[pl.col(c).alias(f"h_{c}") for c in hh_cols]),
                          on="household_id", how="inner")
    aggs: list[pl.Expr] = []
    fills: dict[str, Any] = {}
    for plan in plans.values():
        for alias, kind, member in plan.aggregates:
            if kind == "any":
                aggs.append(member.any().alias(alias))
                fills[alias] = False
            elif kind == "all":
                aggs.append(member.all().alias(alias))
                fills[alias] = True
            else:
                aggs.append(member.cast(pl.Int64).sum().alias(alias))
                fills[alias] = 0
    frame = households
    if aggs:
        agg = joined.group_by("household_id").agg(aggs)
        frame = frame.join(agg, on="household_id", how="left").with_columns(
            [pl.col(a).fill_null(v) for a, v in fills.items()])
    return frame.select("household_id", *[p.household.alias(k) for k, p in plans.items()])
