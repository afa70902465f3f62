"""A submission's verification starts in a background task, not in the registration request;
the sweeper starts those whose start task was lost, never a household waiting for an update."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sijill.accounts.actors import SYSTEM
from sijill.households.tests.factories import child_create
from sijill.households.tests.test_declarant_writes import household_of
from sijill.population.services import person_record_death
from sijill.testing.factories import person_create
from sijill.testing.worker import run_worker
from sijill.verification import services
from sijill.verification.models import Verification
from sijill.verification.tests.conftest import _family, truthful

pytestmark = pytest.mark.django_db

START = "verification_start_task"


def _queued_starts() -> list[dict[str, Any]]:
    return [r.args_kwargs["kwargs"] for r in
            DBTaskResult.objects.filter(task_path__endswith=START).order_by("pk")]


def test_a_submission_queues_the_start_of_its_verification_and_starts_nothing_itself(
        simulator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        household, _head, _ = _family()
    assert _queued_starts() == [{"household_id": household.pk, "version": 1}]
    assert not Verification.objects.filter(household=household).exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_starts_the_verification_and_asks_every_partner_at_once(simulator, records):
    household, head, _ = _family()  # commits: the start task is queued in the database
    truthful(records, head)
    run_worker(SIJILL_PARTNER_URL=simulator.url)
    verification = Verification.objects.get(household=household)
    household.refresh_from_db()
    assert verification.status == "concluded"
    assert household.status == "notified"  # the worker went on to score and notify it
    assert simulator.control()["requests"]["vehicles"] == 1


def test_a_start_task_run_twice_starts_one_verification(simulator, records):
    household, head, _ = _family()
    truthful(records, head)
    assert services.verification_begin(household_id=household.pk, version=1) == "concluded"
    services.verification_begin(household_id=household.pk, version=1)
    assert Verification.objects.filter(household=household).count() == 1
    assert simulator.control()["requests"]["vehicles"] == 1


def test_the_start_of_a_version_that_does_not_exist_does_nothing(simulator):
    household, _head, _ = _family()
    assert services.verification_begin(household_id=household.pk, version=9) == "gone"
    assert not Verification.objects.exists()


def test_the_sweeper_starts_a_verification_whose_start_task_was_lost(simulator, records):
    household, head, _ = _family()  # committed, but its start task never ran
    truthful(records, head)
    assert services.verification_sweep() == 0  # not late yet: the task may still run
    later = timezone.now() + timedelta(minutes=11)
    assert services.verification_sweep(now=later, inline=True) == 1
    household.refresh_from_db()
    assert Verification.objects.get(household=household).status == "concluded"
    assert household.status == "scored"
    assert services.verification_sweep(now=later, inline=True) == 0


def _aged(years: int) -> date:
    return date(timezone.localdate().year - years, 1, 1)


def _waiting_for_an_adult_declarant(capture: Any) -> Any:
    """A 17-year-old head and a 12-year-old sibling whose 25-year-old declarant sister died:
    version 2 waits for an updated declaration naming an adult."""
    adult = settings.SIJILL["ADULT_AGE"]
    head, small = child_create(birth_date=_aged(adult - 1)), child_create(birth_date=_aged(12))
    sister = person_create(birth_date=_aged(25), sex="F")
    household = household_of([(head, "head"), (sister, "sibling"), (small, "sibling")],
                             declarant=sister)
    with capture(execute=True):  # the death reaches the household
        person_record_death(actor=SYSTEM, idcs=sister.idcs, death_date=timezone.localdate())
    household.refresh_from_db()
    return household


def test_the_sweeper_leaves_a_household_waiting_for_an_adult_declarant(
        simulator, django_capture_on_commit_callbacks):
    household = _waiting_for_an_adult_declarant(django_capture_on_commit_callbacks)
    assert household.status == "submitted" and household.current_version == 2
    assert services.verification_sweep(now=timezone.now() + timedelta(minutes=11),
                                       inline=True) == 0
    assert not Verification.objects.filter(household=household).exists()


def test_a_start_arriving_late_for_an_older_version_leaves_the_current_one_alone(
        simulator, records, django_capture_on_commit_callbacks):
    from sijill.declaration.model import Declaration
    from sijill.households.services import declaration_of, household_declaration_update

    household, head, _ = _family()
    truthful(records, head)
    data = declaration_of(household.versions.get(version=1)).to_dict()
    data["household"]["rooms"] = 5
    household_declaration_update(actor=SYSTEM, reference=household.reference,
                                 declaration=Declaration.from_dict(data))
    # Version 2's start runs first, version 1's (queued earlier) after it.
    assert services.verification_begin(household_id=household.pk, version=2) == "concluded"
    assert services.verification_begin(household_id=household.pk, version=1) == "gone"
    [verification] = Verification.objects.filter(household=household)
    assert verification.declaration.version == 2 and verification.status == "concluded"


def test_the_sweeper_leaves_households_never_sent_to_verification_to_the_operator(simulator):
    from sijill.households.models import Household

    household, _head, _ = _family()
    # As the synthetic loader writes them: submitted, never announced.
    Household.objects.filter(pk=household.pk).update(verification_requested_at=None)
    later = timezone.now() + timedelta(minutes=11)
    assert services.verification_sweep(now=later, inline=True) == 0
    assert not Verification.objects.exists()
    assert services.verifications_start_pending() == 1  # `manage.py verification_start`


def test_a_start_for_a_household_waiting_for_an_update_does_nothing_and_is_answered(
        simulator, django_capture_on_commit_callbacks):
    household = _waiting_for_an_adult_declarant(django_capture_on_commit_callbacks)
    assert services.verification_begin(household_id=household.pk, version=2) == "gone"
    household.refresh_from_db()
    assert household.verification_requested_at is None  # the update will ask again
    assert not Verification.objects.exists()
