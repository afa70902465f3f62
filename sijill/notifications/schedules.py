"""Periodic jobs of the notifications (run by `manage.py scheduler`, see sijill.core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from sijill.core.schedule import periodic


@periodic("notifications.requeue_overdue", every=timedelta(minutes=1))
def requeue_overdue() -> str:
    """Enqueue again the sends overdue by two minutes (a lost task, a crashed worker: the send
    goes again with the same idempotency key)."""
    from sijill.notifications.services import notifications_requeue_overdue

    return f"{notifications_requeue_overdue()} sends re-queued"


@periodic("notifications.print_letters", every=timedelta(hours=1),
          timeout=timedelta(hours=2))
def print_letters() -> str:
    """Gather the queued letters into print batches (one PDF each)."""
    from sijill.notifications.tasks import print_letters_task

    return f"{print_letters_task.call()} letters printed"
