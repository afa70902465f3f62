"""Background work of the social registry (django-tasks; safe to run twice)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from sijill.households.models import Household
from sijill.households.signals import household_submitted


@task()
def households_submitted_task(*, household_ids: list[int], version: int = 1) -> int:
    """Announce households written in bulk (the file import) as submitted: `household_submitted`
    for each one still at `version`, what a registration sends after its commit (verification
    starts, then scoring). One task per chunk of an import, not one per household; what the
    receivers write commits once per task. Safe to run twice: the receivers are idempotent
    (one verification per declaration version). Returns the households announced."""
    rows = list(Household.objects.filter(pk__in=household_ids, current_version=version)
                .exclude(status=Household.Status.CANCELLED).order_by("pk")
                .values_list("pk", "reference"))
    with transaction.atomic():
        for pk, reference in rows:
            household_submitted.send(sender=Household, household_id=pk, reference=reference,
                                     version=version)
    return len(rows)
