"""Background work of core: running a periodic job claimed by the scheduler."""

from __future__ import annotations

from django_tasks import task

from sijill.core import schedule


@task()
def run_scheduled_job_task(*, name: str) -> str:
    """Run the periodic job `name` (claimed by `manage.py scheduler`); "ok" or "error"."""
    return schedule.execute(name)
