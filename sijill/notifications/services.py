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
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from sijill.accounts.actors import SYSTEM, Actor
from sijill.audit.services import AuditItem, audit_record, audit_record_many
from sijill.core import retry
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


def _default_language() -> str:
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in LANGUAGES else "ar"


def _language_of(household: Household | None, person: Person | None) -> str:
    if household is not None:
        return household.notice_language
    if person is not None:
        current = (Household.objects.filter(memberships__person=person,
                                            memberships__end_date__isnull=True)
                   .values_list("notice_language", flat=True).first())
        if current:
            return current
    return _default_language()


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


CODE_TASK_PRIORITY = 50  # django-tasks runs higher priorities first (default 0, at most 100)


def _schedule(notification: Notification) -> None:
    """Enqueue the send (or the print batch) now or at its next attempt."""
    from sijill.notifications import tasks

    if notification.channel == Channel.LETTER:
        return  # letters wait for the next print batch (schedules.py)
    task = tasks.send_notification_task
    if notification.kind == Kind.ONE_TIME_CODE:
        # A sign-in code lives 5 minutes and a citizen is waiting: ahead of bulk work.
        task = task.using(priority=CODE_TASK_PRIORITY)
    # Without deferred tasks the sweeper takes a retry up when due.
    retry.enqueue_at(task, run_after=notification.next_attempt_at,
                     notification_id=notification.pk)


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
    notification = _build(
        NoticeSpec(kind=kind, key=key, context=context, household=household, person=person,
                   channel=channel, email=email, language=language),
        actor=actor, now=timezone.now(), secret_context=_secret_context)
    person = notification.person
    try:
        with transaction.atomic():
            notification.save()
            audit_record(actor=actor, action="notify", entity="notification",
                         entity_id=notification.pk, subject=person.idcs if person else "",
                         detail={"key": key, "kind": kind, "channel": notification.channel,
                                 "household": notification.reference})
    except IntegrityError:
        # A concurrent caller queued the same key first: theirs is the notice.
        existing = Notification.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing
    transaction.on_commit(lambda: _schedule(notification))
    return notification


@dataclass(frozen=True)
class NoticeSpec:
    """One notice of a batch (`notices_queue_many`): the arguments of `notice_queue` but the
    actor (one-time codes are not queued in batches: `one_time_code_send`)."""

    kind: str
    key: str
    context: dict[str, Any]
    household: Household | None = None
    person: Person | None = None
    channel: str | None = None
    email: str = ""
    language: str | None = None


def _build(spec: NoticeSpec, *, actor: Actor, now: datetime,
           templates: dict[Any, Any] | None = None,
           secret_context: dict[str, Any] | None = None) -> Notification:
    """The unsaved outbox row of one notice: recipient, channel, language, rendered text (and,
    with `secret_context`, the clear text kept in `secret_body` until sent or expired)."""
    household, person = spec.household, spec.person
    if household is not None and person is None:
        person = household.declarant
    lang = spec.language or _language_of(household, person)
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    chosen = _pick_channel(spec.channel, person, household, spec.email)
    recipient = _recipient(chosen, person, household, spec.email, lang)
    reference = household.reference if household is not None else ""
    address = _postal_address(household, lang)
    base: dict[str, Any] = {"reference": reference, "recipient_name": _name(person, lang),
                            "address": address, "address_lines": _lines(address)}
    shown = render(kind=spec.kind, channel=chosen, language=lang,
                   context={**base, **spec.context}, templates=templates)
    secret = ""
    if secret_context:
        secret = render(kind=spec.kind, channel=chosen, language=lang, templates=templates,
                        context={**base, **spec.context, **secret_context}).body
    return Notification(
        key=spec.key, kind=spec.kind, channel=chosen, household=household, person=person,
        reference=reference, recipient=recipient, recipient_name=base["recipient_name"],
        language=lang, subject=shown.subject, body=shown.body, html=shown.html,
        secret_body=secret, context=spec.context, created_by=actor.label, created_at=now,
        expires_at=(now + timedelta(seconds=conf.get("SECRET_TTL_SECONDS"))) if secret else None)


def notices_queue_many(*, notices: Sequence[NoticeSpec], actor: Actor = SYSTEM,
                       ) -> list[Notification]:
    """Queue many notices at once (an index notice per rescored household, eligibility changes
    in bulk): the same rows, audit entries and guarantees as `notice_queue` once per notice, at
    a fraction of the cost.

    - Idempotent on `key`: keys already in the outbox (or twice in `notices`) are skipped, also
      under a concurrent race (one INSERT ... ON CONFLICT DO NOTHING per chunk of
      SEND_BATCH_MAX rows).
    - One audit entry per notice actually queued, appended in one go (`audit_record_many`).
    - After commit, one batch send task per SEND_BATCH_MAX notices (`send_notifications_task`)
      instead of one task per notice; letters wait for the next print batch as usual.
    - A notice that cannot be addressed (no phone, no household, no e-mail: ValueError in
      `notice_queue`) is left out and logged, so one household does not stop a rescore's
      notices; the call must run inside the caller's transaction like `notice_queue`.

    Returns the rows queued by this call (not those already there).
    """
    if not notices:
        return []
    now = timezone.now()
    chunk = max(1, int(conf.get("SEND_BATCH_MAX")))
    # One query for the households' declarants and communes (rendering reads both).
    household_ids = {s.household.pk for s in notices if s.household is not None}
    households = (Household.objects.select_related("declarant", "commune")
                  .in_bulk(list(household_ids)) if household_ids else {})
    # One query for the languages of the notices to a person without a household.
    alone = {s.person.pk for s in notices
             if s.household is None and s.person is not None and not s.language}
    spoken = dict(Household.objects.filter(memberships__person__in=alone,
                                           memberships__end_date__isnull=True)
                  .values_list("memberships__person", "notice_language")) if alone else {}
    default = _default_language()
    queued: list[Notification] = []
    templates: dict[Any, Any] = {}  # looked up once per kind and channel in this batch
    with transaction.atomic():
        for start in range(0, len(notices), chunk):
            part = notices[start:start + chunk]
            keys = {s.key for s in part}
            taken = set(Notification.objects.filter(key__in=keys).values_list("key", flat=True))
            rows: dict[str, Notification] = {}
            for spec in part:
                if spec.key in taken or spec.key in rows:
                    continue
                if spec.kind not in Kind.values or spec.kind == Kind.ONE_TIME_CODE:
                    raise ValueError(f"unknown notice kind {spec.kind!r} "
                                     "(codes: one_time_code_send)")
                if spec.language and spec.language not in LANGUAGES:
                    raise ValueError(f"unknown language {spec.language!r}")
                if spec.household is not None:
                    spec = replace(spec, household=households.get(spec.household.pk,
                                                                  spec.household))
                elif spec.person is not None and not spec.language:
                    spec = replace(spec, language=spoken.get(spec.person.pk) or default)
                try:
                    rows[spec.key] = _build(spec, actor=actor, now=now, templates=templates)
                except ValueError as exc:
                    logger.warning("notice %s not queued: %s", spec.key, exc)
            if not rows:
                continue
            _insert_ignoring_conflicts(list(rows.values()))
            # The rows are ours when they carry our idempotency keys (a concurrent caller may
            # have queued some of the same keys first: theirs are the notices).
            mine = {str(u): (pk, key) for pk, key, u in Notification.objects.filter(
                key__in=list(rows)).values_list("pk", "key", "idempotency_key")}
            part_queued = []
            for row in rows.values():
                found = mine.get(str(row.idempotency_key))
                if found is not None:
                    row.pk = found[0]
                    row._state.adding, row._state.db = False, connection.alias
                    part_queued.append(row)
            audit_record_many(actor=actor, items=[
                AuditItem(action="notify", entity="notification", entity_id=n.pk,
                          subject=n.person.idcs if n.person else "",
                          detail={"key": n.key, "kind": n.kind, "channel": n.channel,
                                  "household": n.reference})
                for n in part_queued])
            queued.extend(part_queued)
    ids = [n.pk for n in queued if n.channel != Channel.LETTER]
    if ids:
        transaction.on_commit(lambda: _schedule_many(ids))
    return queued


def _column_writers() -> list[tuple[str, Any]]:
    """(column, value of an unsaved row → database value) for every concrete column but the id.
    Text, integer and foreign-key columns pass as they are; the others (UUID, JSON, dates) go
    through their field's own conversion."""
    plain = (models.CharField, models.TextField, models.IntegerField, models.ForeignKey)
    writers: list[tuple[str, Any]] = []
    for field in Notification._meta.concrete_fields:
        if field.primary_key:
            continue
        column = cast(str, field.column)  # a concrete field's column is set
        if isinstance(field, plain) and not isinstance(field, (models.UUIDField,
                                                               models.JSONField)):
            writers.append((column, operator.attrgetter(field.attname)))
        elif isinstance(field, models.DateTimeField):
            writers.append((column, lambda row, name=field.attname: (
                None if (value := getattr(row, name)) is None
                else connection.ops.adapt_datetimefield_value(value))))
        elif isinstance(field, models.UUIDField):
            native = connection.features.has_native_uuid_field
            writers.append((column, lambda row, name=field.attname, native=native: (
                getattr(row, name) if native else getattr(row, name).hex)))
        else:
            writers.append((column, lambda row, f=field: f.get_db_prep_save(
                getattr(row, f.attname), connection)))
    return writers


def _insert_ignoring_conflicts(rows: list[Notification]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING for every row, in one `executemany` (pipelined by
    psycopg on PostgreSQL, a loop in C on SQLite): a key already in the outbox (or being queued
    by a concurrent transaction, which PostgreSQL waits for) is skipped. Written by hand: the
    ORM's bulk_create spends more time preparing the statement than the database takes to run
    it, and on PostgreSQL one statement of 500 rows (14,000 parameters) costs more than 500
    pipelined single-row ones (measured)."""
    writers = _column_writers()
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column, _ in writers)
    values = ", ".join(["%s"] * len(writers))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values}) "  # noqa: S608
                           "ON CONFLICT DO NOTHING",
                           [[write(row) for _column, write in writers] for row in rows])


def _schedule_many(ids: list[int]) -> None:
    """Enqueue one batch send task per SEND_BATCH_MAX notices."""
    from sijill.notifications import tasks

    chunk = max(1, int(conf.get("SEND_BATCH_MAX")))
    for start in range(0, len(ids), chunk):
        tasks.send_notifications_task.enqueue(notification_ids=ids[start:start + chunk])


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
    return retry.backoff(attempts, base=conf.get("BACKOFF_SECONDS"))


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
        if n is None:
            return None
        verdict = _claimable(n, now, lease)
        if verdict is None:
            n.status, n.secret_body, n.next_attempt_at = Status.EXPIRED, "", None
            n.save(update_fields=["status", "secret_body", "next_attempt_at"])
            return None
        if not verdict:
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


# ---------------------------------------------------------------------------------------------
# Sending in batches: the same claim → send → record, for many rows at once


def _claimable(n: Notification, now: datetime, lease: timedelta) -> bool | None:
    """True to claim, False to leave, None to expire: the rules of `_claim` and `_claim_many`
    (not a letter, not held under a fresh lease, queued or sending, due, not expired)."""
    if n.channel == Channel.LETTER:
        return False
    if n.status == Status.SENDING and n.last_attempt_at and n.last_attempt_at > now - lease:
        return False
    if n.status not in (Status.QUEUED, Status.SENDING):
        return False
    if n.status == Status.QUEUED and n.next_attempt_at and n.next_attempt_at > now:
        return False
    if n.expires_at and n.expires_at <= now:
        return None
    return True


def _claim_many(*, now: datetime, ids: Sequence[int] | None = None,
                limit: int | None = None) -> list[Notification]:
    """Mark many rows "sending" in one short transaction, committed before any provider is
    called: the given `ids`, or up to `limit` due rows (`_due`). Rows another worker holds
    locked are skipped (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises
    writers), and a row claimed by another worker meanwhile is "sending" with a fresh lease:
    two workers never claim the same row."""
    lease = timedelta(seconds=conf.get("SENDING_LEASE_SECONDS"))
    limit = limit or int(conf.get("SEND_BATCH_MAX"))
    with transaction.atomic():
        if ids is not None:
            rows = Notification.objects.filter(pk__in=list(ids))
        else:
            rows = Notification.objects.exclude(channel=Channel.LETTER).filter(_due_q(now))
        rows = rows.order_by("pk").defer("html", "context")  # not needed to send
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        found = list(rows[:limit] if ids is None else rows)
        claimed, expired = [], []
        for n in found:
            verdict = _claimable(n, now, lease)
            if verdict is None:
                expired.append(n.pk)
            elif verdict:
                claimed.append(n)
        if expired:
            Notification.objects.filter(pk__in=expired).update(
                status=Status.EXPIRED, secret_body="", next_attempt_at=None)
        if claimed:
            Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
                status=Status.SENDING, last_attempt_at=now, next_attempt_at=None,
                attempts=F("attempts") + 1)
            for n in claimed:
                n.status, n.last_attempt_at, n.next_attempt_at = Status.SENDING, now, None
                n.attempts += 1
    return claimed


def _mark_sent(pks: list[int], provider: dict[int, str]) -> None:
    """UPDATE ... SET status 'sent', provider_message_id = CASE id WHEN ... END WHERE id IN
    (...), in chunks (SQLite's limit on bound parameters). Written by hand: the ORM's Case/When
    costs more to build than the database takes to run it."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    sent_at = connection.ops.adapt_datetimefield_value(timezone.now())
    for start in range(0, len(pks), 300):
        part = pks[start:start + 300]
        whens = " ".join(["WHEN %s THEN %s"] * len(part))
        marks = ", ".join(["%s"] * len(part))
        params: list[Any] = []
        for pk in part:
            params += [pk, provider[pk]]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, sent_at = %s, secret_body = '', "  # noqa: S608
                f"last_error = '', provider_message_id = CASE id {whens} ELSE "
                f"provider_message_id END WHERE id IN ({marks})",
                [Status.SENT, sent_at, *params, *part])


def _record_sent_many(sent: list[tuple[Notification, str]]) -> None:
    """Mark sent, in one UPDATE, the rows not already sent; the index notices among them move
    their households (still "scored") to "notified"."""
    if not sent:
        return
    provider = {n.pk: pid[:120] for n, pid in sent}
    with transaction.atomic():
        pending = list(Notification.objects.select_for_update().filter(pk__in=list(provider))
                       .exclude(status=Status.SENT).values_list("pk", flat=True))
        if not pending:
            return
        _mark_sent(pending, provider)
        done = set(pending)
        households = {n.household_id for n, _ in sent if n.pk in done
                      and n.kind == Kind.INDEX_NOTICE and n.household_id}
        if households:
            for household_id in Household.objects.filter(
                    pk__in=households, status=Household.Status.SCORED).values_list("pk",
                                                                                  flat=True):
                household_mark_notified(household_id=household_id)


def _send_claimed(claimed: list[Notification]) -> None:
    """Hand claimed rows to their backends (outside any transaction), then record."""
    by_channel: dict[str, list[Notification]] = {}
    for n in claimed:
        by_channel.setdefault(n.channel, []).append(n)
    sent: list[tuple[Notification, str]] = []
    failed: list[tuple[Notification, Exception]] = []
    for channel, rows in by_channel.items():
        try:
            results = backend_for(channel).send_many([_message(n) for n in rows])
        except Exception as exc:  # the whole batch failed (the backend itself)
            logger.exception("notifications %s…: backend error", rows[0].pk)
            results = [exc] * len(rows)
        for n, result in zip(rows, results, strict=True):
            if isinstance(result, Exception):
                failed.append((n, result))
            else:
                sent.append((n, result))
    _record_sent_many(sent)
    for n, error in failed:
        if isinstance(error, PermanentFailure):
            _record_failure(n, f"permanent: {error}", permanent=True)
        elif isinstance(error, TemporaryFailure):
            _record_failure(n, str(error) or "temporary failure", permanent=False)
        else:
            logger.error("notification %s: backend error %r", n.pk, error)
            _record_failure(n, f"backend error: {type(error).__name__}", permanent=False)


def notifications_send_many(*, notification_ids: Sequence[int],
                            now: datetime | None = None) -> int:
    """One attempt at sending many queued notices (the batch send task): claim those due in one
    transaction, send them (the file backend in one write; the gateway one request per message,
    each with its Idempotency-Key), record them sent in one UPDATE. Rows not due, already sent
    or held by another worker are left alone, as `notification_send` does. Returns how many
    were claimed."""
    claimed = _claim_many(now=now or timezone.now(), ids=notification_ids)
    if claimed:
        _send_claimed(claimed)
    return len(claimed)


def notifications_send_due_batch(*, now: datetime | None = None,
                                 limit: int | None = None) -> int:
    """Claim up to `limit` (SEND_BATCH_MAX) due notices, whichever no other worker holds, and
    send them as one batch. Returns how many were claimed (0: nothing left to do). Several
    workers may run it at once: they take disjoint rows."""
    claimed = _claim_many(now=now or timezone.now(), limit=limit)
    if claimed:
        _send_claimed(claimed)
    return len(claimed)


def _due(now: datetime, grace: timedelta = timedelta(0)) -> list[int]:
    """Notices (not letters) whose attempt is due since `grace`, or whose "sending" lease ran
    out (a crashed worker)."""
    return list(Notification.objects.exclude(channel=Channel.LETTER).filter(_due_q(now, grace))
                .order_by("pk").values_list("pk", flat=True))


def _due_q(now: datetime, grace: timedelta = timedelta(0)) -> Q:
    lease = timedelta(seconds=conf.get("SENDING_LEASE_SECONDS"))
    overdue = now - grace
    return (Q(status=Status.SENDING) & (Q(last_attempt_at__isnull=True)
                                        | Q(last_attempt_at__lte=now - lease))
            | Q(status=Status.QUEUED, next_attempt_at__lte=overdue)
            | Q(status=Status.QUEUED, next_attempt_at__isnull=True, created_at__lte=overdue))


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
    due = _due(now or timezone.now(), grace)
    if due:
        _schedule_many(due)  # one batch send task per SEND_BATCH_MAX
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
