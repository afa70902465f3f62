"""The rule of which value counts: VERIFIED OVER DECLARED.

1. A field a partner answered about takes the partner's value in the score, whether or not it
   differs from the declaration (`Verified(value, source=<partner code>)`): the score's
   explanation shows such a variable with source "verified" and names the partner in
   `verified_by` (e.g. cars ← "vehicles": the vehicle registry).
2. A field whose partner did not answer by the deadline keeps its declared value and is flagged
   unverified (the score's `inputs["unverified"]`, the explanation's `unverified`); when the
   answer arrives later, rule 1 applies and the household is rescored (reason "verification").
3. A partner's silence proves nothing where the connector says so (no meter in a member's name,
   no affiliation, no school enrolment): nothing is verified then, and nothing is flagged.
4. Where the partner's value differs from the declared one, a discrepancy is recorded (field,
   declared, verified, severity) for an agent. The agent either confirms it (the partner's value
   stays) or dismisses it (the declared value counts again, e.g. a car sold but still registered);
   a dismissal rescores the household. Amounts within ±25 % of the declared one are not
   discrepancies (bills vary with the season), but the verified amount still counts.
5. Verified values never come from a partner for someone who is not a member of the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sijill.declaration.model import Declaration

AMOUNT_TOLERANCE = 0.25
AMOUNTS = frozenset({"monthly_water_dh", "monthly_electricity_dh", "monthly_butane_dh",
                     "monthly_phone_internet_dh"})
ASSETS = frozenset({"cars", "motorcycles", "cows", "computers"})


@dataclass(frozen=True)
class Difference:
    partner: str
    field: str
    person_idcs: str  # "" for a household field
    declared: Any
    verified: Any
    severity: str


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def severity(field: str, declared: Any, verified: Any) -> str | None:
    """None when the values agree (within tolerance for amounts); else low / medium / high:
    high when the partner shows more means than declared in a way that moves the index (an
    undeclared car, a formal job), medium for other understatements, low for the rest."""
    declared, verified = _plain(declared), _plain(verified)
    if declared == verified:
        return None
    if field in AMOUNTS:
        d, v = float(declared), float(verified)
        if abs(v - d) <= AMOUNT_TOLERANCE * max(d, 1.0):
            return None
        return "high" if v > 2 * max(d, 1.0) else "medium" if v > d else "low"
    if isinstance(verified, bool):
        return "high" if verified and field != "has_running_water" else \
            "medium" if verified else "low"
    if isinstance(verified, int):
        if verified > declared:
            return "high" if field in ASSETS else "medium"
        return "low"
    if field in ("activity", "employment_status"):
        return "high" if verified in ("employed", "public_employee", "private_employee",
                                      "self_employed") else "medium"
    if field in ("health_coverage", "electricity_meter"):
        return "medium"
    return "low"


def differences(declaration: Declaration, partner: str, household: dict[str, Any],
                members: dict[str, dict[str, Any]]) -> list[Difference]:
    out = []
    for field, verified in household.items():
        declared = _plain(getattr(declaration.household, field))
        level = severity(field, declared, verified)
        if level:
            out.append(Difference(partner, field, "", declared, verified, level))
    declared_members = {m.idcs: m for m in declaration.members}
    for idcs, fields in members.items():
        member = declared_members.get(idcs)
        if member is None:
            continue
        for field, verified in fields.items():
            declared = _plain(getattr(member, field))
            level = severity(field, declared, verified)
            if level:
                out.append(Difference(partner, field, idcs, declared, verified, level))
    return out
