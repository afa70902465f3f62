"""Background work of citizen services (django-tasks; safe to run twice).

`escalate_overdue_complaints_task` wraps `services.complaints_escalate_overdue`, which a periodic
scheduler may also call directly; both are idempotent (a complaint is escalated once).
"""

from __future__ import annotations

from django_tasks import task

from sijill.cases import services


@task()
def escalate_overdue_complaints_task() -> int:
    """Escalate the complaints whose answer day has passed; returns how many were escalated."""
    return services.complaints_escalate_overdue()
