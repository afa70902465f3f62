"""Background work of the DCI API (django-tasks; each safe to run twice)."""

from __future__ import annotations

from django_tasks import task

from sijill.dci import delivery, services


@task()
def process_search_task(*, transaction_pk: int) -> str:
    return services.process_search(transaction_pk)


@task()
def deliver_task(*, delivery_id: int, only_if_due: bool = False) -> str:
    return delivery.deliver(delivery_id, only_if_due=only_if_due)


@task()
def notify_task(*, event: str, household_ids: list[int], program_id: int | None = None) -> int:
    return services.notify(event=event, household_ids=household_ids, program_id=program_id)
