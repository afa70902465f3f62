"""A death from civil status: the person is recorded deceased, the membership ends, the
household's new declaration is verified and scored (reason "death")."""

from __future__ import annotations

from datetime import date

import pytest

from sijill.households.models import Membership
from sijill.population.models import Person
from sijill.scoring.models import Score
from sijill.verification import services
from sijill.verification.models import Verification
from sijill.verification.tests.conftest import family, truthful

pytestmark = pytest.mark.django_db


# Transactional: the recorded death commits, and the membership ends (a receiver after commit)
# before the verification decides whether its declaration is still the household's current one,
# as in a worker.
@pytest.mark.django_db(transaction=True)
def test_a_death_from_civil_status_ends_the_membership_and_rescores(
        simulator, records, scored_events, django_capture_on_commit_callbacks):
    household, head, spouse = family()
    truthful(records, head)
    records.add("civil_status", [{"idcs": spouse.idcs, "event": "death", "date": "2026-03-02"}])
    first = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_process(first.pk) == "superseded"
    spouse.refresh_from_db()
    assert spouse.status == Person.Status.DECEASED and spouse.death_date == date(2026, 3, 2)
    membership = Membership.objects.get(person=spouse)
    assert membership.end_reason == "deceased"
    household.refresh_from_db()
    assert household.current_version == 2
    first.refresh_from_db()
    assert first.status == "superseded" and first.score_id is None
    # The new declaration (without the spouse) is verified and scored: its start task runs.
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_begin(household_id=household.pk, version=2)
    second = Verification.objects.get(household=household, declaration__version=2)
    second.refresh_from_db()
    household.refresh_from_db()
    assert second.status == "concluded" and household.status == "scored"
    score = Score.objects.get(pk=second.score_id)
    assert score.declaration.version == 2 and len(score.inputs["ages"]) == 1
    assert scored_events == [{"household_id": household.pk, "score_id": score.pk,
                              "reason": "death"}]


def test_a_birth_not_declared_is_a_discrepancy_for_an_agent(
        simulator, records, django_capture_on_commit_callbacks):
    household, head, spouse = family()
    truthful(records, head)
    records.add("civil_status", [{"idcs": spouse.idcs, "event": "birth", "date": "2026-01-15",
                                  "child_idcs": "1234567890"}])
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
    d = household.discrepancies.get(field="undeclared_birth")
    assert d.person_idcs == spouse.idcs and d.partner == "civil_status"
    assert d.verified == {"child_idcs": "1234567890", "birth_date": "2026-01-15"}
