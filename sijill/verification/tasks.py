"""Background work of verification (django-tasks; enqueued on commit, safe to run twice).

The task libraries do not retry: a failed partner call is recorded and the next pass is queued
with `run_after` at the backoff time (backends that cannot defer rely on the sweeper,
`verification_sweep_task` / `manage.py verification_sweep`, which also redoes the work of a task
lost with a killed worker).
"""

from __future__ import annotations

from django_tasks import task

from sijill.verification import services


@task()
def verification_start_task(*, household_id: int, version: int) -> str:
    """A submitted declaration version: start its verification and make the first pass."""
    return services.verification_begin(household_id=household_id, version=version)


@task()
def verify_household_task(*, verification_id: int) -> str:
    """One pass over a household's due partners (in parallel), then conclude or reschedule."""
    return services.verification_process(verification_id)


@task()
def verify_households_task(*, verification_ids: list[int]) -> dict[str, str]:
    """One pass over several households: the due partners of all of them asked together, each
    household then recorded and advanced on its own (`services.verifications_process`)."""
    states = services.verifications_process(verification_ids)
    return {str(k): v for k, v in states.items()}


@task()
def verification_deadline_task(*, verification_id: int) -> str:
    """At the deadline: score on what was verified, flag the rest (partners keep retrying)."""
    return services.verification_advance(verification_id)


@task()
def verification_sweep_task() -> int:
    """Queue the passes that are due (deferred attempts, deadlines, lost tasks)."""
    return services.verification_sweep()


@task()
def verification_import_task(*, partner: str, path: str) -> int:
    """Import a partner's daily batch file; returns the checks it answered."""
    return services.batch_import(partner=partner, path=path).matched
