"""A loaded household is a household like a registered one: API, services, citizen access."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.declaration.model import Declaration
from sijill.households.models import Household
from sijill.households.services import (
    declaration_of,
    household_declaration_update,
    household_events,
)
from sijill.households.tests.factories import household_create
from sijill.synthetic import collect
from sijill.synthetic.generate import Options
from sijill.synthetic.load import population_load
from sijill.testing import factories

TOUARGA = "04.421.01.07"
OPTIONS = Options(max_households=25)


@pytest.fixture
def loaded(db: Any, tmp_path: Any) -> dict[str, pl.DataFrame]:
    population_load(TOUARGA, 5, OPTIONS, truth_dir=tmp_path)
    tables = collect(TOUARGA, 5, OPTIONS)
    tables["person_ids"] = pl.read_parquet(tmp_path / "person_ids.parquet")
    tables["household_ids"] = pl.read_parquet(tmp_path / "household_ids.parquet")
    return tables


def _generated_household(tables: dict[str, pl.DataFrame], reference: str) -> tuple[dict, list]:
    key = tables["household_ids"].filter(pl.col("reference") == reference)["household_key"][0]
    hh = tables["households"].filter(pl.col("household_key") == key).row(0, named=True)
    members = (tables["members"].filter(pl.col("household_key") == key)
               .join(tables["person_ids"], on="person_key", how="left"))
    return hh, members.to_dicts()


def test_a_loaded_household_reads_back_through_the_api(loaded: dict[str, pl.DataFrame],
                                                       as_agent_a: Any) -> None:
    for household in Household.objects.order_by("?")[:5]:
        response = as_agent_a.get(f"households/{household.reference}")
        assert response.status_code == 200, response.content
        body = response.json()
        hh, members = _generated_household(loaded, household.reference)
        assert body["status"] == "submitted"
        assert body["commune"] == hh["commune_code"] and body["milieu"] == hh["milieu"]
        assert body["address"] == hh["address"]
        assert body["declarant_idcs"] == next(m["idcs"] for m in members if m["is_declarant"])
        assert body["head_idcs"] == next(m["idcs"] for m in members
                                         if m["relationship"] == "head")
        assert sorted(m["idcs"] for m in body["members"]) == sorted(m["idcs"] for m in members)
        declaration = body["declaration"]
        assert declaration["version"] == 1 and declaration["reason"] == "registration"
        for name, value in declaration["household"].items():
            assert value == hh[name], name
        assert [m["idcs"] for m in declaration["members"]] == [m["idcs"] for m in members]
        for got, want in zip(declaration["members"], members, strict=True):
            assert {k: v for k, v in got.items() if k != "idcs"} == \
                {k: want[k] for k in got if k != "idcs"}


def test_loaded_and_registered_households_look_the_same(loaded: Any, as_agent_a: Any) -> None:
    registered = household_create()
    loaded_one = Household.objects.exclude(pk=registered.pk).order_by("id").first()
    a = as_agent_a.get(f"households/{registered.reference}").json()
    b = as_agent_a.get(f"households/{loaded_one.reference}").json()
    assert a.keys() == b.keys() and a["declaration"].keys() == b["declaration"].keys()
    assert a["status"] == b["status"] == "submitted"
    steps = [[(e.from_status, e.to_status) for e in household_events(actor=SYSTEM, reference=h)]
             for h in (registered.reference, loaded_one.reference)]
    assert steps[0] == steps[1] == [("", "draft"), ("draft", "submitted")]
    # The contract record of the stored version is a valid Declaration.
    assert isinstance(declaration_of(loaded_one.versions.get(version=1)), Declaration)


def test_a_loaded_household_can_be_updated_through_the_service(loaded: Any) -> None:
    household = Household.objects.order_by("id").first()
    current = declaration_of(household.versions.get(version=1))
    household_declaration_update(actor=SYSTEM, reference=household.reference,
                                 declaration=current)
    household.refresh_from_db()
    assert household.current_version == 2
    assert household.versions.count() == 2


def test_the_declarant_signs_in_as_a_citizen_and_sees_the_household(loaded: Any) -> None:
    household = Household.objects.select_related("declarant").order_by("id").first()
    idcs = household.declarant.idcs
    user = factories.user_create(username=idcs, role="citizen", idcs=idcs)
    client = Client()
    assert client.login(username=idcs, password=factories.DEMO_PASSWORD)
    assert client.get(f"/api/v1/households/{household.reference}").status_code == 200
    other = Household.objects.exclude(pk=household.pk).exclude(
        memberships__person__idcs=idcs).first()
    assert client.get(f"/api/v1/households/{other.reference}").status_code == 404
    assert user.role == "citizen"
