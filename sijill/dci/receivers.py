"""Registry events → DCI notifications (queued only when some subscription may want them).

- core.events.eligibility_changes (programs, once per re-decision) → "eligibility"
  subscriptions of the partners bound to that program;
- core.events.household_scored with reason "registration" (the first index of a registration)
  → "register" subscriptions.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from sijill.core.events import eligibility_changes, household_scored
from sijill.dci.models import DciSubscription


def _wanted(event: str, **filters: Any) -> bool:
    return DciSubscription.objects.filter(event=event, partner__active=True,
                                          status=DciSubscription.Status.SUBSCRIBED,
                                          **filters).exists()


@receiver(eligibility_changes, dispatch_uid="dci.notify_eligibility")
def _on_eligibility_changes(sender: Any, program_code: str, changes: list[tuple[int, bool]],
                            **kwargs: Any) -> None:
    if not changes or not _wanted("eligibility", partner__program__code=program_code):
        return
    from sijill.dci.tasks import notify_task
    from sijill.programs.models import Program

    program_id = Program.objects.filter(code=program_code).values_list("pk", flat=True).first()
    ids = sorted({h for h, _ in changes})
    transaction.on_commit(lambda: notify_task.enqueue(
        event="eligibility", household_ids=ids, program_id=program_id))


@receiver(household_scored, dispatch_uid="dci.notify_register")
def _on_household_scored(sender: Any, household_id: int, reason: str = "",
                         **kwargs: Any) -> None:
    if reason != "registration" or not _wanted("register"):
        return
    from sijill.dci.tasks import notify_task

    transaction.on_commit(lambda: notify_task.enqueue(event="register",
                                                      household_ids=[household_id]))
