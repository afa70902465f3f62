"""Water and electricity distributor: bills of the meters held by the head or the declarant."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from sijill.verification.connectors.base import Connector, Findings, Member, Subject, register


@register
class Utilities(Connector):
    code = "utilities"
    name = _("Water and electricity distributor")
    asked_by = "IDCS and CNIE of the head and of the declarant (meter holders)"
    household_fields = ("electricity_meter", "monthly_electricity_dh", "has_running_water",
                        "monthly_water_dh")
    records_key = "bills"
    person_key = "holder_idcs"
    record_types = {"service": str, "meter_id": str, "month": str, "amount_dh": (int, float)}

    def asked(self, subject: Subject) -> Iterable[Member]:
        return [m for m in subject.members if m.relationship == "head"] or subject.adults[:1]

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        """A meter in a member's name: the household has its own meter / running water, and
        its monthly spending is the mean of the bills. No meter is not proof of none (it may be
        in a landlord's name): nothing is concluded then."""
        found = Findings()
        for service, meter_field, amount_field in (
                ("electricity", "electricity_meter", "monthly_electricity_dh"),
                ("water", "has_running_water", "monthly_water_dh")):
            bills = [r for r in records if r["service"] == service]
            if not bills:
                continue
            found.household[meter_field] = "own" if service == "electricity" else True
            months = len({(r["meter_id"], r["month"]) for r in bills}) or 1
            meters = len({r["meter_id"] for r in bills}) or 1
            total = sum(float(r["amount_dh"]) for r in bills)
            found.household[amount_field] = round(total / months * meters)
        return found
