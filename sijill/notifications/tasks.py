"""Background sending (django-tasks; enqueued on transaction commit).

django-tasks does not retry: a failed send schedules its next attempt itself (services.backoff,
with run_after), and the periodic job `notifications.requeue_overdue` (schedules.py) enqueues
again what a lost task left behind. Each task is safe to run twice: a send claims its row
first, and the gateway receives the same Idempotency-Key on every attempt.
"""

from __future__ import annotations

from django_tasks import task

from sijill.notifications import letters, services


@task()
def send_notification_task(*, notification_id: int) -> str:
    return services.notification_send(notification_id=notification_id)


@task()
def print_letters_task() -> int:
    """Print every queued letter, in batches; returns how many letters were printed."""
    printed = 0
    while (batch := letters.letters_print()) is not None:
        printed += batch.letters
    return printed


@task()
def send_notifications_task(*, notification_ids: list[int]) -> int:
    """One attempt at sending many notices (queued by `notices_queue_many` or the sweeper);
    returns how many were claimed. Safe to run twice: a row is claimed once."""
    return services.notifications_send_many(notification_ids=notification_ids)
