"""Checks of a formula document (YAML) before it becomes a version: every problem is a 422
naming the field as a dotted path (`milieux.rural.variables.3.coefficient`), in the reader's
language.

Beyond the document's own shape, a formula must be able to score every household of this
registry: a model for each milieu and a term for each region of the registry's geography
(`check_coverage`). A formula missing one would be accepted, activated, retire the working one
and then fail on the first household it cannot score.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import yaml
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sijill.core.errors import FieldError, ValidationFailed
from sijill.declaration.vocab import Milieu
from sijill.scoring.engine import DERIVATIONS, Formula, FormulaStatus

_REQUIRED_TOP = ("identifier", "name", "version", "provenance", "regions", "milieux")
_REQUIRED_VARIABLE = ("key", "derivation", "coefficient", "label")


def problem(path: str, code: str, message: str | Promise) -> ValidationFailed:
    return ValidationFailed(_("The formula is not valid."), fields=[FieldError(path, code,
                                                                               message)])


def _number(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise problem(path, "not_a_number", _("This value must be a number."))


def _text_code(value: Any, path: str) -> None:
    if not isinstance(value, str) or not value:
        raise problem(path, "not_text", _("Write a region code as quoted text, e.g. '04' "
                                          "(unquoted, YAML reads 04 as the number 4)."))


def _labels(value: Any, path: str) -> None:
    for lang in ("ar", "fr", "en"):
        if not isinstance(value, dict) or not value.get(lang):
            raise problem(f"{path}.{lang}", "required", _("This field is required."))


def _check_regions(data: dict[str, Any]) -> None:
    if not isinstance(data["regions"], list):
        raise problem("regions", "invalid", _("Give the regions as a list of codes and names."))
    for i, region in enumerate(data["regions"]):
        if not isinstance(region, dict) or "code" not in region:
            raise problem(f"regions.{i}.code", "required", _("This field is required."))
        _text_code(region["code"], f"regions.{i}.code")
        _labels(region.get("name"), f"regions.{i}.name")


def _check_model(name: Any, model: Any) -> None:
    base = f"milieux.{name}"
    if name not in Milieu.__members__.values():
        raise problem(base, "invalid_choice", _("The milieu is urban or rural."))
    if not isinstance(model, dict):
        raise problem(base, "invalid", _("This value is not valid."))
    for key in ("constant", "region_terms", "variables"):
        if key not in model:
            raise problem(f"{base}.{key}", "required", _("This field is required."))
    _number(model["constant"], f"{base}.constant")
    if not isinstance(model["region_terms"], dict):
        raise problem(f"{base}.region_terms", "invalid", _("This value is not valid."))
    for code, term in model["region_terms"].items():
        _text_code(code, f"{base}.region_terms.{code}")
        _number(term, f"{base}.region_terms.{code}")
    if not isinstance(model["variables"], list):
        raise problem(f"{base}.variables", "invalid", _("This value is not valid."))
    for i, v in enumerate(model["variables"]):
        path = f"{base}.variables.{i}"
        if not isinstance(v, dict):
            raise problem(path, "invalid", _("This value is not valid."))
        for key in _REQUIRED_VARIABLE:
            if key not in v:
                raise problem(f"{path}.{key}", "required", _("This field is required."))
        _number(v["coefficient"], f"{path}.coefficient")
        if v["derivation"] not in DERIVATIONS:
            raise problem(f"{path}.derivation", "unknown_derivation",
                          _("Unknown derivation %(name)s.") % {"name": v["derivation"]})
        _labels(v["label"], f"{path}.label")
        if v.get("provisional") and not v.get("assumption"):
            raise problem(f"{path}.assumption", "required",
                          _("A provisional coefficient needs its assumption."))


def check_document(data: Any) -> None:
    """Name the first missing or mistyped field of a formula document (as a dotted path)."""
    if not isinstance(data, dict):
        raise problem("yaml", "not_a_mapping", _("A formula is a YAML mapping."))
    for key in _REQUIRED_TOP:
        if data.get(key) in (None, "", [], {}):
            raise problem(key, "required", _("This field is required."))
    if not isinstance(data["provenance"], dict) or not data["provenance"].get("source"):
        raise problem("provenance.source", "required", _("Say where the formula comes from."))
    effective = data.get("effective_date")
    if effective is not None and not isinstance(effective, date):
        try:
            date.fromisoformat(str(effective))
        except ValueError:
            raise problem("effective_date", "invalid_date",
                          _("Give a date as YYYY-MM-DD, or null.")) from None
    _check_regions(data)
    if not isinstance(data["milieux"], dict):
        raise problem("milieux", "invalid", _("Give one model per milieu (urban, rural)."))
    for name, model in data["milieux"].items():
        _check_model(name, model)
    for i, t in enumerate(data.get("thresholds") or ()):
        for key in ("program", "name", "value"):
            if not isinstance(t, dict) or key not in t:
                raise problem(f"thresholds.{i}.{key}", "required", _("This field is required."))
        _number(t["value"], f"thresholds.{i}.value")


def check_coverage(formula: Formula, *, region_codes: set[str]) -> None:
    """A model for every milieu, and exactly the registry's regions, or a 422 saying which."""
    for milieu in Milieu:
        if milieu not in formula.milieux:
            raise problem(f"milieux.{milieu.value}", "required",
                          _("Give a model for each milieu (urban and rural): every household "
                            "must be scorable."))
    if not region_codes:
        return  # no geography loaded (a bare test database): nothing to compare with
    codes = set(formula.region_codes)
    missing, unknown = sorted(region_codes - codes), sorted(codes - region_codes)
    if missing:
        raise problem("regions", "missing_regions",
                      _("The formula has no term for the regions %(codes)s of the registry.")
                      % {"codes": ", ".join(missing)})
    if unknown:
        raise problem("regions", "unknown_regions",
                      _("The regions %(codes)s are not regions of the registry.")
                      % {"codes": ", ".join(unknown)})


def formula_parse(text: str) -> Formula:
    """Parse and validate a formula document; problems raise ValidationFailed (422) naming the
    field (dotted path) or the YAML line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = {"line": mark.line + 1, "column": mark.column + 1} if mark else {"line": 0,
                                                                                "column": 0}
        raise problem("yaml", "yaml_syntax",
                      _("The YAML cannot be read (line %(line)s, column %(column)s).") % where
                      ) from None
    check_document(data)
    data = {**data, "status": FormulaStatus.DRAFT.value}
    try:
        return Formula.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise problem("yaml", "invalid", _("The formula is not valid: %(problem)s")
                      % {"problem": str(exc)}) from None
