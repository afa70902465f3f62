"""Background work of the social registry (django-tasks; safe to run twice)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from sijill.households.models import Household
from sijill.households.signals import households_submitted


@task()
def households_submitted_task(*, household_ids: list[int], version: int = 1) -> int:
    """Announce households written in bulk (the file import) as submitted: one
    `households_submitted` for those of the chunk still at `version` (verification starts them
    together and asks their partners together), what a registration's `household_submitted`
    does for one household. One task per chunk of an import, not one per household; what the
    receivers write commits once per task. Safe to run twice: the receivers are idempotent
    (one verification per declaration version). Returns the households announced."""
    ids = list(Household.objects.filter(pk__in=household_ids, current_version=version)
               .exclude(status=Household.Status.CANCELLED).order_by("pk")
               .values_list("pk", flat=True))
    if ids:
        with transaction.atomic():
            households_submitted.send(sender=Household, household_ids=ids, version=version)
    return len(ids)
