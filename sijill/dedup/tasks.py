"""Background work of duplicate detection (django-tasks; enqueued on transaction commit).

django-tasks does not retry: a run that failed stays failed (its error recorded); start another.
Running the task again on a finished run changes nothing.
"""

from __future__ import annotations

from django_tasks import task

from sijill.dedup import services


@task()
def dedup_run_task(*, run_id: int) -> int:
    """Execute a deduplication run; returns the number of clusters proposed."""
    return services.run_execute(run_id).clusters
