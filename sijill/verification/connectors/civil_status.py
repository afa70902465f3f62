"""Civil status: deaths of members, births to members not declared."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from sijill.verification.connectors.base import Connector, Findings, Subject, register


@register
class CivilStatus(Connector):
    code = "civil_status"
    name = _("Civil status (deaths and births)")
    asked_by = "IDCS of every member"
    records_key = "events"
    person_key = "idcs"
    record_types = {"event": str, "date": str}

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        """A death marks the person deceased (their membership ends; the household is
        rescored). A birth whose child is not a member is a discrepancy for an agent: the
        household should declare the child."""
        found = Findings()
        for r in records:
            if r["event"] == "death":
                found.deaths.append((r["idcs"], date.fromisoformat(r["date"])))
            elif r["event"] == "birth":
                child = r.get("child_idcs")
                if child not in subject.idcs:
                    found.notes.append(("undeclared_birth", r["idcs"],
                                        {"child_idcs": child, "birth_date": r["date"]}))
            else:
                raise ValueError(f"unknown civil status event {r['event']!r}")
        return found
