"""Program conditions: CEL expressions over the household-and-members schema (see SCHEMA.md).

A condition is checked when the program is saved (syntax, names, enumeration values, a boolean
result on sample households) and refused with its line and column; it is compiled once and
evaluated per household against a plain context built from the current declaration:

    household: {milieu, region, province, commune, size}
    members:   [{age, sex, relationship, marital_status, education_level, schooling,
                 disability, health_coverage, activity}, ...]

Evaluation never raises: an expression that fails on one household's data is false for it (and
the failure is recorded in the decision's inputs as `null`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel
from django.utils.translation import gettext_lazy as _

from sijill.core.errors import FieldError, ValidationFailed
from sijill.declaration import vocab

#: Household fields: name → allowed string values (None: not an enumeration).
HOUSEHOLD_SCHEMA: dict[str, tuple[str, frozenset[str] | None]] = {
    "milieu": ("string", frozenset(vocab.Milieu)),
    "region": ("string", None),
    "province": ("string", None),
    "commune": ("string", None),
    "size": ("int", None),
}
MEMBER_SCHEMA: dict[str, tuple[str, frozenset[str] | None]] = {
    "age": ("int", None),
    "sex": ("string", frozenset(vocab.Sex)),
    "relationship": ("string", frozenset(vocab.Relationship)),
    "marital_status": ("string", frozenset(vocab.MaritalStatus)),
    "education_level": ("string", frozenset(vocab.EducationLevel)),
    "schooling": ("string", frozenset(vocab.Schooling)),
    "disability": ("string", frozenset(vocab.Disability)),
    "health_coverage": ("string", frozenset(vocab.HealthCoverage)),
    "activity": ("string", frozenset(vocab.Activity)),
}
MEMBER_FIELDS: tuple[str, ...] = tuple(MEMBER_SCHEMA)
ROOTS = frozenset({"household", "members"})
#: Names CEL itself defines (functions, macros, literals) that may appear in an expression.
_BUILTINS = frozenset({
    "true", "false", "null", "in", "size", "int", "uint", "double", "string", "bool", "bytes",
    "type", "has", "exists", "exists_one", "all", "map", "filter", "contains", "startsWith",
    "endsWith", "matches", "max", "min", "dyn",
})
_MACROS = ("exists", "exists_one", "all", "map", "filter")
_FIELDS = {**HOUSEHOLD_SCHEMA, **MEMBER_SCHEMA}
MAX_LENGTH = 2000


@dataclass(frozen=True)
class Condition:
    key: str
    expression: str


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    code: str
    message: str


# ---------------------------------------------------------------------------------------------
# Sample households: every expression is run on them when saved (type errors, non-boolean)


def _member(**kw: Any) -> dict[str, Any]:
    base = {"age": 35, "sex": "M", "relationship": "head", "marital_status": "married",
            "education_level": "primary", "schooling": "not_schooled", "disability": "none",
            "health_coverage": "none", "activity": "employed"}
    base.update(kw)
    return base


SAMPLES: tuple[dict[str, Any], ...] = (
    {"household": {"milieu": "urban", "region": "04", "province": "04.421",
                   "commune": "04.421.01.0", "size": 4},
     "members": [_member(), _member(age=33, sex="F", relationship="spouse",
                                    marital_status="widowed", disability="physical"),
                 _member(age=9, relationship="child", marital_status="single",
                         schooling="public", activity="student"),
                 _member(age=2, sex="F", relationship="child", marital_status="single",
                         activity="other_inactive")]},
    {"household": {"milieu": "rural", "region": "06", "province": "06.141",
                   "commune": "06.141.01.0", "size": 1},
     "members": [_member(age=70, sex="F", marital_status="widowed", activity="retired",
                         health_coverage="amo_tadamon")]},
)


# ---------------------------------------------------------------------------------------------
# Checks


_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")
_STRING = re.compile(r"""(?:[rR]?)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
_TOKEN = re.compile(r"(\.)?\s*(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)(\s*\()?")
_COMPARE = re.compile(
    r"""\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:==|!=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_BINDER = re.compile(r"\.\s*(?:" + "|".join(_MACROS) + r")\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _blank_strings(text: str) -> str:
    """The text with string literals blanked (same length), so names inside them are ignored."""
    return _STRING.sub(lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', text)


def check(expression: str) -> list[Problem]:
    """What is wrong with an expression, each problem with its line and column (1-based)."""
    if not expression.strip():
        return [Problem(1, 1, "empty", str(_("The condition is empty.")))]
    if len(expression) > MAX_LENGTH:
        return [Problem(1, MAX_LENGTH, "too_long",
                        str(_("The condition is too long (at most %(max)s characters).")
                            % {"max": MAX_LENGTH}))]
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        found = _POSITION.search(str(exc))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        detail = found.group(3).split("\n")[0] if found else str(exc)
        detail = detail.removeprefix("Syntax error: ")
        return [Problem(line, column, "syntax_error",
                        str(_("Syntax error at line %(line)s, column %(column)s: %(detail)s")
                            % {"line": line, "column": column, "detail": detail}))]
    problems: list[Problem] = []
    text = _blank_strings(expression)
    binders = set(_BINDER.findall(text))
    for m in _TOKEN.finditer(text):
        dotted, name, call = m.group(1), m.group(2), m.group(3)
        offset = m.start(2)
        line, column = _line_col(expression, offset)
        if call or name in _BUILTINS:
            continue
        if dotted:
            if name not in _FIELDS:
                problems.append(Problem(line, column, "unknown_field", str(
                    _("Line %(line)s, column %(column)s: “%(name)s” is not a field of the "
                      "household or of a member (see the schema).")
                    % {"line": line, "column": column, "name": name})))
        elif name not in ROOTS and name not in binders:
            problems.append(Problem(line, column, "unknown_name", str(
                _("Line %(line)s, column %(column)s: “%(name)s” is not known: use household, "
                  "members, or a name bound by exists/all/filter.")
                % {"line": line, "column": column, "name": name})))
    for m in _COMPARE.finditer(expression):
        field, literal = m.group(1), m.group(2)[1:-1]
        allowed = _FIELDS.get(field, ("", None))[1]
        if allowed is not None and literal not in allowed:
            line, column = _line_col(expression, m.start(2))
            problems.append(Problem(line, column, "unknown_value", str(
                _("Line %(line)s, column %(column)s: “%(value)s” is not a value of %(field)s "
                  "(allowed: %(allowed)s).")
                % {"line": line, "column": column, "value": literal, "field": field,
                   "allowed": ", ".join(sorted(allowed))})))
    if problems:
        return problems
    for sample in SAMPLES:
        try:
            result = program.execute(sample)
        except Exception as exc:  # any evaluation failure is the author's to fix
            return [Problem(1, 1, "evaluation_error", str(
                _("The condition fails on a sample household: %(detail)s")
                % {"detail": str(exc).split(". ")[0]}))]
        if not isinstance(result, bool):
            return [Problem(1, 1, "not_boolean",
                            str(_("The condition must be true or false; its value here is "
                                  "of type %(type)s.")
                                % {"type": type(result).__name__}))]
    return []


_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def validate(conditions: Sequence[Mapping[str, Any]], *, field: str = "conditions",
             ) -> list[Condition]:
    """Parse and check a program's conditions; refuse them all at once with positions."""
    errors: list[FieldError] = []
    positions: list[dict[str, Any]] = []
    out: list[Condition] = []
    seen: set[str] = set()
    for i, item in enumerate(conditions):
        key = str(item.get("key", ""))
        expression = str(item.get("expression", ""))
        if not _KEY.match(key):
            errors.append(FieldError(f"{field}.{i}.key", "invalid_key", _(
                "A condition key is lower-case letters, digits and underscores.")))
        elif key in seen:
            errors.append(FieldError(f"{field}.{i}.key", "duplicate_key",
                                     _("Two conditions have this key.")))
        seen.add(key)
        for p in check(expression):
            errors.append(FieldError(f"{field}.{i}.expression", p.code, p.message))
            positions.append({"field": f"{field}.{i}.expression", "line": p.line,
                              "column": p.column})
        out.append(Condition(key=key, expression=expression))
    if errors:
        raise ValidationFailed(fields=errors, extra={"positions": positions} if positions else None)
    return out


# ---------------------------------------------------------------------------------------------
# Evaluation


@lru_cache(maxsize=256)
def compiled(expression: str) -> cel.Program:
    return cel.compile(expression)


def evaluate(conditions: Sequence[Condition], context: Mapping[str, Any],
             ) -> dict[str, bool | None]:
    """Each condition's result on one household (None: the expression failed on its data)."""
    ctx = cel.Context(dict(context))
    out: dict[str, bool | None] = {}
    for c in conditions:
        try:
            value = compiled(c.expression).execute(ctx)
        except Exception:  # a failing expression is false for this household
            value = None
        out[c.key] = value if isinstance(value, bool) else None
    return out


def all_met(results: Mapping[str, bool | None]) -> bool:
    return all(v is True for v in results.values())
