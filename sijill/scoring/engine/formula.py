"""A scoring formula as versioned data, with YAML import and export.

The formula is never code: coefficients, region terms, labels, provenance and the documented
assumptions live in a YAML file (see sijill/scoring/formulas/). Each variable names the
derivation (a function in `derivations`) that computes its value from a declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from sijill.declaration.vocab import Milieu

FORMULAS_DIR = Path(__file__).resolve().parent.parent / "formulas"
DEFAULT_FORMULA_FILE = FORMULAS_DIR / "ma-rsu-2021.yaml"


class FormulaStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class Labels:
    """One text in the three languages of the product."""

    ar: str
    fr: str
    en: str

    def get(self, language: str) -> str:
        """The text in `language` ("ar", "fr" or "en"), English when unknown."""
        return getattr(self, language, None) or self.en


@dataclass(frozen=True, slots=True)
class Variable:
    """One weighted term of a milieu model: its value comes from the named derivation."""

    key: str
    label: Labels
    derivation: str
    coefficient: float
    kind: str = "binary"
    provisional: bool = False
    assumption: str | None = None
    notes: str | None = None
    source_position: int | None = None
    label_ar_source: str | None = None
    standard_error: float | None = None


@dataclass(frozen=True, slots=True)
class MilieuModel:
    """The urban or the rural model: a constant, a term per region and weighted variables."""

    constant: float
    region_terms: dict[str, float]
    variables: tuple[Variable, ...]

    @property
    def is_provisional(self) -> bool:
        return any(v.provisional for v in self.variables)

    @property
    def provisional_variables(self) -> tuple[str, ...]:
        return tuple(v.key for v in self.variables if v.provisional)

    def variable(self, key: str) -> Variable:
        for v in self.variables:
            if v.key == key:
                return v
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: Labels


@dataclass(frozen=True, slots=True)
class Threshold:
    """A published eligibility threshold on the formula's scale (eligible when score <= value)."""

    program: str
    name: str
    value: float
    provenance: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """A documented decision on how an ambiguous value definition is computed."""

    key: str
    text: str


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str
    files: tuple[str, ...] = ()
    verified_against_official_text: bool = False
    notes: str | None = None
    based_on: str | None = None
    calibrated_from: str | None = None
    calibrated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Formula:
    """One version of a proxy-means-test formula."""

    identifier: str
    name: str
    version: str
    status: FormulaStatus
    provenance: Provenance
    regions: tuple[Region, ...]
    milieux: dict[Milieu, MilieuModel]
    effective_date: date | None = None
    scale: str | None = None
    thresholds: tuple[Threshold, ...] = ()
    choices: tuple[Choice, ...] = field(default=())

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def is_provisional(self) -> bool:
        """True when any variable has a provisional (assumed, not sourced) coefficient."""
        return any(m.is_provisional for m in self.milieux.values())

    @property
    def region_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.regions)

    @property
    def label(self) -> str:
        return f"{self.identifier}@{self.version}"

    def model(self, milieu: Milieu | str) -> MilieuModel:
        return self.milieux[Milieu(milieu)]

    def region(self, code: str) -> Region:
        for r in self.regions:
            if r.code == code:
                return r
        raise KeyError(code)

    def with_status(self, status: FormulaStatus) -> Formula:
        return replace(self, status=status)

    def to_dict(self) -> dict[str, Any]:
        return _formula_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Formula:
        return _formula_from_dict(data)

    def to_yaml(self) -> str:
        return yaml.dump(
            self.to_dict(),
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            width=100,
            indent=2,
        )

    @classmethod
    def from_yaml(cls, text: str) -> Formula:
        return cls.from_dict(yaml.safe_load(text))


class _Dumper(yaml.SafeDumper):
    """Quotes digit-only strings (region codes such as 08), which YAML 1.2 reads as numbers."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if value.isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def load_formula(path: str | Path) -> Formula:
    """Read a formula from a YAML file."""
    return Formula.from_yaml(Path(path).read_text(encoding="utf-8"))


def dump_formula(formula: Formula, path: str | Path) -> None:
    """Write a formula to a YAML file."""
    Path(path).write_text(formula.to_yaml(), encoding="utf-8")


@lru_cache(maxsize=1)
def default_formula() -> Formula:
    """The shipped Moroccan formula (ma-rsu-2021), loaded once."""
    return load_formula(DEFAULT_FORMULA_FILE)


def _validate(f: Formula) -> None:
    from sijill.scoring.engine.derivations import DERIVATIONS

    codes = f.region_codes
    if len(set(codes)) != len(codes):
        raise ValueError(f"{f.label}: duplicate region codes")
    derivation_of: dict[str, str] = {}
    for milieu, model in f.milieux.items():
        missing = set(codes) - set(model.region_terms)
        extra = set(model.region_terms) - set(codes)
        if missing or extra:
            raise ValueError(
                f"{f.label} {milieu}: region terms do not match the regions "
                f"(missing {sorted(missing)}, unknown {sorted(extra)})"
            )
        keys = [v.key for v in model.variables]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{f.label} {milieu}: duplicate variable keys")
        for v in model.variables:
            if v.derivation not in DERIVATIONS:
                raise ValueError(f"{f.label} {milieu}: unknown derivation {v.derivation!r}")
            if derivation_of.setdefault(v.key, v.derivation) != v.derivation:
                raise ValueError(f"{f.label}: variable {v.key!r} has two derivations")
            if v.provisional and not v.assumption:
                raise ValueError(f"{f.label}: provisional variable {v.key!r} needs an assumption")


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v is not False and v != ()}


def _labels_to_dict(labels: Labels) -> dict[str, str]:
    return {"ar": labels.ar, "fr": labels.fr, "en": labels.en}


def _variable_to_dict(v: Variable) -> dict[str, Any]:
    return _drop_none(
        {
            "key": v.key,
            "derivation": v.derivation,
            "coefficient": v.coefficient,
            "standard_error": v.standard_error,
            "kind": v.kind,
            "provisional": v.provisional,
            "assumption": v.assumption,
            "label": _labels_to_dict(v.label),
            "label_ar_source": v.label_ar_source,
            "source_position": v.source_position,
            "notes": v.notes,
        }
    )


def _formula_to_dict(f: Formula) -> dict[str, Any]:
    p = f.provenance
    return {
        "identifier": f.identifier,
        "name": f.name,
        "version": f.version,
        "status": f.status.value,
        "effective_date": f.effective_date.isoformat() if f.effective_date else None,
        "scale": f.scale,
        "provenance": _drop_none(
            {
                "source": p.source,
                "files": list(p.files) or None,
                "verified_against_official_text": p.verified_against_official_text,
                "notes": p.notes,
                "based_on": p.based_on,
                "calibrated_from": p.calibrated_from,
                "calibrated_at": p.calibrated_at.isoformat() if p.calibrated_at else None,
            }
        ),
        "regions": [{"code": r.code, "name": _labels_to_dict(r.name)} for r in f.regions],
        "milieux": {
            milieu.value: {
                "constant": model.constant,
                "region_terms": dict(model.region_terms),
                "variables": [_variable_to_dict(v) for v in model.variables],
            }
            for milieu, model in f.milieux.items()
        },
        "thresholds": [
            {"program": t.program, "name": t.name, "value": t.value, "provenance": t.provenance}
            for t in f.thresholds
        ],
        "choices": [{"key": c.key, "text": c.text} for c in f.choices],
    }


def _labels_from_dict(d: Mapping[str, str]) -> Labels:
    return Labels(ar=d["ar"], fr=d["fr"], en=d["en"])


def _variable_from_dict(d: Mapping[str, Any]) -> Variable:
    se = d.get("standard_error")
    return Variable(
        key=d["key"],
        label=_labels_from_dict(d["label"]),
        derivation=d["derivation"],
        coefficient=float(d["coefficient"]),
        kind=d.get("kind", "binary"),
        provisional=bool(d.get("provisional", False)),
        assumption=d.get("assumption"),
        notes=d.get("notes"),
        source_position=d.get("source_position"),
        label_ar_source=d.get("label_ar_source"),
        standard_error=float(se) if se is not None else None,
    )


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _formula_from_dict(d: Mapping[str, Any]) -> Formula:
    p = d["provenance"]
    return Formula(
        identifier=d["identifier"],
        name=d["name"],
        version=str(d["version"]),
        status=FormulaStatus(d["status"]),
        effective_date=_as_date(d.get("effective_date")),
        scale=d.get("scale"),
        provenance=Provenance(
            source=p["source"],
            files=tuple(p.get("files") or ()),
            verified_against_official_text=bool(p.get("verified_against_official_text", False)),
            notes=p.get("notes"),
            based_on=p.get("based_on"),
            calibrated_from=p.get("calibrated_from"),
            calibrated_at=_as_datetime(p.get("calibrated_at")),
        ),
        regions=tuple(
            Region(code=str(r["code"]), name=_labels_from_dict(r["name"])) for r in d["regions"]
        ),
        milieux={
            Milieu(name): MilieuModel(
                constant=float(m["constant"]),
                region_terms={str(k): float(v) for k, v in m["region_terms"].items()},
                variables=tuple(_variable_from_dict(v) for v in m["variables"]),
            )
            for name, m in d["milieux"].items()
        },
        thresholds=tuple(
            Threshold(
                program=t["program"],
                name=t["name"],
                value=float(t["value"]),
                provenance=t.get("provenance", ""),
            )
            for t in d.get("thresholds") or ()
        ),
        choices=tuple(Choice(key=c["key"], text=c["text"]) for c in d.get("choices") or ()),
    )
