"""Background work of the programs (django-tasks; enqueued on transaction commit).

Re-decisions are idempotent (only changed decisions are written). django-tasks does not retry:
webhook deliveries retry themselves with exponential backoff (programs.webhooks).
"""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from sijill.core import events
from sijill.programs import eligibility, webhooks
from sijill.programs.models import Program


def _notify(outcomes: list[eligibility.Outcome]) -> int:
    """Tell the subscribers (webhooks) and the other apps (core.events, after the re-decision
    committed) about the changes of eligibility."""
    changed = 0
    for o in outcomes:
        if o.changes:
            webhooks.enqueue_changes(program_code=o.program, changes=o.changes)
            changed += len(o.changes)
            _send_events(o.program, list(o.changes))
    return changed


def _send_events(program_code: str, changes: list[tuple[int, bool]]) -> None:
    def send() -> None:
        events.eligibility_changes.send_robust(sender=Program, program_code=program_code,
                                               changes=changes)
        for household_id, eligible in changes:
            events.eligibility_changed.send_robust(
                sender=Program, household_id=household_id, program_code=program_code,
                eligible=eligible)

    transaction.on_commit(send)


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
