"""Background work of duplicate detection (django-tasks; enqueued on transaction commit).

django-tasks does not retry: a run that failed stays failed (its error recorded) until an
administrator retries it (`services.run_retry`). A run whose worker died mid-way (left
"running") is found by the periodic job `dedup.recover_runs` (and before any new run starts) and
enqueued again as a new attempt (`services.runs_recover`). Running the task again on a finished
run, or on one a live worker is executing, changes nothing.
"""

from __future__ import annotations

from django_tasks import task

from sijill.dedup import services


@task()
def dedup_run_task(*, run_id: int) -> int:
    """Execute a deduplication run; returns the number of clusters proposed."""
    return services.run_execute(run_id).clusters
