from datetime import date, timedelta

import pytest

from sijill.population.models import Person, PersonVersion
from sijill.population.services import person_died

pytestmark = pytest.mark.django_db


def test_civil_status_records_a_death_and_keeps_the_history(as_partner, person_factory):
    person = person_factory()
    response = as_partner.post(f"persons/{person.idcs}/death",
                               {"death_date": "2026-01-15", "source": "civil_status"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "deceased"
    versions = PersonVersion.objects.filter(person=person).order_by("version")
    assert [(v.version, v.reason, v.data["status"]) for v in versions] == [
        (1, "enrolment", "active"), (2, "death:civil_status", "deceased")]
    assert Person.objects.filter(pk=person.pk).exists()


def test_recording_the_same_death_twice_changes_nothing(as_partner, person_factory):
    person = person_factory()
    for _ in range(2):
        as_partner.post(f"persons/{person.idcs}/death", {"death_date": "2026-01-15"})
    assert PersonVersion.objects.filter(person=person).count() == 2


def test_a_death_in_the_future_is_refused(as_partner, person_factory):
    person = person_factory()
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    response = as_partner.post(f"persons/{person.idcs}/death", {"death_date": tomorrow})
    assert response.status_code == 422
    assert Person.objects.get(pk=person.pk).status == "active"


def test_listeners_hear_of_the_death_after_commit(person_factory,
                                                  django_capture_on_commit_callbacks):
    from sijill.accounts.actors import SYSTEM
    from sijill.population.services import person_record_death

    heard = []

    def listener(sender, person, actor, **kwargs):
        heard.append(person.idcs)

    person_died.connect(listener)
    try:
        person = person_factory()
        with django_capture_on_commit_callbacks(execute=True):
            person_record_death(actor=SYSTEM, idcs=person.idcs, death_date=date(2026, 1, 1))
        assert heard == [person.idcs]
    finally:
        person_died.disconnect(listener)
