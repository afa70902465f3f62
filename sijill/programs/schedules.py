"""Periodic jobs of the programs (run by `manage.py scheduler`, see sijill.core.schedule)."""

from __future__ import annotations

from datetime import time, timedelta

from sijill.core.schedule import periodic


@periodic("programs.eligibility_recheck", every=timedelta(days=1), at=time(2, 0),
          timeout=timedelta(hours=6))
def eligibility_recheck() -> str:
    """Re-run every program's conditions over every household (ages move with the calendar);
    only changed decisions are written, changes are sent to the subscribers."""
    from sijill.programs import eligibility
    from sijill.programs.tasks import _notify

    outcomes = eligibility.redecide_all(reason="recheck", recheck=True)
    return f"{_notify(outcomes)} changes"


@periodic("programs.webhook_sweeper", every=timedelta(minutes=1))
def webhook_sweeper() -> str:
    """Enqueue again the webhook deliveries whose attempt is overdue (a crashed worker)."""
    from sijill.programs import webhooks

    return f"{webhooks.requeue_overdue()} deliveries re-queued"
