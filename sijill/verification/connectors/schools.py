"""Schools (the national pupils' register): enrolments of school-age members."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from sijill.verification.connectors.base import Connector, Findings, Member, Subject, register


@register
class Schools(Connector):
    code = "schools"
    name = _("Schools")
    asked_by = "IDCS of members aged 5 to 24"
    member_fields = ("schooling",)
    records_key = "enrolments"
    person_key = "idcs"
    record_types = {"sector": str}

    def asked(self, subject: Subject) -> Iterable[Member]:
        return [m for m in subject.members if 5 <= m.age <= 24]

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        """An enrolled member is schooled in the sector of the school (public or private).
        Not enrolled anywhere proves nothing (the register may lag)."""
        found = Findings()
        for r in records:
            if r["sector"] not in ("public", "private"):
                raise ValueError(f"unknown school sector {r['sector']!r}")
            found.members[r["idcs"]] = {"schooling": r["sector"]}
        return found
