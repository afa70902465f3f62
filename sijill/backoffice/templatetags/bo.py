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


# --- a declared field and its value, in words (discrepancies) --------------------------------


def _enum_of(field: str) -> Any:
    from sijill.declaration.model import HouseholdData, MemberData, enum_fields

    return enum_fields(MemberData).get(field) or enum_fields(HouseholdData).get(field)


@register.filter
def declared_field_label(field: str) -> str:
    """A declaration's field by its label (the registry's models name every one)."""
    from django.core.exceptions import FieldDoesNotExist

    from sijill.households.models import DeclarationVersion, MemberDeclaration

    for model in (MemberDeclaration, DeclarationVersion):
        try:
            found = model._meta.get_field(field)
        except FieldDoesNotExist:
            continue
        return str(getattr(found, "verbose_name", field)).capitalize()
    return field


@register.filter
def declared_value(value: Any, field: str) -> str:
    """A declared or verified value in words: opened if kept encrypted, an enumeration's
    label, yes or no; "—" when there is none."""
    from sijill.declaration import vocab
    from sijill.verification.sealed import unseal

    value = unseal(field, value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    kind = _enum_of(field)
    if kind is not None:
        try:
            return _(vocab.label(kind(value)))
        except (ValueError, KeyError):
            return str(value)
    if isinstance(value, int | float):
        return number_format(value)
    return str(value)


@register.filter
def partner_label(code: str) -> str:
    from sijill.verification.connectors import CONNECTORS

    connector = CONNECTORS.get(code)
    return str(connector.name) if connector is not None else code
