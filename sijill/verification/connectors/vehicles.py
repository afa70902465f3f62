"""Vehicle registry (NARSA): cars and motorcycles registered to adult members."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from sijill.verification.connectors.base import Connector, Findings, Member, Subject, register


@register
class Vehicles(Connector):
    code = "vehicles"
    name = _("Vehicle registry")
    asked_by = "IDCS and CNIE of every adult member"
    household_fields = ("cars", "motorcycles")
    records_key = "vehicles"
    person_key = "owner_idcs"
    record_types = {"kind": str, "plate": str}

    def asked(self, subject: Subject) -> Iterable[Member]:
        return subject.adults or subject.members

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        """The registry is complete for registered vehicles: its counts are the household's."""
        kinds = [r["kind"] for r in records]
        unknown = set(kinds) - {"car", "motorcycle"}
        if unknown:
            raise ValueError(f"unknown vehicle kind {sorted(unknown)}")
        return Findings(household={"cars": min(99, kinds.count("car")),
                                   "motorcycles": min(99, kinds.count("motorcycle"))})
