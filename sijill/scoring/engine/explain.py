"""Explain a score: what raised and what lowered the index, largest first, in ar/fr/en.

Returns plain data; the Django layer renders it for the citizen (labels, direction) and for the
agent (values, coefficients, sources).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from sijill.scoring.engine.formula import Formula, Labels
from sijill.scoring.engine.single import ScoreResult


class Direction(StrEnum):
    RAISED = "raised"
    LOWERED = "lowered"
    NONE = "none"


PROVISIONAL_NOTICE = Labels(
    ar=(
        "هذا المؤشر محسوب بصيغة مؤقتة: معامل متغير واحد على الأقل غير معروف من المصدر "
        "الرسمي، وقد يتغير المؤشر عند تحديده."
    ),
    fr=(
        "Cet indice est calculé avec une formule provisoire : le coefficient d'au moins une "
        "variable n'est pas connu de la source officielle ; l'indice peut changer quand il le sera."
    ),
    en=(
        "This index uses a provisional formula: the coefficient of at least one variable is not "
        "known from the official source, and the index may change once it is."
    ),
)


@dataclass(frozen=True, slots=True)
class ExplanationItem:
    key: str
    label: Labels
    direction: Direction
    value: float
    coefficient: float
    contribution: float
    source: str
    verified_by: tuple[str, ...]
    provisional: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """A score broken down: baseline (milieu constant + region term) and the items."""

    formula_identifier: str
    formula_version: str
    score: float
    milieu: str
    region: str
    region_name: Labels
    constant: float
    region_term: float
    items: tuple[ExplanationItem, ...]
    provisional: bool
    provisional_variables: tuple[str, ...]
    provisional_notice: Labels | None

    @property
    def raised(self) -> tuple[ExplanationItem, ...]:
        return tuple(i for i in self.items if i.direction is Direction.RAISED)

    @property
    def lowered(self) -> tuple[ExplanationItem, ...]:
        return tuple(i for i in self.items if i.direction is Direction.LOWERED)


def explain(result: ScoreResult, formula: Formula, *, include_zero: bool = False) -> Explanation:
    """The contributions of `result`, sorted by absolute size, largest first.

    `formula` must be the version that computed the result (for labels). Variables that added
    nothing are left out unless `include_zero` (an agent may want them all).
    """
    if (formula.identifier, formula.version) != (result.formula_identifier, result.formula_version):
        raise ValueError(
            f"score computed with {result.formula_identifier}@{result.formula_version}, "
            f"not {formula.label}"
        )
    model = formula.model(result.milieu)
    items = []
    for v in result.variables:
        if v.contribution == 0 and not include_zero:
            continue
        items.append(
            ExplanationItem(
                key=v.key,
                label=model.variable(v.key).label,
                direction=_direction(v.contribution),
                value=v.value,
                coefficient=v.coefficient,
                contribution=v.contribution,
                source=v.source,
                verified_by=v.verified_by,
                provisional=v.provisional,
            )
        )
    items.sort(key=lambda i: (-abs(i.contribution), i.key))
    return Explanation(
        formula_identifier=result.formula_identifier,
        formula_version=result.formula_version,
        score=result.value,
        milieu=result.milieu.value,
        region=result.region,
        region_name=formula.region(result.region).name,
        constant=result.constant,
        region_term=result.region_term,
        items=tuple(items),
        provisional=result.provisional,
        provisional_variables=result.provisional_variables,
        provisional_notice=PROVISIONAL_NOTICE if result.provisional else None,
    )


SQUARED = "_squared"


def fold_squares(exp: Explanation, formula: Formula) -> Explanation:
    """A variable and its square (`x`, `x_squared`: household size, the head's age) as one line
    under the variable's label, contributions summed: apart, "size lowered it by 0.885 and its
    square raised it by 0.133" means nothing to a citizen. A folded line keeps the base's value
    and coefficient (citizens are not shown them); the total is unchanged."""
    model = formula.model(exp.milieu)
    keys = {v.key for v in model.variables}
    by_key = {i.key: i for i in exp.items}
    out: list[ExplanationItem] = []
    for item in exp.items:
        base = item.key.removesuffix(SQUARED)
        if item.key.endswith(SQUARED) and base in keys:
            if base in by_key:
                continue  # folded into its base's line
            item = replace(item, key=base, label=model.variable(base).label)
        elif (square := by_key.get(item.key + SQUARED)) is not None:
            total = item.contribution + square.contribution
            item = replace(item, contribution=total, direction=_direction(total),
                           provisional=item.provisional or square.provisional,
                           verified_by=tuple(dict.fromkeys(item.verified_by
                                                           + square.verified_by)))
        out.append(item)
    out.sort(key=lambda i: (-abs(i.contribution), i.key))
    return replace(exp, items=tuple(out))


def _direction(contribution: float) -> Direction:
    if contribution > 0:
        return Direction.RAISED
    if contribution < 0:
        return Direction.LOWERED
    return Direction.NONE
