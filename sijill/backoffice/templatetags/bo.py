"""Template filters of the back office: numbers and dates in the active locale."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def num(value: Any, decimals: int | None = None) -> str:
    """A number with the locale's grouping and decimal separators ("—" for none)."""
    if value is None or value == "":
        return "—"
    try:
        if decimals is not None and isinstance(value, float):
            value = round(value, decimals)  # number_format cuts a float's digits off
        return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(value: Any, decimals: int = 1) -> str:
    """A share (0..1) as a percentage in the locale."""
    if value is None:
        return "—"
    return f"{num(float(value) * 100, decimals)} %"


@register.filter
def iso_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def sex_label(value: str) -> str:
    return {"M": _("Male"), "F": _("Female")}.get(value, value or "—")


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def local_name(obj: Any) -> str:
    """name_ar in Arabic, name_fr otherwise (service centres, like the geography's names)."""
    from django.utils.translation import get_language

    if obj is None:
        return ""
    arabic = (get_language() or "ar").startswith("ar")
    return (getattr(obj, "name_ar", "") if arabic else getattr(obj, "name_fr", "")) or str(obj)
