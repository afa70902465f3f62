"""Reads of the social registry that serve its writers."""

from __future__ import annotations

import time

from sijill.geography.models import Commune

#: How long a process keeps a commune (reference data, rewritten only by a reload of the
#: geography) without asking the database again.
COMMUNE_TTL = 300

_communes: dict[str, tuple[float, Commune]] = {}


def commune_get(code: str) -> Commune | None:
    """The commune with this HCP code and its province (None if there is none), kept per process
    for COMMUNE_TTL seconds: every registration names one, out of 1,503 that do not change. An
    unknown code is not kept, and the household's foreign key still checks the code."""
    now = time.monotonic()
    kept = _communes.get(code)
    if kept is not None and kept[0] > now:
        return kept[1]
    commune = Commune.objects.select_related("province").filter(code=code).first()
    if commune is not None:
        _communes[code] = (now + COMMUNE_TTL, commune)
    return commune
