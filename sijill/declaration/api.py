"""/api/v1/declaration/vocabulary: every enumerated field of a declaration with its values'
labels in Arabic, French and English (reference data, no personal data: anyone may read it,
so a form or a partner's client shows the registry's own words)."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext
from ninja import Field, Router, Schema

from sijill.declaration import vocab
from sijill.declaration.model import HouseholdData, MemberData, enum_fields

router = Router(tags=["declaration"])


class LabelsOut(Schema):
    ar: str
    fr: str
    en: str


class ChoiceOut(Schema):
    value: str = Field(description="The value as the API and the bulk files take it.")
    label: LabelsOut


class VocabularyOut(Schema):
    household: dict[str, list[ChoiceOut]] = Field(
        description="Enumerated fields of the household's declaration.")
    members: dict[str, list[ChoiceOut]] = Field(
        description="Enumerated fields of each member's declaration.")


def _choices(kind: type[StrEnum]) -> list[dict[str, Any]]:
    out = []
    for member in kind:
        msgid = vocab.LABELS.get((kind, member.name), member.value)
        labels = {}
        for lang in ("ar", "fr", "en"):
            with translation.override(lang):
                labels[lang] = gettext(msgid)
        out.append({"value": member.value, "label": labels})
    return out


@cache
def vocabulary() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Built once per process: the enumerations and their translations do not change."""
    return {"household": {n: _choices(k) for n, k in enum_fields(HouseholdData).items()},
            "members": {n: _choices(k) for n, k in enum_fields(MemberData).items()}}


@router.get("/declaration/vocabulary", response=VocabularyOut, auth=None,
            summary="The declaration's enumerations with their labels in ar/fr/en")
def declaration_vocabulary(request: HttpRequest) -> dict[str, Any]:
    return vocabulary()
