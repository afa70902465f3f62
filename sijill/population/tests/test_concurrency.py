"""Races that only PostgreSQL makes real: many enrolments at once."""

import pytest

from sijill.accounts.actors import SYSTEM
from sijill.core.errors import Conflict
from sijill.population.models import Person
from sijill.population.services import person_enrol
from sijill.testing import factories
from sijill.testing.concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _enrol(data, **options):
    """Enrol, returning the exception a refused enrolment raises: the tests inspect each."""
    try:
        return person_enrol(actor=SYSTEM, data=data, **options)
    except Exception as exc:
        return exc


def test_many_enrolments_at_once_give_as_many_persons_and_distinct_idcs():
    inputs = [factories.enrolment_input() for _ in range(40)]
    results = at_once([lambda data=data: _enrol(data, hold_on_duplicates=False)
                       for data in inputs])
    assert all(not isinstance(r, Exception) for r in results), results
    assert Person.objects.count() == 40
    assert len(set(Person.objects.values_list("idcs", flat=True))) == 40


def test_the_same_cnie_enrolled_twice_at_once_gives_one_person_and_one_clean_conflict():
    data = factories.enrolment_input(cnie="QQ777777")
    results = at_once([lambda: _enrol(data, hold_on_duplicates=False)] * 6)
    assert Person.objects.filter(cnie="QQ777777").count() == 1, results
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 5
    assert conflicts[0].fields[0].field == "cnie"


def test_two_look_alike_enrolments_at_once_hold_the_second():
    data = factories.enrolment_input(basis="witnesses", cnie=None,
                                     witness_idcs=[factories.person_create().idcs,
                                                   factories.person_create().idcs])
    results = at_once([lambda: _enrol(data)] * 2)
    assert sorted(r.person is None for r in results) == [False, True]
