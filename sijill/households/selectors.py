"""Reads of the social registry that serve its writers."""

from __future__ import annotations

import time

from django.db.models import Exists, OuterRef, QuerySet

from sijill.geography.models import Commune
from sijill.households.models import Household, Membership

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


def households_verifiable() -> QuerySet[Household]:
    """Submitted households whose declaration, as it stands, can be verified: they have a head
    and their declarant is still a member. Not those waiting for an updated declaration (a
    deceased head, a departed declarant with only minors left), which verification must not
    pick up before the update resubmits them."""
    return (Household.objects
            .filter(status=Household.Status.SUBMITTED, current_version__gt=0,
                    head__isnull=False)
            .filter(Exists(Membership.objects.filter(household=OuterRef("pk"),
                                                     person=OuterRef("declarant_id"),
                                                     end_date__isnull=True))))
