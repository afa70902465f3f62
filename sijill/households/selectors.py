"""Reads of the social registry that serve its writers."""

from __future__ import annotations

import time

from django.db.models import Exists, OuterRef, QuerySet

from sijill.accounts.actors import Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.geography.models import Commune
from sijill.households.models import DeclarationVersion, Household, Membership

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


def household_readable(*, actor: Actor, reference: str) -> Household:
    """The household `actor` may read (404 otherwise, even when it exists elsewhere)."""
    from sijill.households import services

    actor.require(Perm.HOUSEHOLD_READ)
    household = (Household.objects.select_related("commune__province", "declarant")
                 .filter(reference=reference).first())
    if household is None or not services._visible(actor, household):
        raise services._not_found()
    return household


def household_declarations(*, actor: Actor, reference: str, purpose: str = "",
                           ) -> list[DeclarationVersion]:
    """Every declaration version of a household, newest first (what each one says:
    `household_declaration`); the read is audited."""
    household = household_readable(actor=actor, reference=reference)
    audit_record(actor=actor, action="read_declarations", entity="household",
                 entity_id=reference, subject=household.declarant.idcs, purpose=purpose)
    return list(household.versions.select_related("declarant").order_by("-version"))


def household_declaration(*, actor: Actor, reference: str, version: int, purpose: str = "",
                          ) -> DeclarationVersion:
    """One declaration version as it was submitted, older ones included (nothing is ever
    overwritten: a change is a new version); the read is audited."""
    from sijill.households import services

    household = household_readable(actor=actor, reference=reference)
    found = (household.versions.select_related("declarant").filter(version=version).first())
    if found is None:
        raise services._not_found()
    audit_record(actor=actor, action="read_declaration", entity="household",
                 entity_id=reference, subject=household.declarant.idcs, purpose=purpose,
                 detail={"version": version,
                         "members": sorted(m.idcs for m in services.declaration_of(found)
                                           .members)})
    return found
