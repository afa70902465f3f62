"""Score one household: the path used on registration and on every data update.

Plain Python over the same derivations as the batch path, so a score costs microseconds and
equals the batch score for the same household.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from sijill.declaration.model import HOUSEHOLD_FIELDS
from sijill.declaration.vocab import Milieu, Relationship
from sijill.scoring.engine.codes import ENUM_FIELDS, code
from sijill.scoring.engine.derivations import (
    DERIVATIONS,
    MEMBER_CONTEXT_FIELDS,
    MEMBER_FEATURES,
    Derivation,
)
from sijill.scoring.engine.formula import Formula, MilieuModel, Variable
from sijill.scoring.engine.inputs import HouseholdInput, MemberInput, Verified

DECLARED = "declared"
VERIFIED = "verified"


@dataclass(frozen=True, slots=True)
class VariableScore:
    """One variable of a score: its value, its weight, what it added, and where it came from."""

    key: str
    value: float
    coefficient: float
    contribution: float
    source: str
    verified_by: tuple[str, ...] = ()
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """An immutable score: value = constant + region term + sum of the contributions.

    `provisional` is true when the milieu model has a variable whose coefficient is assumed
    rather than sourced; `provisional_variables` lists those of them that were nonzero for
    this household (the ones whose unknown coefficient would change this very number).
    """

    formula_identifier: str
    formula_version: str
    milieu: Milieu
    region: str
    value: float
    constant: float
    region_term: float
    variables: tuple[VariableScore, ...]
    provisional: bool
    provisional_variables: tuple[str, ...]

    def variable(self, key: str) -> VariableScore:
        for v in self.variables:
            if v.key == key:
                return v
        raise KeyError(key)

    def is_eligible(self, threshold: float) -> bool:
        """Eligible when the index is at or below the threshold (the published rule)."""
        return self.value <= threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula_identifier": self.formula_identifier,
            "formula_version": self.formula_version,
            "milieu": self.milieu.value,
            "region": self.region,
            "value": self.value,
            "constant": self.constant,
            "region_term": self.region_term,
            "provisional": self.provisional,
            "provisional_variables": list(self.provisional_variables),
            "variables": [
                {
                    "key": v.key,
                    "value": v.value,
                    "coefficient": v.coefficient,
                    "contribution": v.contribution,
                    "source": v.source,
                    "verified_by": list(v.verified_by),
                    "provisional": v.provisional,
                }
                for v in self.variables
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScoreResult:
        return cls(
            formula_identifier=d["formula_identifier"],
            formula_version=d["formula_version"],
            milieu=Milieu(d["milieu"]),
            region=d["region"],
            value=d["value"],
            constant=d["constant"],
            region_term=d["region_term"],
            provisional=d["provisional"],
            provisional_variables=tuple(d["provisional_variables"]),
            variables=tuple(
                VariableScore(
                    key=v["key"],
                    value=v["value"],
                    coefficient=v["coefficient"],
                    contribution=v["contribution"],
                    source=v["source"],
                    verified_by=tuple(v["verified_by"]),
                    provisional=v["provisional"],
                )
                for v in d["variables"]
            ),
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    model: MilieuModel
    terms: tuple[tuple[Variable, Derivation], ...]
    features: tuple[str, ...]
    member_fields: tuple[str, ...]


_PLANS: dict[tuple[int, Milieu], tuple[Formula, _Plan]] = {}


def _plan(formula: Formula, milieu: Milieu) -> _Plan:
    cached = _PLANS.get((id(formula), milieu))
    if cached is not None and cached[0] is formula:
        return cached[1]
    model = formula.model(milieu)
    terms = tuple((v, DERIVATIONS[v.derivation]) for v in model.variables)
    features = sorted(set().union(*(d.features for _, d in terms)))
    member_fields = set().union(*(MEMBER_FEATURES[f].member_fields for f in features))
    member_fields |= set().union(*(d.head_fields for _, d in terms))
    plan = _Plan(model, terms, tuple(features), tuple(sorted(member_fields | {"relationship"})))
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[(id(formula), milieu)] = (formula, plan)
    return plan


def _coded(name: str, value: Any) -> Any:
    if name in ENUM_FIELDS:
        enum_cls = ENUM_FIELDS[name]
        return code(value if isinstance(value, StrEnum) else enum_cls(value))
    return value


def _member_context(member: MemberInput, names: tuple[str, ...]) -> SimpleNamespace:
    values: dict[str, Any] = {}
    for name in names:
        if name in member.verified:
            raw = member.verified[name].value
        elif name == "age":
            raw = member.age
        elif name == "sex":
            raw = member.sex
        else:
            raw = getattr(member.data, name)
        values[name] = _coded(name, raw)
    return SimpleNamespace(**values)


def _sources(d: Derivation, household: HouseholdInput, head: MemberInput) -> tuple[str, ...]:
    found: set[str] = set()
    for name in d.household_fields:
        v: Verified | None = household.verified.get(name)
        if v is not None:
            found.add(v.source)
    for name in d.head_fields:
        v = head.verified.get(name)
        if v is not None:
            found.add(v.source)
    if d.member_fields:
        for m in household.members:
            for name in d.member_fields:
                v = m.verified.get(name)
                if v is not None:
                    found.add(v.source)
    return tuple(sorted(found))


def score_household(formula: Formula, household: HouseholdInput) -> ScoreResult:
    """Score one household with `formula`: declared values, replaced where verified."""
    plan = _plan(formula, household.milieu)
    model = plan.model
    try:
        region_term = model.region_terms[household.region]
    except KeyError:
        raise ValueError(f"unknown region {household.region!r} for {formula.label}") from None
    if not household.members:
        raise ValueError("a household has at least one member")

    contexts = [_member_context(m, plan.member_fields) for m in household.members]
    head_code = code(Relationship.HEAD)
    heads = [i for i, c in enumerate(contexts) if c.relationship == head_code]
    if len(heads) != 1:
        raise ValueError("a household has exactly one head")
    head_member = household.members[heads[0]]
    head_context = _member_context(head_member, MEMBER_CONTEXT_FIELDS)

    h: dict[str, Any] = {}
    for name in HOUSEHOLD_FIELDS:
        v = household.verified.get(name)
        h[name] = _coded(name, v.value if v is not None else getattr(household.household, name))
    h["size"] = len(household.members)
    for name in MEMBER_CONTEXT_FIELDS:
        h["head_" + name] = getattr(head_context, name)
    for f in plan.features:
        fn = MEMBER_FEATURES[f].fn
        h["n_" + f] = sum(1 for c in contexts if fn(c))
    ctx = SimpleNamespace(**h)

    variables = []
    total = 0.0
    nonzero_provisional = []
    for var, d in plan.terms:
        value = float(d.fn(ctx))
        contribution = var.coefficient * value
        total += contribution
        verified_by = _sources(d, household, head_member)
        variables.append(
            VariableScore(
                key=var.key,
                value=value,
                coefficient=var.coefficient,
                contribution=contribution,
                source=VERIFIED if verified_by else DECLARED,
                verified_by=verified_by,
                provisional=var.provisional,
            )
        )
        if var.provisional and value != 0:
            nonzero_provisional.append(var.key)
    return ScoreResult(
        formula_identifier=formula.identifier,
        formula_version=formula.version,
        milieu=household.milieu,
        region=household.region,
        value=model.constant + region_term + total,
        constant=model.constant,
        region_term=region_term,
        variables=tuple(variables),
        provisional=model.is_provisional,
        provisional_variables=tuple(nonzero_provisional),
    )
