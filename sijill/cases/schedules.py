"""Periodic jobs of citizen services (run by `manage.py scheduler`, see sijill.core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from sijill.core.schedule import periodic


@periodic("cases.escalate_complaints", every=timedelta(hours=1))
def escalate_complaints() -> str:
    """Escalate unanswered complaints whose answer day has passed (idempotent)."""
    from sijill.cases.services import complaints_escalate_overdue

    return f"{complaints_escalate_overdue()} complaints escalated"
