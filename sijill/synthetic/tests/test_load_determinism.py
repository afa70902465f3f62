"""The same seed loads the same data (IDCS and references aside, which are random); the loader
uses COPY on PostgreSQL; the command and the demo seed use it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models.query import QuerySet

from sijill.accounts.models import User
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from sijill.households.models import (
    DeclarationVersion,
    Household,
    MemberDeclaration,
    Membership,
    RegistrationEvent,
)
from sijill.population.models import Person, PersonVersion
from sijill.synthetic import collect
from sijill.synthetic.generate import Options
from sijill.synthetic.load import population_load

COMMUNE = "04.501.03.03"  # Oumazza, rural, Skhirate-Témara
OPTIONS = Options(max_households=60)
PERSON = ("first_name_ar", "family_name_ar", "first_name_latin", "family_name_latin", "sex",
          "birth_date", "birth_year_only", "birth_place_commune_id", "nationality", "cnie",
          "phone", "enrolment_basis")


class _Rollback(Exception):
    pass


def _declarations() -> list[tuple[Any, ...]]:
    """Every household's declaration, members by position, persons by their attributes."""
    out = []
    for v in DeclarationVersion.objects.select_related("household", "declarant") \
            .order_by("household_id"):
        members = []
        for m in MemberDeclaration.objects.filter(declaration=v).select_related("person") \
                .order_by("position"):
            p = m.person
            members.append((tuple(getattr(m, f) for f in MEMBER_FIELDS if f != "idcs"),
                            tuple(getattr(p, f) for f in PERSON),
                            (p.mother.first_name_latin if p.mother else None),
                            p.pk == v.declarant_id))
        out.append((v.commune_id, v.milieu, v.address,
                    tuple(getattr(v, f) for f in HOUSEHOLD_FIELDS), tuple(members)))
    return out


def _load_and_read(seed: int) -> list[tuple[Any, ...]]:
    try:
        with transaction.atomic():
            population_load(COMMUNE, seed, OPTIONS)
            result = _declarations()
            raise _Rollback
    except _Rollback:
        pass
    assert not Person.objects.exists()
    return result


@pytest.mark.django_db
def test_the_same_seed_loads_the_same_declarations() -> None:
    first, again, other = _load_and_read(11), _load_and_read(11), _load_and_read(12)
    assert len(first) == 60
    assert first == again
    assert first != other


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_loads_with_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[str] = []
    real_copy = psycopg.Cursor.copy

    def spy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(statement))
        return real_copy(self, statement, *args, **kwargs)

    def no_bulk_create(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("bulk_create used on PostgreSQL")

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    monkeypatch.setattr(QuerySet, "bulk_create", no_bulk_create)
    summary = population_load(COMMUNE, 11, OPTIONS)
    tables = collect(COMMUNE, 11, OPTIONS)
    assert summary.method == "copy"
    copied = {s.split('"')[1] for s in statements}
    assert copied == {m._meta.db_table for m in (Person, PersonVersion, Household,
                                                 RegistrationEvent, DeclarationVersion,
                                                 MemberDeclaration, Membership)}
    persons = tables["persons"].height - tables["duplicate_of"].height
    assert Person.objects.count() == PersonVersion.objects.count() == persons
    assert Household.objects.count() == DeclarationVersion.objects.count() == 60
    assert Membership.objects.count() == MemberDeclaration.objects.count() \
        == tables["members"].height


@pytest.mark.django_db
def test_duplicates_are_enrolled_on_request_and_in_no_household() -> None:
    summary = population_load(COMMUNE, 11, Options(max_households=400),
                              include_duplicates=True)
    assert summary.duplicates > 0
    assert Person.objects.count() == summary.persons
    assert Person.objects.filter(memberships__isnull=True).count() == summary.duplicates


@pytest.mark.django_db
def test_generate_population_command(tmp_path: Any) -> None:
    out = StringIO()
    call_command("generate_population", "--scope", COMMUNE, "--seed", "3", "--to-db",
                 "--max-households", "20", "--truth-dir", str(tmp_path / "truth"), stdout=out)
    assert Household.objects.count() == 20
    assert "20/20 households" in out.getvalue()
    assert (tmp_path / "truth" / "person_ids.parquet").exists()
    call_command("generate_population", "--scope", COMMUNE, "--seed", "3", "--to-parquet",
                 str(tmp_path / "pq"), "--max-households", "20", stdout=out)
    assert (tmp_path / "pq" / "households.parquet").exists()


@pytest.mark.django_db
def test_seed_demo_loads_once_and_prints_the_sign_ins(monkeypatch: pytest.MonkeyPatch,
                                                      settings: Any, tmp_path: Any) -> None:
    from sijill.core.management.commands import seed_demo

    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(seed_demo, "DEMO_POPULATION", [("04.421.01.07", 30),
                                                       ("04.281.01.01", 10)])
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = Person.objects.count()
    call_command("seed_demo", stdout=out)
    assert Person.objects.count() == first and Household.objects.count() == 40
    citizen = User.objects.get(role="citizen")
    household = Household.objects.get(declarant__idcs=citizen.idcs)
    assert household.commune_id == "04.421.01.07"
    text = out.getvalue()
    assert f"declarant of household {household.reference}" in text
    assert "agent.rabat" in text and "analyst" in text and "Partner token" in text


@pytest.mark.django_db(transaction=True)
def test_several_chunks_load_whole_with_distinct_idcs(tmp_path: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Aousserd's first cells (734, 263, 106 households) come as three chunks, each committed
    on its own; on PostgreSQL each chunk's IDCS are drawn in a second thread while the previous
    chunk is written."""
    import threading

    from django.db import connection

    from sijill.audit.models import AuditEntry
    from sijill.synthetic import load

    threads: list[str] = []
    real = load._allocate

    def spy(count: int) -> list[str]:
        threads.append(threading.current_thread().name)
        return real(count)

    monkeypatch.setattr(load, "_allocate", spy)
    options = Options(max_households=1100, chunk_households=1)
    progress: list[int] = []
    summary = population_load("12.066", 4, options, truth_dir=tmp_path,
                              progress=lambda s: progress.append(s.households))
    tables = collect("12.066", 4, options)
    assert progress == [734, 997, 1100]
    assert AuditEntry.objects.filter(action="bulk_load").count() == 3
    persons = tables["persons"].height - tables["duplicate_of"].height
    assert summary.persons == Person.objects.count() == persons
    numbers = list(Person.objects.values_list("idcs", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert Membership.objects.count() == tables["members"].height
    if connection.vendor == "postgresql":
        assert len(threads) == 3
        assert threading.main_thread().name not in threads
    else:
        assert threads == []
