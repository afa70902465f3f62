"""Reads of the geography."""

from __future__ import annotations

from sijill.geography.models import Commune


def commune_get(*, code: str) -> Commune | None:
    return Commune.objects.select_related("province__region").filter(code=code).first()
