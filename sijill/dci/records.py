"""Registry records in the DCI shapes (Group, Member), limited to the partner's purpose.

What a partner sees (README.md, "Field mapping"): household reference (HOUSEHOLD_ID), size,
location (commune HCP code) and milieu, the head's IDCS (UIN); the index only when its purpose
needs it (`reveals_score`); eligibility for its program when bound to one; the members' IDCS,
sex, birth date and relationship only with `detail = members`. Never names, address, phone,
nor anything of the declaration (dwelling, assets, spending, education, work, health).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Count, F

from sijill.dci.models import DciPartner
from sijill.households.models import Household, Membership
from sijill.programs.models import EligibilityDecision
from sijill.programs.selectors import active_formula_id
from sijill.scoring.models import Score

REG_TYPE = "ns:org:RegistryType:Social"
SEX = {"M": "male", "F": "female"}


def identifier(kind: str, value: str) -> dict[str, str]:
    return {"@type": "Identifier", "identifier_type": kind, "identifier_value": value}


def _member(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "@type": "Member",
        "member_identifier": [identifier("UIN", row["person__idcs"])],
        "demographic_info": {"@type": "SRPerson", "sex": SEX.get(row["person__sex"], "other"),
                             "birth_date": row["person__birth_date"].isoformat()},
        "relationship_head": row["relationship"],
    }


def _scores(household_ids: Sequence[int]) -> dict[int, float]:
    formula = active_formula_id()
    if formula is None:
        return {}
    rows = (Score.objects.filter(household_id__in=household_ids, formula_id=formula)
            .filter(declaration__version=F("household__current_version"))
            .order_by("household_id", "basis").values_list("household_id", "value"))
    return dict(rows)  # the highest basis last wins


def _eligibility(partner: DciPartner, household_ids: Sequence[int]) -> dict[int, bool]:
    if partner.program_id is None:
        return {}
    return dict(EligibilityDecision.objects.filter(
        program_id=partner.program_id, household_id__in=household_ids, current=True)
        .values_list("household_id", "eligible"))


def groups(partner: DciPartner, household_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Group records of these households, in the order given."""
    rows = {h["pk"]: h for h in Household.objects.filter(pk__in=household_ids).values(
        "pk", "reference", "commune_id", "milieu", "head__idcs")}
    sizes = dict(Membership.objects.filter(household_id__in=household_ids,
                                           end_date__isnull=True)
                 .order_by().values("household_id").annotate(n=Count("pk"))
                 .values_list("household_id", "n"))
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if partner.detail == DciPartner.Detail.MEMBERS:
        for m in (Membership.objects.filter(household_id__in=household_ids,
                                            end_date__isnull=True)
                  .order_by("household_id", "start_date", "pk")
                  .values("household_id", "relationship", "person__idcs", "person__sex",
                          "person__birth_date")):
            members[m["household_id"]].append(_member(m))
    scores = _scores(household_ids) if partner.reveals_score else {}
    eligible = _eligibility(partner, household_ids)
    out = []
    for pk in household_ids:
        h = rows.get(pk)
        if h is None:
            continue
        record: dict[str, Any] = {
            "@type": "Group",
            "group_identifier": [identifier("HOUSEHOLD_ID", h["reference"])],
            "group_type": "household",
            "group_size": sizes.get(pk, 0),
            "location": h["commune_id"],
            "milieu": h["milieu"],
            "group_head_info": {"@type": "Member", "member_identifier": (
                [identifier("UIN", h["head__idcs"])] if h["head__idcs"] else [])},
        }
        if partner.reveals_score:
            record["poverty_score"] = scores.get(pk)
            record["poverty_score_type"] = "proxy-means-test"
        if partner.detail == DciPartner.Detail.MEMBERS:
            record["member_list"] = members.get(pk, [])
        if partner.program_id is not None:
            assert partner.program is not None  # program_id is set
            record["additional_attributes"] = [{
                "program": partner.program.code, "eligible": eligible.get(pk)}]
        out.append(record)
    return out


def member_records(partner: DciPartner, membership_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Member records (each with its household's identifier), in the order given."""
    rows = {m["pk"]: m for m in Membership.objects.filter(pk__in=membership_ids).values(
        "pk", "relationship", "person__idcs", "person__sex", "person__birth_date",
        "household__reference")}
    out = []
    for pk in membership_ids:
        m = rows.get(pk)
        if m is None:
            continue
        record = _member(m)
        record["group_identifier"] = [identifier("HOUSEHOLD_ID", m["household__reference"])]
        out.append(record)
    return out
