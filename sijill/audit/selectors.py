"""Reads of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone, translation

from sijill.audit.models import AuditEntry

MAX_ACCESSES = 200


@dataclass(frozen=True)
class Access:
    """One access to a person's data as the person sees it.

    Who is a role and an organisation (a service centre, a partner administration, a program),
    never a staff member's name or account: the citizen learns which body looked and why; the
    individual is known to the body's own supervisors through the full entry (`seq`).
    """

    seq: int
    at: datetime
    action: str
    entity: str
    role: str
    organisation: str
    purpose: str


def _membership_windows(idcs: str) -> Q:
    """Entries about the households the person belongs or belonged to, while they did."""
    from sijill.households.models import Membership  # the audit app sits below households

    q = Q()
    for reference, start, end in (Membership.objects.filter(person__idcs=idcs)
                                  .values_list("household__reference", "start_date",
                                               "end_date")):
        since = timezone.make_aware(datetime.combine(start, time.min))
        window = Q(at__gte=since)
        if end is not None:
            window &= Q(at__lt=timezone.make_aware(datetime.combine(end + timedelta(days=1),
                                                                     time.min)))
        q |= window & (Q(entity="household", entity_id=reference)
                       | Q(entity="score", detail__household=reference))
    return q


def _organisations(entries: list[AuditEntry]) -> dict[str, str]:
    """Organisation of each actor label: a user's service centre, a token's holder."""
    from sijill.accounts.models import ApiToken, User

    user_ids = {int(e.actor_label[5:]) for e in entries if e.actor_label.startswith("user:")}
    token_ids = {int(e.actor_label[6:]) for e in entries if e.actor_label.startswith("token:")}
    names: dict[str, str] = {"system": "Sijill"}
    french = translation.get_language() in {"fr", "en"}
    for pk, centre_ar, centre_fr in (User.objects.filter(pk__in=user_ids)
                                     .values_list("pk", "centre__name_ar", "centre__name_fr")):
        names[f"user:{pk}"] = (centre_fr if french else centre_ar) or ""
    for pk, name in ApiToken.objects.filter(pk__in=token_ids).values_list("pk", "name"):
        names[f"token:{pk}"] = name
    return names


def accesses_of(*, idcs: str, before_seq: int | None = None,
                limit: int = 50) -> list[Access]:
    """Accesses to one person's data, newest first: entries whose subject is the person, and
    entries about their households (reads, changes, scores) while they were a member.

    Pages with `before_seq` (the smallest `seq` of the previous page).
    """
    limit = max(1, min(limit, MAX_ACCESSES))
    query = AuditEntry.objects.filter(Q(subject=idcs) | _membership_windows(idcs))
    if before_seq is not None:
        query = query.filter(seq__lt=before_seq)
    entries = list(query.order_by("-seq")
                   .only("seq", "at", "action", "entity", "actor_role", "actor_label", "purpose")
                   [:limit])
    organisations = _organisations(entries)
    # The system actor runs with every permission (role "admin"): it is shown as what it is.
    return [Access(seq=e.seq, at=e.at, action=e.action, entity=e.entity,
                   role="system" if e.actor_label == "system" else e.actor_role,
                   organisation=organisations.get(e.actor_label, ""), purpose=e.purpose)
            for e in entries]
