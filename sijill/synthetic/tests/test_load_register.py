"""The loader writes a commune's population into the register like registrations would."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from django.db import connection
from django.db.models import Count, Q
from django.forms.models import model_to_dict

from sijill.households.models import (
    DeclarationVersion,
    Household,
    MemberDeclaration,
    Membership,
    RegistrationEvent,
)
from sijill.population import idcs as idcs_mod
from sijill.population.models import Person, PersonVersion
from sijill.population.services import person_with_keys
from sijill.population.validation import age_on
from sijill.synthetic import collect
from sijill.synthetic.generate import Options
from sijill.synthetic.load import population_load

TOUARGA = "04.421.01.07"  # 785 households, urban, Rabat prefecture
OPTIONS = Options(max_households=150, chunk_households=60)  # several chunks


@pytest.fixture
def generated() -> dict[str, pl.DataFrame]:
    return collect(TOUARGA, 3, OPTIONS)


@pytest.mark.django_db
def test_counts_match_what_was_generated(generated: dict[str, pl.DataFrame], tmp_path: Any
                                         ) -> None:
    summary = population_load(TOUARGA, 3, OPTIONS, truth_dir=tmp_path)
    dups = generated["duplicate_of"].height
    persons = generated["persons"].height - dups
    assert summary.households == generated["households"].height == 150
    assert summary.persons == persons
    assert Person.objects.count() == persons
    assert PersonVersion.objects.filter(version=1, reason="enrolment").count() == persons
    assert Household.objects.count() == 150
    assert Membership.objects.count() == generated["members"].height
    assert DeclarationVersion.objects.count() == 150
    assert MemberDeclaration.objects.count() == generated["members"].height
    assert RegistrationEvent.objects.count() == 300
    assert summary.method == ("copy" if connection.vendor == "postgresql" else "insert")
    assert Household.objects.exclude(status="submitted").count() == 0
    for name in ("deaths", "vehicles", "duplicate_of", "duplicate_persons", "person_ids",
                 "household_ids", "consumption"):
        assert (tmp_path / f"{name}.parquet").exists()
    ids = pl.read_parquet(tmp_path / "person_ids.parquet")
    assert ids.height == persons
    assert set(ids["idcs"]) == set(Person.objects.values_list("idcs", flat=True))
    assert pl.read_parquet(tmp_path / "duplicate_persons.parquet").height == dups


@pytest.mark.django_db
def test_every_member_valid_idcs_one_head_adult_declarant() -> None:
    population_load(TOUARGA, 3, OPTIONS)
    numbers = list(Person.objects.values_list("idcs", flat=True))
    assert len(numbers) == len(set(numbers))
    assert all(idcs_mod.is_valid(n) and idcs_mod.is_readable(n) for n in numbers)
    heads = Household.objects.annotate(
        n=Count("memberships", filter=Q(memberships__relationship="head",
                                        memberships__end_date__isnull=True)))
    assert set(heads.values_list("n", flat=True)) == {1}
    for h in Household.objects.select_related("declarant", "head"):
        assert age_on(h.declarant.birth_date, h.created_at.date()) >= 18
        assert h.memberships.filter(person=h.declarant, end_date__isnull=True).exists()
        assert h.memberships.get(relationship="head").person_id == h.head_id
    # A person is in at most one household.
    assert Membership.objects.values("person").annotate(n=Count("id")).filter(n__gt=1).count() == 0


@pytest.mark.django_db
def test_person_rows_match_enrolment_derivations() -> None:
    """Keys exactly as `person_with_keys`, the version snapshot exactly as `_snapshot`."""
    population_load(TOUARGA, 3, OPTIONS)
    for person in Person.objects.order_by("?")[:300]:
        editable = {f.attname: getattr(person, f.attname) for f in Person._meta.concrete_fields}
        expected = person_with_keys(editable)
        for key in ("first_key_ar", "family_key_ar", "first_key_latin", "family_key_latin",
                    "birth_year"):
            assert getattr(person, key) == expected[key], key
        snapshot = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in model_to_dict(person, exclude=["id"]).items()}
        assert person.versions.get(version=1).data == snapshot
        if person.enrolment_basis == "document":
            assert person.cnie or person.residence_card
        else:
            assert person.birth_certificate_ref
        assert (person.residence_status == "citizen") == (person.nationality == "MA")
