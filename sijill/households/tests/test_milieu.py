"""The milieu picks the formula's model: it must be one the 2024 census found in the commune
(Rabat is urban only, Ameur Seflia rural only, Sidi Taibi both)."""

from __future__ import annotations

import pytest

from sijill.households.models import Household
from sijill.households.tests.factories import RABAT, registration_payload

pytestmark = pytest.mark.django_db

RURAL_ONLY = "04.281.03.01"  # Ameur Seflia (Kénitra), a rural commune
BOTH = "04.281.01.13"  # Sidi Taibi (Kénitra): the census counts urban and rural households


def test_a_rural_household_in_rabat_is_refused_naming_the_commune(as_agent_a,
                                                                 person_factory):
    body = registration_payload([(person_factory(), "head")], commune=RABAT)
    body["milieu"] = "rural"
    r = as_agent_a.post("households", body, lang="fr")
    assert r.status_code == 422, r.content
    field = r.json()["error"]["fields"][0]
    assert (field["field"], field["code"]) == ("milieu", "milieu_not_in_commune")
    assert "Rabat" in field["message"] and "urbains" in field["message"]
    assert not Household.objects.exists()


def test_an_urban_household_in_a_rural_only_commune_is_refused(as_admin, person_factory):
    body = registration_payload([(person_factory(), "head")], commune=RURAL_ONLY)
    r = as_admin.post("households", body)
    assert r.status_code == 422, r.content
    assert r.json()["error"]["fields"][0]["code"] == "milieu_not_in_commune"


@pytest.mark.parametrize("milieu", ["urban", "rural"])
def test_a_commune_with_both_milieux_takes_either(as_admin, person_factory, milieu):
    body = registration_payload([(person_factory(), "head")], commune=BOTH)
    body["milieu"] = milieu
    r = as_admin.post("households", body)
    assert r.status_code == 201, r.content
    assert r.json()["milieu"] == milieu
