"""Background work of scoring (django-tasks; enqueued on transaction commit).

django-tasks does not retry: each task is safe to run again. A household's score is unique per
(declaration version, formula version); a rescore resumes from what is already scored; an impact
report is read-only and recomputed whole.
"""

from __future__ import annotations

from django_tasks import task

from sijill.scoring import services
from sijill.scoring.models import ScoringRun


@task()
def score_household_task(*, household_id: int, version: int) -> int | None:
    """Score a submitted declaration version with the active formula."""
    score = services.score_household_current(household_id=household_id, version=version)
    return score.pk if score else None


@task()
def rescore_task(*, run_id: int) -> int:
    """Rescore the registry with the run's formula version; returns the rows written."""
    run = services.rescore_run(ScoringRun.objects.get(pk=run_id))
    return int(run.result.get("written", 0))


@task()
def impact_task(*, run_id: int) -> int:
    """Compute an impact report; returns the number of households compared."""
    run = services.impact_run(ScoringRun.objects.get(pk=run_id))
    return int(run.result.get("households", 0))
