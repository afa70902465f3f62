"""Callbacks to partners (on-search, on-subscribe, on-unsubscribe, txn-on-status, notify):
signed envelopes POSTed with retries.

Each is a DciDelivery row queued in the caller's transaction and sent by a task after commit.
The envelope is built at sending: a header (MsgCallbackHeader: the delivery's message_id, the
time of this attempt, the action, status "succ"), the message, and the registry's signature
(signing.py). A 2xx answer delivers; anything else is retried at 30 s × 2^(n−1), up to 8
attempts, then the delivery is failed. The `dci.callback_sweeper` periodic job re-queues
overdue deliveries (a crashed worker). A receiver de-duplicates on header.message_id.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from sijill.core import retry
from sijill.dci.models import DciDelivery, DciPartner, DciSubscription, DciTransaction

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30
TIMEOUT_SECONDS = 10


def queue(*, partner: DciPartner, action: str, url: str, message: dict[str, Any],
          transaction: DciTransaction | None = None,
          subscription: DciSubscription | None = None) -> DciDelivery:
    from django.db import transaction as db

    d = DciDelivery.objects.create(partner=partner, action=action, url=url, message=message,
                                   message_id=uuid.uuid4().hex, transaction=transaction,
                                   subscription=subscription)
    db.on_commit(lambda: _schedule(d))
    return d


def _schedule(d: DciDelivery) -> None:
    from sijill.dci.tasks import deliver_task

    retry.enqueue_at(deliver_task, run_after=d.next_attempt_at, delivery_id=d.pk,
                     only_if_due=True)  # without deferred tasks the sweeper picks it up


def post(url: str, body: bytes) -> str:
    """POST the envelope; "" on a 2xx answer, else what went wrong."""
    return retry.post(url, body, {"Content-Type": "application/json"}, timeout=TIMEOUT_SECONDS)


def build(d: DciDelivery) -> dict[str, Any]:
    from sijill.dci import services

    items = 1
    for key in ("search_response", "subscribe_response", "notify_event"):
        if isinstance(d.message.get(key), list):
            items = len(d.message[key])
    header = services.callback_header(partner=d.partner, action=d.action, status="succ",
                                      total=items, completed=items, message_id=d.message_id)
    return services.envelope(header, d.message)


def deliver(delivery_id: int, *, only_if_due: bool = False) -> str:
    """One attempt; schedules the next on failure; returns the delivery's status."""
    with transaction.atomic():
        d = (DciDelivery.objects.select_for_update().select_related("partner")
             .filter(pk=delivery_id).first())
        if d is None or d.status != DciDelivery.Status.PENDING:
            return d.status if d else "missing"
        if only_if_due and d.next_attempt_at and d.next_attempt_at > timezone.now():
            return d.status
        body = json.dumps(build(d), separators=(",", ":"), ensure_ascii=False).encode()
        try:
            error = post(d.url, body)
        except (OSError, ValueError) as exc:
            error = type(exc).__name__
        retry.record_attempt(d, error, max_attempts=MAX_ATTEMPTS, base=BACKOFF_SECONDS,
                             delivered=DciDelivery.Status.DELIVERED,
                             failed=DciDelivery.Status.FAILED)
        if d.status == DciDelivery.Status.PENDING:
            transaction.on_commit(lambda: _schedule(d))
    return d.status


def requeue_overdue(*, grace: timedelta = timedelta(minutes=2), limit: int = 1000) -> int:
    from sijill.dci.tasks import deliver_task

    ids = retry.overdue_ids(DciDelivery.objects.filter(status=DciDelivery.Status.PENDING),
                            grace=grace, limit=limit)
    for pk in ids:
        deliver_task.enqueue(delivery_id=pk, only_if_due=True)
    return len(ids)
