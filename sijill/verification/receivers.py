"""Receivers: a submitted declaration version is verified (then scored) in the background."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from sijill.households.signals import household_submitted, households_submitted

log = logging.getLogger(__name__)


@receiver(household_submitted, dispatch_uid="verification.verify_on_submission")
def _on_household_submitted(sender: Any, household_id: int, version: int,
                            **kwargs: Any) -> None:
    """Sent after commit: the verification starts in the background (`verification_start_task`),
    so the registration request does not pay for it. The registration stands whatever happens
    here; a failure is logged (household pk only) and the sweeper starts the verification once
    it is late (`verification_sweep`)."""
    from sijill.verification.tasks import verification_start_task

    try:
        verification_start_task.enqueue(household_id=household_id, version=version)
    except Exception:
        log.exception("queueing the verification of household pk=%s failed", household_id)


@receiver(households_submitted, dispatch_uid="verification.verify_bulk_submission")
def _on_households_submitted(sender: Any, household_ids: list[int], version: int,
                             **kwargs: Any) -> None:
    """A chunk of households written in bulk: started here, in the announcing task, and their
    first passes queued VERIFICATION_BATCH_SIZE households per task (partners asked together),
    not one task per household."""
    from sijill.verification.services import verifications_start_many

    verifications_start_many(household_ids=household_ids, version=version)
