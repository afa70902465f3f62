"""Receivers: a submitted declaration version is scored in the background."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from sijill.households.signals import household_submitted


@receiver(household_submitted, dispatch_uid="scoring.score_on_submission")
def _on_household_submitted(sender: Any, household_id: int, version: int, **kwargs: Any) -> None:
    from sijill.scoring.tasks import score_household_task

    score_household_task.enqueue(household_id=household_id, version=version)
