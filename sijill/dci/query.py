"""DCI queries → the registry's households (Group) or members (Member).

Supported (see README.md for the mapping):

- `idtype-value`: {"type": T, "value": V} with T in UIN (the IDCS), HOUSEHOLD_ID (the household
  reference), MOBILE (a member's phone). The household (Group) or the person (Member) found.
- `expression`: {"type": ..., "value": {"expression": {"collection": "Group"|"Member",
  "query": {"$and": [{"poverty_score": {"$lt": 5}}, {"location": {"$eq": "04"}}]}}}}`;
  operators $eq $ne $lt $lte $gt $gte $in; combinators $and $or $not; `{attr: value}` is $eq.
- `predicate`: [{"seq_num": 1, "expression1": {"attribute_name", "operator", "attribute_value"},
  "condition": "and"|"or"|"not", "expression2": {...}}, ...]; the items are and-ed in seq_num
  order; "not" is expression1 and not expression2.

Attributes: poverty_score (the current index; only for a partner whose purpose needs it),
group_size (current members), location (an HCP code: region "04", province "04.421" or commune
"04.421.01.0"), milieu (urban, rural), age (completed years), sex (male, female). For Group
results a member attribute means "some member": `age < 25` is a household with a member
younger than 25 (each member condition on its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from sijill.households.models import Household, Membership
from sijill.programs.selectors import REGISTERED, active_formula_id
from sijill.scoring.models import Score

GROUP_ATTRIBUTES = {"poverty_score", "group_size", "location", "milieu"}
MEMBER_ATTRIBUTES = {"age", "sex"}
ID_TYPES = {"UIN", "HOUSEHOLD_ID", "MOBILE"}
OPERATORS = {"eq", "ne", "lt", "le", "gt", "ge", "in"}
_MONGO = {"$eq": "eq", "$ne": "ne", "$lt": "lt", "$lte": "le", "$gt": "gt", "$gte": "ge",
          "$in": "in"}
SEX = {"male": "M", "female": "F", "m": "M", "f": "F"}


class QueryError(Exception):
    """The query cannot be run: rjct.search_criteria.invalid (or the code given)."""

    def __init__(self, message: str, code: str = "rjct.search_criteria.invalid"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Leaf:
    attribute: str
    operator: str
    value: Any


Node = tuple[str, list[Any]] | Leaf  # ("and"|"or"|"not", children) or a comparison


# ---------------------------------------------------------------------------------------------
# Parsing


def _leaf(attribute: Any, operator: Any, value: Any) -> Leaf:
    if attribute not in GROUP_ATTRIBUTES | MEMBER_ATTRIBUTES:
        raise QueryError(f"unknown attribute {attribute!r}")
    if operator not in OPERATORS:
        raise QueryError(f"unknown operator {operator!r}")
    values = value if operator == "in" else [value]
    if operator == "in" and not isinstance(value, list):
        raise QueryError("the operator in takes a list")
    for v in values:
        if attribute in {"poverty_score", "group_size", "age"}:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise QueryError(f"{attribute} is compared with a number")
        elif not isinstance(v, str):
            raise QueryError(f"{attribute} is compared with a string")
        if attribute == "sex" and str(v).lower() not in SEX:
            raise QueryError("sex is male or female")
    if attribute in {"location", "milieu", "sex"} and operator in {"lt", "le", "gt", "ge"}:
        raise QueryError(f"{attribute} is compared with eq, ne or in")
    return Leaf(attribute, operator, value)


def parse_expression(query: Any) -> Node:
    """A Mongo-like expression ({"$and": [...]}, {attr: {"$lt": v}}, {attr: v})."""
    if not isinstance(query, dict) or not query:
        raise QueryError("an expression is an object")
    parts: list[Node] = []
    for key, value in query.items():
        if key in {"$and", "$or"}:
            if not isinstance(value, list) or not value:
                raise QueryError(f"{key} takes a list of expressions")
            parts.append((key[1:], [parse_expression(v) for v in value]))
        elif key == "$not":
            parts.append(("not", [parse_expression(value)]))
        elif isinstance(value, dict):
            for op, operand in value.items():
                if op not in _MONGO:
                    raise QueryError(f"unknown operator {op!r}")
                parts.append(_leaf(key, _MONGO[op], operand))
        else:
            parts.append(_leaf(key, "eq", value))
    return parts[0] if len(parts) == 1 else ("and", parts)


def _predicate_leaf(e: Any) -> Leaf:
    if not isinstance(e, dict):
        raise QueryError("an expression is an object")
    return _leaf(e.get("attribute_name"), e.get("operator"), e.get("attribute_value"))


def parse_predicate(items: Any) -> Node:
    if not isinstance(items, list) or not items:
        raise QueryError("a predicate query is a list of expressions")
    nodes: list[Node] = []
    for item in sorted(items, key=lambda i: i.get("seq_num", 0) if isinstance(i, dict) else 0):
        if not isinstance(item, dict) or "expression1" not in item:
            raise QueryError("each predicate has an expression1")
        first = _predicate_leaf(item["expression1"])
        condition = item.get("condition")
        second = _predicate_leaf(item["expression2"]) if item.get("expression2") else None
        if condition == "not":
            nodes.append(("and", [first, ("not", [second])]) if second else ("not", [first]))
        elif second is None:
            nodes.append(first)
        elif condition in {"and", "or", None}:
            nodes.append((condition or "and", [first, second]))
        else:
            raise QueryError(f"unknown condition {condition!r}")
    return nodes[0] if len(nodes) == 1 else ("and", nodes)


def attributes(node: Node) -> set[str]:
    if isinstance(node, Leaf):
        return {node.attribute}
    return set().union(*(attributes(c) for c in node[1]))


# ---------------------------------------------------------------------------------------------
# Translation to the ORM


def _years_ago(n: int, today: date) -> date:
    try:
        return today.replace(year=today.year - n)
    except ValueError:  # 29 February
        return today.replace(year=today.year - n, day=28)


def _age_q(op: str, value: Any, prefix: str, today: date) -> Q:
    """age <op> value on `<prefix>birth_date` (completed years)."""
    field = f"{prefix}birth_date"
    if op == "in":
        return _or([_age_q("eq", v, prefix, today) for v in value])
    n = int(value)
    if n != value:  # a fractional age: compare with the whole years around it
        n, op = (int(value) + 1, {"lt": "lt", "le": "lt", "gt": "ge", "ge": "ge"}.get(op, op)) \
            if op in {"lt", "le", "gt", "ge"} else (n, "never")
        if op == "never":
            return Q(pk__in=[])
    born_after = {  # age < n ⇔ born after n years ago, etc.
        "lt": Q(**{f"{field}__gt": _years_ago(n, today)}),
        "le": Q(**{f"{field}__gt": _years_ago(n + 1, today)}),
        "gt": Q(**{f"{field}__lte": _years_ago(n + 1, today)}),
        "ge": Q(**{f"{field}__lte": _years_ago(n, today)}),
    }
    if op in born_after:
        return born_after[op]
    exact = born_after["le"] & born_after["ge"]
    return exact if op == "eq" else ~exact


def _or(qs: list[Q]) -> Q:
    out = Q(pk__in=[])
    for q in qs:
        out |= q
    return out


def _cmp(field: str, op: str, value: Any) -> Q:
    if op == "in":
        return Q(**{f"{field}__in": value})
    if op == "ne":
        return ~Q(**{field: value})
    lookup = {"eq": "exact", "lt": "lt", "le": "lte", "gt": "gt", "ge": "gte"}[op]
    return Q(**{f"{field}__{lookup}": value})


def _location_q(field: str, op: str, value: Any) -> Q:
    values = value if op == "in" else [value]
    q = _or([Q(**{f"{field}__startswith": v}) if len(v) < 11 else Q(**{field: v})
             for v in values])
    return ~q if op == "ne" else q


def _person_leaf(leaf: Leaf, prefix: str, today: date) -> Q:
    if leaf.attribute == "age":
        return _age_q(leaf.operator, leaf.value, prefix, today)
    mapped = ([SEX[v.lower()] for v in leaf.value] if leaf.operator == "in"
              else SEX[leaf.value.lower()])
    return _cmp(f"{prefix}sex", leaf.operator, mapped)


def _group_leaf(leaf: Leaf, prefix: str) -> Q:
    """`prefix` leads to the household ("" or "household__"); the index and the size are
    annotations of the queried model itself."""
    if leaf.attribute == "location":
        return _location_q(f"{prefix}commune__code", leaf.operator, leaf.value)
    field = {"milieu": f"{prefix}milieu", "group_size": "dci_group_size",
             "poverty_score": "dci_poverty_score"}[leaf.attribute]
    return _cmp(field, leaf.operator, leaf.value)


def _to_q(node: Node, *, entity: str, today: date) -> Q:
    if isinstance(node, Leaf):
        if entity == "Member":
            if node.attribute in MEMBER_ATTRIBUTES:
                return _person_leaf(node, "person__", today)
            return _group_leaf(node, "household__")
        if node.attribute in MEMBER_ATTRIBUTES:
            members = Membership.objects.filter(household=OuterRef("pk"), end_date__isnull=True)
            return Q(Exists(members.filter(_person_leaf(node, "person__", today))))
        return _group_leaf(node, "")
    kind, children = node
    qs = [_to_q(c, entity=entity, today=today) for c in children]
    if kind == "not":
        return ~qs[0]
    out = qs[0]
    for q in qs[1:]:
        out = (out & q) if kind == "and" else (out | q)
    return out


def score_subquery(household: str, version: str) -> Subquery:
    """The current index: the household's current declaration, the active formula, the
    highest verification basis."""
    return Subquery(Score.objects.filter(
        declaration__household=OuterRef(household), formula_id=active_formula_id() or 0,
        declaration__version=OuterRef(version)).order_by("-basis").values("value")[:1])


def size_subquery(outer: str) -> Subquery:
    return Subquery(Membership.objects.filter(household=OuterRef(outer), end_date__isnull=True)
                    .order_by().values("household").annotate(n=Count("pk")).values("n")[:1])


def households(node: Node | None) -> QuerySet[Household]:
    """The registered households matching `node` (all of them when None)."""
    qs = Household.objects.filter(status__in=REGISTERED)
    used = attributes(node) if node is not None else set()
    if "poverty_score" in used:
        qs = qs.annotate(dci_poverty_score=score_subquery("pk", "current_version"))
    if "group_size" in used:
        qs = qs.annotate(dci_group_size=size_subquery("pk"))
    if node is not None:
        qs = qs.filter(_to_q(node, entity="Group", today=timezone.localdate()))
    return qs


def members(node: Node | None) -> QuerySet[Membership]:
    """The current members of registered households matching `node`."""
    qs = Membership.objects.filter(end_date__isnull=True, household__status__in=REGISTERED)
    used = attributes(node) if node is not None else set()
    if "poverty_score" in used:
        qs = qs.annotate(dci_poverty_score=score_subquery("household_id",
                                                         "household__current_version"))
    if "group_size" in used:
        qs = qs.annotate(dci_group_size=size_subquery("household_id"))
    if node is not None:
        qs = qs.filter(_to_q(node, entity="Member", today=timezone.localdate()))
    return qs


def by_identifier(id_type: str, value: Any, entity: str) -> QuerySet[Any]:
    """idtype-value: the household (Group) or person's membership (Member) identified."""
    if id_type not in ID_TYPES:
        raise QueryError(f"unknown identifier type {id_type!r}")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise QueryError("the identifier value is a string")
    value = str(value)
    member_q = {"UIN": Q(person__idcs=value), "MOBILE": Q(person__phone=value),
                "HOUSEHOLD_ID": Q(household__reference=value)}[id_type]
    if id_type == "MOBILE" and not value:
        raise QueryError("the identifier value is empty")
    current = Membership.objects.filter(member_q, end_date__isnull=True,
                                        household__status__in=REGISTERED)
    if entity == "Member":
        return current
    return Household.objects.filter(status__in=REGISTERED,
                                    pk__in=current.values("household_id"))
