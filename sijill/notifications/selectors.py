"""Reads of the outbox: what the file backend sent, a citizen's own notices, the time limit of
the index notice."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from sijill.accounts.actors import Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.households.models import Household, RegistrationEvent
from sijill.notifications import conf
from sijill.notifications.models import Kind, Notification, Status


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def file_messages(channel: str = "sms", *, to: str | None = None) -> list[dict[str, Any]]:
    """What the file backend wrote (oldest first), optionally only to one recipient; the phone
    numbers compare on their digits. For tests and the demo."""
    path = conf.get("OUTBOX_DIR") / f"{channel}.jsonl"
    if not path.exists():
        return []
    wanted = _digits(to) if to is not None and channel == "sms" else to
    out = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            message = json.loads(line)
            got = _digits(message["to"]) if channel == "sms" else message["to"]
            if to is None or got == wanted:
                out.append(message)
    return out


def last_sms_to(phone: str) -> str | None:
    """The text of the last SMS the file backend sent to this phone (clear, codes included)."""
    messages = file_messages("sms", to=phone)
    return messages[-1]["body"] if messages else None


def last_code_to(phone: str) -> str | None:
    """The one-time code in the last SMS of kind one_time_code sent to this phone."""
    for message in reversed(file_messages("sms", to=phone)):
        if message["kind"] == Kind.ONE_TIME_CODE:
            found = re.search(r"\b(\d{4,10})\b", message["body"])
            return found.group(1) if found else None
    return None


# ---------------------------------------------------------------------------------------------
# A citizen's own notices


def notices_of_citizen(*, actor: Actor, limit: int = 100) -> list[Notification]:
    """The notices sent to the citizen or to a household they belong to (now or before) or
    declared; one-time codes are not listed. Audited. An account with no person (an
    administrator's) has none."""
    actor.require(Perm.NOTICE_READ_OWN)
    if not actor.idcs:
        return []
    mine = Household.objects.filter(Q(memberships__person__idcs=actor.idcs)
                                    | Q(declarant__idcs=actor.idcs)).values("pk")
    rows = list(Notification.objects.filter(Q(person__idcs=actor.idcs) | Q(household__in=mine))
                .exclude(kind=Kind.ONE_TIME_CODE).order_by("-created_at", "-id")[:limit])
    audit_record(actor=actor, action="read_notices", entity="notification",
                 entity_id=actor.idcs, subject=actor.idcs, detail={"count": len(rows)})
    return rows


# ---------------------------------------------------------------------------------------------
# The time limit of the index notice


AT_RISK_DAYS = 2  # a household whose notice has not left this close to the limit is at risk


class DeadlineState:
    ON_TIME = "on_time"  # the notice left within the limit
    LATE = "late"  # the notice left after the limit
    PENDING = "pending"  # not left yet, the limit is more than AT_RISK_DAYS away
    AT_RISK = "at_risk"  # not left yet, the limit is AT_RISK_DAYS away or less
    MISSED = "missed"  # not left, and the limit has passed


@dataclass(frozen=True)
class Deadline:
    household_id: int
    reference: str
    status: str
    registered_at: datetime
    deadline: datetime
    notice_sent_at: datetime | None
    state: str

    @property
    def days_left(self) -> float:
        return (self.deadline - timezone.now()).total_seconds() / 86400


def _state(deadline: datetime, sent: datetime | None, now: datetime) -> str:
    if sent is not None:
        return DeadlineState.ON_TIME if sent <= deadline else DeadlineState.LATE
    if now > deadline:
        return DeadlineState.MISSED
    if now >= deadline - timedelta(days=AT_RISK_DAYS):
        return DeadlineState.AT_RISK
    return DeadlineState.PENDING


def _deadline_rows(states: tuple[str, ...], now: datetime, days: int) -> Any:
    """Registrations with their first submission and first index notice sent, narrowed to those
    that can be in `states` (see `notice_deadlines`)."""
    submitted = (RegistrationEvent.objects.filter(household=OuterRef("pk"),
                                                  to_status=Household.Status.SUBMITTED)
                 .order_by("at").values("at")[:1])
    sent = (Notification.objects.filter(household=OuterRef("pk"), kind=Kind.INDEX_NOTICE,
                                        status=Status.SENT)
            .order_by("sent_at").values("sent_at")[:1])
    rows = (Household.objects
            .exclude(status__in=[Household.Status.DRAFT, Household.Status.CANCELLED,
                                 Household.Status.REJECTED])
            .annotate(registered_at=Subquery(submitted), notice_sent_at=Subquery(sent))
            .filter(registered_at__isnull=False))
    wants_sent = bool({DeadlineState.ON_TIME, DeadlineState.LATE} & set(states))
    if not wants_sent:
        # Only registrations still in flight can be waiting for their first notice (a notified
        # one had it): the scan stays small at national scale.
        rows = rows.filter(status__in=[Household.Status.SUBMITTED, Household.Status.VERIFYING,
                                       Household.Status.SCORED], notice_sent_at__isnull=True)
    if set(states) <= {DeadlineState.AT_RISK, DeadlineState.MISSED}:
        rows = rows.filter(registered_at__lte=now - timedelta(days=days - AT_RISK_DAYS))
    return rows


def notice_deadlines(*, states: tuple[str, ...] = (DeadlineState.AT_RISK, DeadlineState.MISSED),
                     now: datetime | None = None, limit: int = 500,
                     ) -> list[Deadline]:
    """Registrations and where their index notice stands against SIJILL["NOTICE_LIMIT_DAYS"],
    counted from the registration's first submission; by default those at risk of missing it
    and those that missed it, the most urgent first. Cancelled and rejected registrations and
    drafts are left out.

    Only registrations submitted within the last (limit + 30) days are examined unless the
    ON_TIME/LATE states are asked for (older ones have long had their notice or missed it)."""
    now = now or timezone.now()
    days = conf.notice_limit_days()
    rows = _deadline_rows(states, now, days)
    out: list[Deadline] = []
    for h in rows.order_by("registered_at", "pk").values(
            "pk", "reference", "status", "registered_at", "notice_sent_at").iterator():
        deadline = h["registered_at"] + timedelta(days=days)
        state = _state(deadline, h["notice_sent_at"], now)
        if state in states:
            out.append(Deadline(household_id=h["pk"], reference=h["reference"],
                                status=h["status"], registered_at=h["registered_at"],
                                deadline=deadline, notice_sent_at=h["notice_sent_at"],
                                state=state))
            if len(out) >= limit:
                break
    return out


def notice_deadline_counts(*, states: tuple[str, ...] = (
        DeadlineState.ON_TIME, DeadlineState.LATE, DeadlineState.PENDING,
        DeadlineState.AT_RISK, DeadlineState.MISSED),
                           now: datetime | None = None) -> dict[str, int]:
    """How many registrations are in each of `states`, counted in the database (the dashboard's
    totals: `notice_deadlines` lists only the most urgent ones). Same rules as `_state`."""
    now = now or timezone.now()
    days = conf.notice_limit_days()
    deadline = ExpressionWrapper(F("registered_at") + timedelta(days=days),
                                 output_field=DateTimeField())
    state = Case(
        When(notice_sent_at__isnull=False, notice_sent_at__lte=deadline,
             then=Value(DeadlineState.ON_TIME)),
        When(notice_sent_at__isnull=False, then=Value(DeadlineState.LATE)),
        When(registered_at__lt=now - timedelta(days=days),
             then=Value(DeadlineState.MISSED)),
        When(registered_at__lte=now - timedelta(days=days - AT_RISK_DAYS),
             then=Value(DeadlineState.AT_RISK)),
        default=Value(DeadlineState.PENDING), output_field=CharField())
    counts = dict.fromkeys(states, 0)
    for name, count in (_deadline_rows(states, now, days).annotate(state=state)
                        .values_list("state").annotate(n=Count("pk")).order_by()):
        if name in counts:
            counts[name] = count
    return counts


def notice_deadlines_read(*, actor: Actor, states: tuple[str, ...], limit: int = 500,
                          ) -> list[Deadline]:
    """notice_deadlines for an operator (NOTICE_MONITOR); the read is audited."""
    actor.require(Perm.NOTICE_MONITOR)
    rows = notice_deadlines(states=states, limit=limit)
    audit_record(actor=actor, action="read_notice_deadlines", entity="household",
                 entity_id="*", detail={"states": list(states), "count": len(rows)})
    return rows


def notice_deadline_counts_read(*, actor: Actor, states: tuple[str, ...]) -> dict[str, int]:
    """notice_deadline_counts for an operator (NOTICE_MONITOR): aggregates, no personal data."""
    actor.require(Perm.NOTICE_MONITOR)
    return notice_deadline_counts(states=states)


def outbox_counts(*, actor: Actor) -> list[Mapping[str, Any]]:
    actor.require(Perm.NOTICE_MONITOR)
    return list(Notification.objects.values("channel", "status").annotate(count=Count("id"))
                .order_by("channel", "status"))
