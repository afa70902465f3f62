"""Writers of the outbox: queue a notice, send it, retry it, print letters.

In effect exactly once:
- a notice is queued in the transaction of what caused it, under a unique `key` (queuing it
  again returns the first row), and its send is enqueued only after that transaction commits;
- a send marks the row "sending" and commits before calling the provider, then records the
  outcome. A failure schedules the next attempt (BACKOFF × 2^(n−1), up to MAX_ATTEMPTS) with
  `run_after`; a crash between the provider's acceptance and the record leaves the row
  "sending", and the sweeper (`notifications_due`) takes it up again after the lease. The SMS
  gateway receives the row's `idempotency_key` on every attempt and delivers it once, so the
  retry does not send a second SMS; nothing is lost, because a row leaves the outbox only as
  sent, failed (after every attempt) or expired (a one-time code too old to be of use).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from sijill.accounts.actors import SYSTEM, Actor
from sijill.audit.services import audit_record
from sijill.households.models import Household
from sijill.notifications import conf
from sijill.notifications.backends import (
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    backend_for,
)
from sijill.notifications.models import Channel, Kind, Notification, Status
from sijill.notifications.render import LANGUAGES, render
from sijill.population.models import Person

logger = logging.getLogger(__name__)

REDACTED_CODE = "••••••"
ARABIC = re.compile("[\u0600-\u06ff]")


# ---------------------------------------------------------------------------------------------
# Queueing


def _language_of(household: Household | None, person: Person | None) -> str:
    if household is not None:
        return household.notice_language
    if person is not None:
        current = (Household.objects.filter(memberships__person=person,
                                            memberships__end_date__isnull=True)
                   .values_list("notice_language", flat=True).first())
        if current:
            return current
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in LANGUAGES else "ar"


def _name(person: Person | None, language: str) -> str:
    if person is None:
        return ""
    if language == "ar":
        return f"{person.first_name_ar} {person.family_name_ar}".strip()
    return f"{person.first_name_latin} {person.family_name_latin}".strip()


def _postal_address(household: Household | None, language: str = "fr") -> str:
    """The declared address, then the commune's name in the notice's language."""
    if household is None:
        return ""
    commune = household.commune
    name = commune.name_ar if language == "ar" else commune.name_fr
    return "\n".join(part for part in (household.address, name) if part)


def _lines(text: str) -> list[dict[str, str]]:
    """Lines of an address, each with its own direction (an address in Latin letters inside an
    Arabic letter keeps its numbers where they belong)."""
    return [{"text": line, "dir": "rtl" if ARABIC.search(line) else "ltr"}
            for line in text.splitlines() if line.strip()]


def _pick_channel(channel: str | None, person: Person | None, household: Household | None,
                  email: str) -> str:
    if channel:
        if channel not in Channel.values:
            raise ValueError(f"unknown channel {channel!r}")
        return channel
    if person is not None and person.phone:
        return Channel.SMS
    if household is not None:
        return Channel.LETTER
    if email:
        return Channel.EMAIL
    raise ValueError("no phone on record, no household address and no e-mail: cannot notify")


def _recipient(channel: str, person: Person | None, household: Household | None,
               email: str, language: str) -> str:
    if channel == Channel.SMS:
        if person is None or not person.phone:
            raise ValueError("an SMS needs a person with a phone number on record")
        return person.phone
    if channel == Channel.EMAIL:
        if not email:
            raise ValueError("an e-mail needs an address (email=...)")
        return email
    if household is None:
        raise ValueError("a letter needs a household (its address)")
    return _postal_address(household, language)


def _schedule(notification: Notification) -> None:
    """Enqueue the send (or the print batch) now or at its next attempt."""
    from sijill.notifications import tasks

    if notification.channel == Channel.LETTER:
        return  # letters wait for the next print batch (schedules.py)
    task = tasks.send_notification_task
    when = notification.next_attempt_at
    if when and when > timezone.now():
        if not task.get_backend().supports_defer:
            return  # no deferred tasks on this backend: the sweeper takes it up when due
        task = task.using(run_after=when)
    task.enqueue(notification_id=notification.pk)


def notice_queue(*, kind: str, household: Household | None = None, person: Person | None = None,
                 context: dict[str, Any], key: str, channel: str | None = None,
                 email: str = "", language: str | None = None, actor: Actor = SYSTEM,
                 _secret_context: dict[str, Any] | None = None) -> Notification:
    """Queue one notice (idempotent on `key`: the first row is returned again).

    Recipient: `person`, else the household's declarant. Channel: as given, else SMS to the
    phone on record, else a postal letter to the household's address (e-mail only when asked,
    with `email`). Rendered now in the household's language (`language` overrides it), the
    household's reference number in every notice. The send is enqueued after commit.
    """
    if kind not in Kind.values:
        raise ValueError(f"unknown notice kind {kind!r}")
    existing = Notification.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if household is not None and person is None:
        person = household.declarant
    lang = language or _language_of(household, person)
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    chosen = _pick_channel(channel, person, household, email)
    recipient = _recipient(chosen, person, household, email, lang)
    reference = household.reference if household is not None else ""
    address = _postal_address(household, lang)
    base = {"reference": reference, "recipient_name": _name(person, lang), "address": address,
            "address_lines": _lines(address)}
    shown = render(kind=kind, channel=chosen, language=lang, context={**base, **context})
    secret = ""
    if _secret_context:
        secret = render(kind=kind, channel=chosen, language=lang,
                        context={**base, **context, **_secret_context}).body
    now = timezone.now()
    notification = Notification(
        key=key, kind=kind, channel=chosen, household=household, person=person,
        reference=reference, recipient=recipient, recipient_name=base["recipient_name"],
        language=lang, subject=shown.subject, body=shown.body, html=shown.html,
        secret_body=secret, context=context, created_by=actor.label,
        expires_at=(now + timedelta(seconds=conf.get("SECRET_TTL_SECONDS"))) if secret else None)
    try:
        with transaction.atomic():
            notification.save()
            audit_record(actor=actor, action="notify", entity="notification",
                         entity_id=notification.pk, subject=person.idcs if person else "",
                         detail={"key": key, "kind": kind, "channel": chosen,
                                 "household": reference})
    except IntegrityError:
        # A concurrent caller queued the same key first: theirs is the notice.
        existing = Notification.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing
    transaction.on_commit(lambda: _schedule(notification))
    return notification


def _code_key(person: Person, code: str, purpose: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{person.pk}:{purpose}:{code}".encode(),
                      hashlib.sha256).hexdigest()[:32]
    return f"otp:{person.pk}:{purpose}:{digest}"


def one_time_code_send(*, person: Person, code: str, purpose: str,
                       actor: Actor = SYSTEM) -> Notification:
    """Send a one-time code by SMS to the person's phone on record.

    The outbox row keeps a redacted body ("••••••"); the clear text sits in `secret_body` only
    until the send succeeds, fails for good or SECRET_TTL_SECONDS pass (then the code is not sent
    at all), and is emptied then. The key is an HMAC of the code: the same code for the same
    purpose is sent once. Only the backend sees the clear text (the file backend, demo and
    tests only, writes it to its file: it plays the phone).
    """
    if not person.phone:
        raise ValueError("this person has no phone number on record")
    return notice_queue(kind=Kind.ONE_TIME_CODE, person=person, channel=Channel.SMS,
                        context={"purpose": purpose, "code": REDACTED_CODE},
                        _secret_context={"code": code},
                        key=_code_key(person, code, purpose), actor=actor)


# ---------------------------------------------------------------------------------------------
# Sending


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=conf.get("BACKOFF_SECONDS") * 2 ** max(0, attempts - 1))


def _message(n: Notification) -> OutgoingMessage:
    return OutgoingMessage(notification_id=n.pk, idempotency_key=str(n.idempotency_key),
                           kind=n.kind, channel=n.channel, to=n.recipient,
                           name=n.recipient_name, subject=n.subject,
                           body=n.secret_body or n.body, reference=n.reference,
                           language=n.language)


def _claim(notification_id: int, now: datetime) -> Notification | None:
    """Mark the row "sending" (committed before the provider is called), or None if it is not
    due: sent, failed, expired, not yet time, or another worker holds a fresh lease."""
    lease = timedelta(seconds=conf.get("SENDING_LEASE_SECONDS"))
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if n is None or n.channel == Channel.LETTER:
            return None
        if n.status == Status.SENDING and n.last_attempt_at and n.last_attempt_at > now - lease:
            return None
        if n.status not in (Status.QUEUED, Status.SENDING):
            return None
        if n.status == Status.QUEUED and n.next_attempt_at and n.next_attempt_at > now:
            return None
        if n.expires_at and n.expires_at <= now:
            n.status, n.secret_body, n.next_attempt_at = Status.EXPIRED, "", None
            n.save(update_fields=["status", "secret_body", "next_attempt_at"])
            return None
        n.status, n.last_attempt_at, n.next_attempt_at = Status.SENDING, now, None
        n.attempts += 1
        n.save(update_fields=["status", "last_attempt_at", "next_attempt_at", "attempts"])
    return n


def _record_sent(n: Notification, provider_id: str) -> None:
    with transaction.atomic():
        done = (Notification.objects.filter(pk=n.pk).exclude(status=Status.SENT)
                .update(status=Status.SENT, sent_at=timezone.now(),
                        provider_message_id=provider_id[:120], secret_body="", last_error=""))
        if done and n.kind == Kind.INDEX_NOTICE and n.household_id:
            household_mark_notified(household_id=n.household_id)


def _record_failure(n: Notification, error: str, *, permanent: bool) -> None:
    with transaction.atomic():
        n = Notification.objects.select_for_update().get(pk=n.pk)
        if n.status != Status.SENDING:
            return
        n.last_error = error[:500]
        if permanent or n.attempts >= conf.get("MAX_ATTEMPTS"):
            n.status, n.next_attempt_at, n.secret_body = Status.FAILED, None, ""
        else:
            n.status = Status.QUEUED
            n.next_attempt_at = timezone.now() + backoff(n.attempts)
            transaction.on_commit(lambda: _schedule(n))
        n.save(update_fields=["status", "next_attempt_at", "secret_body", "last_error"])
        if n.status == Status.FAILED:
            _fall_back_to_a_letter(n)


def _fall_back_to_a_letter(n: Notification) -> Notification | None:
    """A notice to a household that could not go by SMS or e-mail goes by post (same content,
    key "<key>:letter"), so it is never lost; a one-time code has no such fallback."""
    if n.kind == Kind.ONE_TIME_CODE or n.household_id is None or n.channel == Channel.LETTER:
        return None
    household = (Household.objects.select_related("declarant", "commune")
                 .get(pk=n.household_id))
    return notice_queue(kind=n.kind, household=household, person=n.person, context=n.context,
                        key=f"{n.key}:letter", channel=Channel.LETTER, language=n.language)


def notification_send(*, notification_id: int, now: datetime | None = None) -> str:
    """One attempt at sending a queued notice; returns its status afterwards. `now` (the
    sweeper's clock) decides what is due."""
    n = _claim(notification_id, now or timezone.now())
    if n is None:
        return (Notification.objects.filter(pk=notification_id)
                .values_list("status", flat=True).first() or "missing")
    try:
        provider_id = backend_for(n.channel).send(_message(n))
    except PermanentFailure as exc:
        _record_failure(n, f"permanent: {exc}", permanent=True)
    except TemporaryFailure as exc:
        _record_failure(n, str(exc) or "temporary failure", permanent=False)
    except Exception as exc:
        logger.exception("notification %s: backend error", n.pk)
        _record_failure(n, f"backend error: {type(exc).__name__}", permanent=False)
    else:
        _record_sent(n, provider_id)
    return Notification.objects.values_list("status", flat=True).get(pk=n.pk)


def _due(now: datetime, grace: timedelta = timedelta(0)) -> list[int]:
    """Notices (not letters) whose attempt is due since `grace`, or whose "sending" lease ran
    out (a crashed worker)."""
    lease = timedelta(seconds=conf.get("SENDING_LEASE_SECONDS"))
    overdue = now - grace
    due = (Q(status=Status.SENDING) & (Q(last_attempt_at__isnull=True)
                                       | Q(last_attempt_at__lte=now - lease))
           | Q(status=Status.QUEUED, next_attempt_at__lte=overdue)
           | Q(status=Status.QUEUED, next_attempt_at__isnull=True, created_at__lte=overdue))
    return list(Notification.objects.exclude(channel=Channel.LETTER).filter(due)
                .order_by("pk").values_list("pk", flat=True))


def notifications_send_due(*, now: datetime | None = None) -> int:
    """Send, in this process, every notice whose time has come and take up the sends whose
    lease ran out (a crashed worker). Returns how many were attempted. (`manage.py
    notifications_send_due`; the periodic job re-enqueues instead.)"""
    now = now or timezone.now()
    due = _due(now)
    for pk in due:
        notification_send(notification_id=pk, now=now)
    return len(due)


def notifications_requeue_overdue(*, now: datetime | None = None,
                                  grace: timedelta = timedelta(minutes=2)) -> int:
    """Enqueue again the sends overdue by more than `grace` (a lost task, a crashed worker, a
    task backend without deferred runs). A duplicate task is harmless: a send claims its row."""
    from sijill.notifications.tasks import send_notification_task

    due = _due(now or timezone.now(), grace)
    for pk in due:
        send_notification_task.enqueue(notification_id=pk)
    return len(due)


# ---------------------------------------------------------------------------------------------
# The household's lifecycle


def household_mark_notified(*, household_id: int) -> None:
    """The index notice left: a scored registration becomes "notified" (households'
    lifecycle). Any other status is left as it is (an update already sent it back)."""
    from sijill.core.errors import Conflict
    from sijill.households.services import household_transition

    reference, status = (Household.objects.filter(pk=household_id)
                         .values_list("reference", "status").get())
    if status != Household.Status.SCORED:
        return
    with contextlib.suppress(Conflict):  # its status changed meanwhile
        household_transition(actor=SYSTEM, reference=reference, to=Household.Status.NOTIFIED,
                             note="index notice sent")
