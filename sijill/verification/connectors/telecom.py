"""Telecom operators: the lines held by the household's members."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sijill.verification.connectors.base import Connector, Findings, Subject, register


@register
class Telecom(Connector):
    code = "telecom"
    name = _("Telecom operators")
    asked_by = "IDCS and CNIE of every member"
    household_fields = ("mobile_phones", "has_landline")
    records_key = "lines"
    person_key = "holder_idcs"
    record_types = {"line_type": str, "operator": str}

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        """Mobile lines in the members' names count as their phones; a landline in a member's
        name means the household has one (none registered: it has none)."""
        found = Findings()
        found.household["mobile_phones"] = min(
            99, sum(1 for r in records if r["line_type"] == "mobile"))
        found.household["has_landline"] = any(r["line_type"] == "landline" for r in records)
        return found
