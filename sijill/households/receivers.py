"""Receivers: the population register tells us about deaths; the membership ends."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from sijill.population.services import person_died

log = logging.getLogger(__name__)


@receiver(person_died, dispatch_uid="households.end_membership_on_death")
def _on_person_died(sender: Any, person: Any, actor: Any, **kwargs: Any) -> None:
    """Runs after the death committed: a failure here must not turn the recorded death into an
    error for its caller. It is logged (person pk only) for an operator to replay with
    households.services.household_member_deceased."""
    from sijill.households.services import household_member_deceased

    try:
        household_member_deceased(actor=actor, person=person)
    except Exception:
        log.exception("ending the membership of deceased person pk=%s failed", person.pk)
