"""Who may register and read which household: agents in their provinces, citizens their own."""

from __future__ import annotations

import pytest

from sijill.audit.models import AuditEntry
from sijill.households.tests.factories import KENITRA, household_create, registration_payload

pytestmark = pytest.mark.django_db


def test_an_agent_of_centre_b_cannot_read_a_rabat_household(as_agent_b):
    household = household_create()
    r = as_agent_b.get(f"households/{household.reference}")
    assert r.status_code == 404
    assert as_agent_b.get(f"households/{household.reference}/history").status_code == 404


def test_an_agent_of_centre_a_reads_households_of_rabat_and_sale(as_agent_a):
    for commune in ("04.421.01.0", "04.441.01.0"):
        household = household_create(commune=commune)
        assert as_agent_a.get(f"households/{household.reference}").status_code == 200


def test_an_agent_cannot_register_a_household_outside_their_provinces(as_agent_a,
                                                                      person_factory):
    r = as_agent_a.post("households", registration_payload([(person_factory(), "head")],
                                                           commune=KENITRA))
    assert r.status_code == 404


def test_an_agent_cannot_change_a_household_outside_their_provinces(as_agent_b, person_factory):
    household = household_create()
    r = as_agent_b.delete(f"households/{household.reference}/members/{household.head.idcs}")
    assert r.status_code == 404


def test_a_citizen_reads_their_own_household_and_no_other(as_citizen, citizen, person_factory):
    own = household_create(members=[(citizen.person, "head"), (person_factory(), "spouse")])
    other = household_create()
    assert as_citizen.get(f"households/{own.reference}").status_code == 200
    assert as_citizen.get(f"households/{other.reference}").status_code == 404


def test_a_citizen_registers_the_household_they_declare(as_citizen, citizen, person_factory):
    r = as_citizen.post("households", registration_payload([(citizen.person, "head"),
                                                            (person_factory(), "spouse")]))
    assert r.status_code == 201
    assert r.json()["declarant_idcs"] == citizen.idcs


def test_a_citizen_cannot_register_a_household_declared_by_someone_else(as_citizen,
                                                                        person_factory):
    other = person_factory()
    r = as_citizen.post("households", registration_payload([(other, "head")]))
    assert r.status_code == 403


def test_a_program_cannot_read_households(as_program):
    household = household_create()
    assert as_program.get(f"households/{household.reference}").status_code == 403


def test_an_anonymous_caller_is_asked_to_sign_in(as_anonymous):
    household = household_create()
    assert as_anonymous.get(f"households/{household.reference}").status_code == 401


def test_every_read_of_a_household_is_audited(as_agent_a):
    household = household_create()
    as_agent_a.get(f"households/{household.reference}")
    entry = AuditEntry.objects.filter(entity="household", action="read").latest("seq")
    assert entry.entity_id == household.reference
    assert entry.subject == household.declarant.idcs
    assert entry.actor_role == "agent"
    assert household.head.idcs in entry.detail["members"]


def test_a_registration_is_audited(as_agent_a, person_factory):
    r = as_agent_a.post("households", registration_payload([(person_factory(), "head")]))
    assert AuditEntry.objects.filter(entity="household", action="register",
                                     entity_id=r.json()["reference"]).exists()
