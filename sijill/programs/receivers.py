"""Receivers: a new score, a household's changed data, a finished rescore re-decide.

Each enqueues a background re-decision once the triggering transaction commits; the
re-decision itself is idempotent (it writes only what changed), so a repeated or late run is
harmless. A program's own rule change is handled by its service (programs.services).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from sijill.households.signals import household_changed


def _enqueue_households(household_ids: list[int], reason: str) -> None:
    from sijill.programs.tasks import decide_households_task

    transaction.on_commit(lambda: decide_households_task.enqueue(
        household_ids=household_ids, reason=reason))


@receiver(post_save, sender="scoring.Score", dispatch_uid="programs.decide_on_score")
def _on_score(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        _enqueue_households([instance.household_id], "score")


# Steps of processing inside the registry (submitted → verifying → scored → notified): the
# household stays in the population programs decide over, and its data is unchanged, so they
# change no decision. A new score re-decides through its own post_save.
_STEPS_INSIDE_REGISTRY = frozenset({"status_verifying", "status_scored", "status_notified"})


@receiver(household_changed, dispatch_uid="programs.decide_on_household_change")
def _on_household_changed(sender: Any, household_id: int, reason: str = "",
                          **kwargs: Any) -> None:
    if reason in _STEPS_INSIDE_REGISTRY or reason == "registration":
        # A new registration has no score and no decision yet: nothing to decide until its
        # score arrives (which re-decides it through `_on_score`).
        return
    _enqueue_households([household_id], "data")


@receiver(post_save, sender="scoring.ScoringRun", dispatch_uid="programs.decide_after_rescore")
def _on_scoring_run(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A rescore writes scores in bulk (no per-score signal): re-decide everything once it is
    done."""
    if instance.kind == "rescore" and instance.status == "done":
        from sijill.programs.tasks import redecide_all_task

        transaction.on_commit(lambda: redecide_all_task.enqueue(reason="score"))
