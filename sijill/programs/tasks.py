"""Background work of the programs (django-tasks; enqueued on transaction commit).

Re-decisions are idempotent (only changed decisions are written). django-tasks does not retry:
webhook deliveries retry themselves with exponential backoff (programs.webhooks).
"""

from __future__ import annotations

from django_tasks import task

from sijill.programs import eligibility, webhooks
from sijill.programs.models import Program


def _notify(outcomes: list[eligibility.Outcome]) -> int:
    changed = 0
    for o in outcomes:
        if o.changes:
            webhooks.enqueue_changes(program_code=o.program, changes=o.changes)
            changed += len(o.changes)
    return changed


@task()
def decide_households_task(*, household_ids: list[int], reason: str | None = None) -> int:
    """Re-decide every program for some households; returns how many changed eligibility."""
    return _notify(eligibility.redecide_all(household_ids=household_ids, reason=reason))


@task()
def redecide_program_task(*, program_id: int, reason: str | None = None) -> int:
    program = Program.objects.get(pk=program_id)
    if program.status not in eligibility.DECIDED_STATUSES:
        return 0  # a closed program decides no more
    return _notify([eligibility.redecide(program, reason=reason)])


@task()
def redecide_all_task(*, reason: str | None = None, recheck: bool = False) -> int:
    return _notify(eligibility.redecide_all(reason=reason, recheck=recheck))


@task()
def deliver_webhook_task(*, delivery_id: int, only_if_due: bool = False) -> str:
    return webhooks.deliver(delivery_id, only_if_due=only_if_due)
