"""Land registry (conservation foncière): titles held by adult members."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from sijill.verification.connectors.base import Connector, Findings, Member, Subject, register


@register
class Land(Connector):
    code = "land"
    name = _("Land registry")
    asked_by = "IDCS and CNIE of every adult member"
    household_fields = ("owns_non_agricultural_land", "owns_or_farms_irrigated_land")
    records_key = "titles"
    person_key = "owner_idcs"
    record_types = {"kind": str, "title_number": str}

    def asked(self, subject: Subject) -> Iterable[Member]:
        return subject.adults or subject.members

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        """A non-agricultural title settles that field either way; an irrigated title proves
        irrigated land, but farming without a title is possible, so its absence proves nothing."""
        kinds = {r["kind"] for r in records}
        found = Findings(household={"owns_non_agricultural_land": "non_agricultural" in kinds})
        if "irrigated_agricultural" in kinds:
            found.household["owns_or_farms_irrigated_land"] = True
        return found
