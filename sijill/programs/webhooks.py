"""Signed webhooks of eligibility changes, with retries and exponential backoff.

A change of eligibility (a household becomes eligible or stops being eligible) is queued as a
delivery to every active subscription of the program, in batches of up to BATCH changes. The
body is JSON; the headers carry

    X-Sijill-Event-Id:   the delivery's event id (a receiver de-duplicates on it)
    X-Sijill-Timestamp:  seconds since the epoch when sent
    X-Sijill-Signature:  sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

django-tasks does not retry, so a failed attempt schedules the next one itself (run_after) at
BACKOFF_SECONDS × 2^(attempt − 1), up to MAX_ATTEMPTS; then the delivery is marked failed.
`deliver_due` re-sends pending deliveries whose time has come (for a backend without deferred
tasks, or a lost task). A payload names households by reference and head's IDCS, and says
eligible or not: nothing of the declaration.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from sijill.core import retry
from sijill.households.models import Household
from sijill.programs.models import Program, Subscription, WebhookDelivery

BATCH = 500
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30
TIMEOUT_SECONDS = 10


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a receiver does (documented, and used by the tests)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempts: int) -> timedelta:
    return retry.backoff(attempts, base=BACKOFF_SECONDS)


def _schedule(delivery: WebhookDelivery) -> None:
    from sijill.programs.tasks import deliver_webhook_task

    # Without deferred tasks, deliver_due() picks a retry up when due.
    retry.enqueue_at(deliver_webhook_task, run_after=delivery.next_attempt_at,
                     delivery_id=delivery.pk, only_if_due=True)


def enqueue_changes(*, program_code: str, changes: Sequence[tuple[int, bool]]) -> int:
    """Queue deliveries of eligibility changes to the program's subscribers."""
    program = Program.objects.get(code=program_code)
    subscriptions = list(Subscription.objects.filter(program=program, active=True))
    if not subscriptions or not changes:
        return 0
    created: list[WebhookDelivery] = []
    with transaction.atomic():
        for start in range(0, len(changes), BATCH):
            batch = changes[start:start + BATCH]
            names = dict(Household.objects.filter(pk__in=[h for h, _ in batch])
                         .values_list("pk", "reference"))
            heads = dict(Household.objects.filter(pk__in=[h for h, _ in batch])
                         .values_list("pk", "head__idcs"))
            items = [{"household": names.get(h), "head_idcs": heads.get(h), "eligible": e}
                     for h, e in batch]
            for sub in subscriptions:
                event_id = uuid.uuid4().hex
                created.append(WebhookDelivery.objects.create(
                    subscription=sub, event_id=event_id,
                    payload={"event": "eligibility.changed", "event_id": event_id,
                             "program": program.code, "changes": items}))
        for d in created:
            transaction.on_commit(partial(_schedule, d))
    return len(created)


def post(url: str, body: bytes, headers: dict[str, str]) -> str:
    """POST the body; "" on a 2xx answer, else what went wrong (tests replace this)."""
    return retry.post(url, body, headers, timeout=TIMEOUT_SECONDS)


def deliver(delivery_id: int, *, only_if_due: bool = False) -> str:
    """One attempt; schedules the next on failure. Returns the delivery's status.

    Tasks pass `only_if_due`: a duplicate task (the sweeper's and the deferred one) finds the
    next attempt not due yet and does nothing."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update().select_related("subscription")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return delivery.status if delivery else "missing"
        if only_if_due and delivery.next_attempt_at and delivery.next_attempt_at > timezone.now():
            return delivery.status  # a duplicate task (the sweeper's): not due yet
        sub = delivery.subscription
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        stamp = int(time.time())
        error = ""
        try:
            error = post(sub.url, body, {
                "Content-Type": "application/json",
                "X-Sijill-Event-Id": delivery.event_id,
                "X-Sijill-Timestamp": str(stamp),
                "X-Sijill-Signature": sign(sub.secret, stamp, body),
            })
        except (OSError, ValueError) as exc:
            error = type(exc).__name__
        retry.record_attempt(delivery, error, max_attempts=MAX_ATTEMPTS, base=BACKOFF_SECONDS,
                             delivered=WebhookDelivery.Status.DELIVERED,
                             failed=WebhookDelivery.Status.FAILED)
        if delivery.status == WebhookDelivery.Status.PENDING:
            transaction.on_commit(lambda: _schedule(delivery))
    return delivery.status


def requeue_overdue(*, grace: timedelta = timedelta(minutes=2), limit: int = 1000) -> int:
    """The sweeper (a periodic job): enqueue again the pending deliveries whose attempt is
    overdue by more than `grace` (a crashed worker, a lost task, a backend without deferred
    tasks). A duplicate task is harmless: `deliver` locks the row and skips what is not due."""
    from sijill.programs.tasks import deliver_webhook_task

    ids = retry.overdue_ids(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING),
                            grace=grace, limit=limit)
    for pk in ids:
        deliver_webhook_task.enqueue(delivery_id=pk, only_if_due=True)
    return len(ids)


def deliver_due() -> int:
    """Attempt every pending delivery whose time has come (a sweeper)."""
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).filter(
        next_attempt_at__lte=timezone.now()).values_list("pk", flat=True)
    return sum(1 for pk in list(due) if deliver(pk))
