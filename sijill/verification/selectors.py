"""Verification reads: the verified bases scoring asks for, the discrepancy queue, a household's
verification. Audited where they expose personal data (the queue and a household's evidence)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core.errors import NotFound, ValidationFailed
from sijill.households.models import Household
from sijill.scoring.engine import Verified
from sijill.scoring.verified import VerifiedBasis
from sijill.verification.models import Discrepancy, PartnerCheck, Verification
from sijill.verification.sealed import unseal_values


def verified_bases(declaration_ids: Sequence[int]) -> Mapping[int, VerifiedBasis]:
    """The provider scoring calls (scoring.verified): the current verified values of every
    concluded verification of these declaration versions."""
    rows = (Verification.objects.filter(declaration_id__in=list(declaration_ids), basis__gte=1)
            .values_list("declaration_id", "basis", "values", "unverified"))
    return {declaration_id: basis_of(basis, unseal_values(sealed), unverified)
            for declaration_id, basis, sealed, unverified in rows}


def basis_of(basis: int, values: Mapping[str, Any], unverified: Sequence[str]) -> VerifiedBasis:
    """A verification's (unsealed) values as scoring takes them."""
    household = {f: Verified(value=v, source=p)
                 for f, (v, p) in (values.get("household") or {}).items()}
    members = {i: {f: Verified(value=v, source=p) for f, (v, p) in fields.items()}
               for i, fields in (values.get("members") or {}).items()}
    return VerifiedBasis(basis=basis, household=household, members=members,
                         unverified=tuple(unverified))


def visible_to(actor: Actor, household: Household) -> bool:
    """Agents: households of their centre's provinces; verifiers and administrators: all."""
    if actor.role in ("admin", "verifier"):
        return True
    if actor.role == "agent":
        return household.commune.province_id in actor.province_codes
    return False


def _scoped(actor: Actor, qs: QuerySet[Discrepancy]) -> QuerySet[Discrepancy]:
    if actor.role in ("admin", "verifier"):
        return qs
    if actor.role == "agent":
        return qs.filter(household__commune__province_id__in=list(actor.province_codes))
    return qs.none()


STATUSES = ("open", "confirmed", "dismissed", "all")
SEVERITIES = ("low", "medium", "high")


def discrepancy_queue(*, actor: Actor, status: str = "open", severity: str | None = None,
                      household: str | None = None, limit: int = 50, offset: int = 0,
                      purpose: str = "") -> list[Discrepancy]:
    """Discrepancies an agent may decide, most severe and oldest first: an agent sees those of
    their centre's provinces, verifiers and administrators all. The read is audited."""
    actor.require(Perm.VERIFICATION_READ)
    if status not in STATUSES:
        raise ValidationFailed.single("status", "invalid_choice",
                                      _("The status is open, confirmed, dismissed or all."))
    qs = _scoped(actor, Discrepancy.objects.select_related(
        "household__commune", "household__declarant", "verification__declaration"))
    if status != "all":
        qs = qs.filter(status=status)
    if severity:
        if severity not in SEVERITIES:
            raise ValidationFailed.single("severity", "invalid_choice",
                                          _("The severity is low, medium or high."))
        qs = qs.filter(severity=severity)
    if household:
        qs = qs.filter(household__reference=household)
    from django.db.models import Case, IntegerField, Value, When

    rank = Case(When(severity="high", then=Value(0)), When(severity="medium", then=Value(1)),
                default=Value(2), output_field=IntegerField())
    rows: list[Discrepancy] = list(qs.annotate(rank=rank).order_by("rank", "created_at", "id")
                [offset:offset + max(1, min(limit, 500))])
    audit_record(actor=actor, action="read_discrepancies", entity="discrepancy",
                 entity_id=",".join(str(r.pk) for r in rows)[:200], purpose=purpose,
                 detail={"households": sorted({r.household.reference for r in rows}),
                         "status": status})
    return rows


@dataclass(frozen=True)
class HouseholdVerification:
    household: Household
    verification: Verification | None
    checks: list[PartnerCheck]
    discrepancies: list[Discrepancy]


def household_verification(*, actor: Actor, reference: str,
                           purpose: str = "") -> HouseholdVerification:
    """The latest verification of a household: partners' status, evidence count, verified
    fields, unverified fields and discrepancies. Audited."""
    actor.require(Perm.VERIFICATION_READ)
    household = (Household.objects.select_related("commune", "declarant")
                 .filter(reference=reference).first())
    if household is None or not visible_to(actor, household):
        raise NotFound()
    verification = (Verification.objects.select_related("declaration")
                    .filter(household=household).order_by("-declaration__version").first())
    checks = list(verification.checks.order_by("partner")) if verification else []
    discrepancies = list(verification.discrepancies.all()) if verification else []
    audit_record(actor=actor, action="read_verification", entity="household",
                 entity_id=reference, subject=household.declarant.idcs, purpose=purpose,
                 detail={"verification": verification.pk if verification else None})
    return HouseholdVerification(household, verification, checks, discrepancies)


def summary(verification: Verification) -> dict[str, Any]:
    """Counts by partner status (for the back-office and the tests)."""
    out: dict[str, Any] = {"status": verification.status, "basis": verification.basis}
    for c in verification.checks.all():
        out[c.partner] = c.status
    return out
