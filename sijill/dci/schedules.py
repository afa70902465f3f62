"""Periodic jobs of the DCI API (sijill.core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from sijill.core.schedule import periodic


@periodic("dci.callback_sweeper", every=timedelta(minutes=1))
def callback_sweeper() -> str:
    """Enqueue again the callbacks and notifications whose attempt is overdue."""
    from sijill.dci import delivery

    return f"{delivery.requeue_overdue()} deliveries re-queued"
