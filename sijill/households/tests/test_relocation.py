"""A household that moves declares its new commune, milieu and address in an update."""

from __future__ import annotations

import pytest

from sijill.households.models import DeclarationVersion
from sijill.households.tests.factories import (
    CASABLANCA,
    KENITRA,
    SALE,
    household_create,
    household_data,
    member_data,
)

pytestmark = pytest.mark.django_db


def _moved(household, **place):
    return {"household": household_data(),
            "members": [member_data(household.head.idcs, "head")], **place}


def test_a_move_is_a_new_version_at_the_new_address_and_the_old_one_is_kept(as_agent_a):
    household = household_create()
    r = as_agent_a.post(f"households/{household.reference}/declarations",
                        _moved(household, commune=SALE, milieu="urban",
                               address="3 rue de Fès, Salé"))
    assert r.status_code == 200, r.json()
    assert (r.json()["commune"], r.json()["address"]) == (SALE, "3 rue de Fès, Salé")
    v1, v2 = DeclarationVersion.objects.filter(household=household).order_by("version")
    assert v1.commune_id == "04.421.01.0" and v2.commune_id == SALE


def test_an_agent_cannot_move_a_household_out_of_their_provinces(as_agent_a):
    household = household_create()
    r = as_agent_a.post(f"households/{household.reference}/declarations",
                        _moved(household, commune=KENITRA, milieu="urban", address="x"))
    assert r.status_code == 404


def test_a_move_to_a_commune_not_yet_open_is_refused(as_admin):
    household = household_create()
    r = as_admin.post(f"households/{household.reference}/declarations",
                      _moved(household, commune=CASABLANCA, milieu="urban", address="x"))
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["code"] == "rollout_not_scheduled"


def test_a_move_names_commune_milieu_and_address_together(as_agent_a):
    household = household_create()
    r = as_agent_a.post(f"households/{household.reference}/declarations",
                        _moved(household, commune=SALE))
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["code"] == "incomplete_place"
