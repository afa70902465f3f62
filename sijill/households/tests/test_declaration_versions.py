"""Every declaration version stays readable: the list of versions and any one of them, as it
was submitted, for those who may read the household; each read is audited."""

from __future__ import annotations

import pytest

from sijill.audit.models import AuditEntry
from sijill.households.tests.factories import household_create, registration_payload

pytestmark = pytest.mark.django_db


def _updated(as_agent_a, person_factory):
    head = person_factory()
    r = as_agent_a.post("households", registration_payload([(head, "head")]))
    assert r.status_code == 201, r.json()
    reference = r.json()["reference"]
    declaration = r.json()["declaration"]
    body = {"household": {**declaration["household"], "rooms": 5},
            "members": declaration["members"]}
    r = as_agent_a.post(f"households/{reference}/declarations", body)
    assert r.status_code == 200, r.json()
    return reference, declaration


def test_an_older_version_reads_as_it_was_submitted(as_agent_a, person_factory):
    reference, first = _updated(as_agent_a, person_factory)
    listing = as_agent_a.get(f"households/{reference}/declarations").json()
    assert [(v["version"], v["reason"]) for v in listing] == [(2, "update"), (1, "registration")]
    old = as_agent_a.get(f"households/{reference}/declarations/1").json()
    assert old == first
    assert as_agent_a.get(f"households/{reference}/declarations/2").json()["household"][
        "rooms"] == 5
    assert AuditEntry.objects.filter(action="read_declaration", entity_id=reference,
                                     detail__version=1).exists()
    assert AuditEntry.objects.filter(action="read_declarations", entity_id=reference).exists()


def test_a_version_that_does_not_exist_is_a_404(as_agent_a, person_factory):
    reference, _ = _updated(as_agent_a, person_factory)
    r = as_agent_a.get(f"households/{reference}/declarations/3")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_an_agent_of_another_province_reads_no_version(as_agent_b):
    household = household_create()
    for path in ("declarations", "declarations/1"):
        r = as_agent_b.get(f"households/{household.reference}/{path}")
        assert r.status_code == 404
    assert not AuditEntry.objects.filter(action__startswith="read_declaration").exists()
