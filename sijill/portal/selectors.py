"""Reads of the citizen portal that no other app offers yet (each audited like any other read
of personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sijill.accounts.actors import Actor
from sijill.audit.services import audit_record
from sijill.geography.models import Commune
from sijill.households.models import Household, RolloutWindow
from sijill.programs.models import EligibilityDecision, Program


def household_of_citizen(*, actor: Actor) -> Household | None:
    """The household the citizen belongs to now, else the one they declared last (a draft, a
    rejected registration); None when there is none. Not audited: it reveals nothing beyond the
    reference, and every page that shows data reads it through an audited service."""
    if not actor.idcs:
        return None
    current = (Household.objects.filter(memberships__person__idcs=actor.idcs,
                                        memberships__end_date__isnull=True)
               .exclude(status=Household.Status.CANCELLED).order_by("-created_at").first())
    if current is not None:
        return current
    return (Household.objects.filter(declarant__idcs=actor.idcs)
            .exclude(status=Household.Status.CANCELLED).order_by("-created_at").first())


def open_communes(*, day: date, language: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Communes where registration is open on `day`, grouped by province, for a <select>.

    The most specific roll-out window wins (commune, province, region), as in
    households.services.rollout_window_for; computed once for all communes."""
    windows = {w.code: w for w in RolloutWindow.objects.all()}
    groups: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    field = "name_ar" if language == "ar" else "name_fr"
    rows = (Commune.objects.select_related("province")
            .order_by("province__" + field, field))
    for commune in rows:
        window = next((windows[c] for c in (commune.code, commune.province_id,
                                            commune.province.region_id) if c in windows), None)
        if window is None or window.opens_on is None or window.opens_on > day:
            continue
        province = commune.province
        group = groups.setdefault(province.code, (getattr(province, field), []))
        group[1].append((commune.code, getattr(commune, field)))
    return list(groups.values())


@dataclass(frozen=True)
class ProgramStatus:
    program: Program
    name: str
    status: str  # eligible, not_eligible, pending
    decision: EligibilityDecision | None


def eligibility_of_household(*, actor: Actor, household: Household, language: str,
                             ) -> list[ProgramStatus]:
    """Each active program and the household's current decision (audited: one entry)."""
    programs = list(Program.objects.filter(status=Program.Status.ACTIVE).order_by("code"))
    decisions = {d.program_id: d for d in EligibilityDecision.objects.filter(
        household=household, current=True)}
    out = []
    for program in programs:
        decision = decisions.get(program.pk)
        status = ("pending" if decision is None
                  else "eligible" if decision.eligible else "not_eligible")
        out.append(ProgramStatus(program=program, name=program.name(language),
                                 status=status, decision=decision))
    audit_record(actor=actor, action="read_eligibility", entity="household",
                 entity_id=household.reference, subject=household.declarant.idcs,
                 purpose="portal: own eligibility",
                 detail={"programs": [p.program.code for p in out]})
    return out


def actors_described(labels: set[str], *, me: Actor) -> dict[str, str]:
    """Who took each step of a registration, in words a citizen understands: "you", a service
    centre by name (never a staff member's name), a role, or the automatic processing."""
    from django.utils.translation import get_language
    from django.utils.translation import gettext as _

    from sijill.accounts.models import ApiToken, User
    from sijill.accounts.roles import Role

    arabic = (get_language() or "ar").startswith("ar")
    out = {"system": _("Sijill (automatic processing)")}
    user_ids = {int(label[5:]) for label in labels
                if label.startswith("user:") and label[5:].isdigit()}
    for pk, role, centre_ar, centre_fr in User.objects.filter(pk__in=user_ids).values_list(
            "pk", "role", "centre__name_ar", "centre__name_fr"):
        if pk == me.user_id:
            out[f"user:{pk}"] = _("you")
            continue
        try:
            who = str(Role(role).label)
        except ValueError:
            who = role
        centre = centre_ar if arabic else centre_fr
        out[f"user:{pk}"] = f"{who} — {centre}" if centre else who
    token_ids = {int(label[6:]) for label in labels
                 if label.startswith("token:") and label[6:].isdigit()}
    for pk, name in ApiToken.objects.filter(pk__in=token_ids).values_list("pk", "name"):
        out[f"token:{pk}"] = name
    return {label: out.get(label, str(_("the registry"))) for label in labels}
