"""Receivers: the population register tells us about deaths; the membership ends."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from sijill.population.services import person_died


@receiver(person_died, dispatch_uid="households.end_membership_on_death")
def _on_person_died(sender: Any, person: Any, actor: Any, **kwargs: Any) -> None:
    from sijill.households.services import household_member_deceased

    household_member_deceased(actor=actor, person=person)
