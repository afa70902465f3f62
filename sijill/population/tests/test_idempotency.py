import pytest

from sijill.population.models import Person
from sijill.testing import factories

pytestmark = pytest.mark.django_db


def test_a_retried_enrolment_with_the_same_key_enrols_once_and_answers_the_same(as_agent_a):
    body = {k: v for k, v in factories.enrolment_input().as_json().items()
            if v not in (None, [], "")}
    first = as_agent_a.post("persons", body, headers={"Idempotency-Key": "k-1"})
    second = as_agent_a.post("persons", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Person.objects.count() == 1


def test_a_key_reused_for_another_request_is_refused(as_agent_a):
    one = {k: v for k, v in factories.enrolment_input().as_json().items() if v}
    two = {k: v for k, v in factories.enrolment_input().as_json().items() if v}
    as_agent_a.post("persons", one, headers={"Idempotency-Key": "k-2"})
    response = as_agent_a.post("persons", two, headers={"Idempotency-Key": "k-2"})
    assert response.status_code == 409
    assert Person.objects.count() == 1


def test_a_failed_request_stores_nothing_so_a_corrected_retry_goes_through(as_agent_a):
    body = {k: v for k, v in factories.enrolment_input().as_json().items() if v}
    bad = {**body, "first_name_ar": "Latin"}
    assert as_agent_a.post("persons", bad, headers={"Idempotency-Key": "k-3"}).status_code == 422
