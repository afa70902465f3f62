"""The regional roll-out calendar: when registration opens in a region, province or commune.

The only writer of `RolloutWindow` besides the seed migration (the pilot in Rabat and Kénitra).
Each change is a decision: who, when, the decision's reference and the value before and after go
to the audit trail (append-only, hash-chained), which is the calendar's history. Reads that
decide whether a registration is open are in `services.rollout_window_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core.errors import ValidationFailed
from sijill.geography.models import Commune, Province, Region
from sijill.households.models import RolloutWindow


def _scope_of(code: str) -> str:
    """The scope of an HCP area code: a region, a province or prefecture, or a commune."""
    if Region.objects.filter(code=code).exists():
        return RolloutWindow.Scope.REGION
    if Province.objects.filter(code=code).exists():
        return RolloutWindow.Scope.PROVINCE
    if Commune.objects.filter(code=code).exists():
        return RolloutWindow.Scope.COMMUNE
    raise ValidationFailed.single(
        "code", "unknown_area",
        _("%(code)s is not the HCP code of a region, a province or prefecture, or a commune.")
        % {"code": code})


def rollout_window_set(*, actor: Actor, code: str, opens_on: date | None,
                       decision: str) -> RolloutWindow:
    """Set (or announce without a date: `opens_on` None) when registration opens in an area,
    by a decision whose reference is recorded. Returns the window as it now stands."""
    actor.require(Perm.ROLLOUT_MANAGE)
    code = code.strip()
    decision = decision.strip()
    if not decision:
        raise ValidationFailed.single("decision", "required",
                                      _("Name the decision that sets this date."))
    if len(decision) > 200:
        raise ValidationFailed.single("decision", "too_long",
                                      _("This value is too long (at most %(max)s characters).")
                                      % {"max": 200})
    scope = _scope_of(code)
    with transaction.atomic():
        window = RolloutWindow.objects.select_for_update().filter(code=code).first()
        before = (None if window is None else
                  {"opens_on": window.opens_on.isoformat() if window.opens_on else None,
                   "decision": window.decision})
        if window is None:
            window = RolloutWindow(code=code, scope=scope)
        window.opens_on, window.decision = opens_on, decision
        window.save()
        audit_record(actor=actor, action="set_rollout", entity="rollout_window",
                     entity_id=code,
                     detail={"scope": scope, "before": before,
                             "after": {"opens_on": opens_on.isoformat() if opens_on else None,
                                       "decision": decision}})
    return window


@dataclass(frozen=True)
class WindowChange:
    at: str
    actor: str
    before: dict[str, str | None] | None
    after: dict[str, str | None]


def rollout_history(*, actor: Actor, code: str) -> list[WindowChange]:
    """Every change of an area's window, oldest first (from the audit trail)."""
    from sijill.audit.models import AuditEntry

    actor.require(Perm.ROLLOUT_MANAGE)
    return [WindowChange(at=e.at.isoformat(), actor=e.actor_label, before=e.detail.get("before"),
                         after=e.detail.get("after") or {})
            for e in AuditEntry.objects.filter(action="set_rollout", entity="rollout_window",
                                               entity_id=code).order_by("seq")]
