"""Social security and health insurance (CNSS, CNOPS; AMO): affiliations of adult members."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from sijill.verification.connectors.base import Connector, Findings, Member, Subject, register

#: (scheme, regime) → (employment status, health coverage)
AFFILIATION: dict[tuple[str, str], tuple[str, str]] = {
    ("CNOPS", "public"): ("public_employee", "amo_public"),
    ("CNSS", "salaried"): ("private_employee", "amo_salaried"),
    ("CNSS", "self_employed"): ("self_employed", "amo_self_employed"),
}


@register
class SocialSecurity(Connector):
    code = "social_security"
    name = _("Social security and health insurance (CNSS, CNOPS)")
    asked_by = "IDCS of every adult member"
    member_fields = ("activity", "employment_status", "health_coverage")
    records_key = "affiliations"
    person_key = "idcs"
    record_types = {"scheme": str, "regime": str}

    def asked(self, subject: Subject) -> Iterable[Member]:
        return subject.adults or subject.members

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        """An affiliated member works (employed, with the status of the regime) and is covered
        by the matching AMO scheme. No affiliation proves nothing (informal work exists)."""
        found = Findings()
        for r in records:
            status, coverage = AFFILIATION[(r["scheme"], r["regime"])]
            found.members[r["idcs"]] = {"activity": "employed", "employment_status": status,
                                        "health_coverage": coverage}
        return found
