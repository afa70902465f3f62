"""Bulk import: a documented CSV/Parquet layout, all or nothing, every bad row reported."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.management import call_command
from django.db import connection

from sijill.accounts.actors import SYSTEM
from sijill.audit.models import AuditEntry
from sijill.households.bulk import COLUMNS, households_import
from sijill.households.bulkwrite import household_references
from sijill.households.models import DeclarationVersion, Household, MemberDeclaration, Membership
from sijill.households.tests.factories import household_data, member_data
from sijill.population.models import Person
from sijill.population.services import idcs_allocate_many, person_record_death

pytestmark = pytest.mark.django_db


def persons_bulk(count: int, *, birth_date: date = date(1980, 6, 1)) -> list[str]:
    """Enrol `count` persons directly (a fixture for volume, not the enrolment path)."""
    numbers = idcs_allocate_many(count=count)
    Person.objects.bulk_create([
        Person(idcs=n, first_name_ar="محمد", family_name_ar="بناني", first_name_latin="Mohammed",
               family_name_latin="Bennani", first_key_ar="محمد", family_key_ar="بناني",
               first_key_latin="MHMD", family_key_latin="BNN", sex="M", birth_date=birth_date,
               birth_year=birth_date.year, enrolment_basis="document",
               enrolment_channel="bulk") for n in numbers], batch_size=2000)
    return numbers


def rows_for(households: list[list[str]], commune: str = "04.421.01.0") -> list[dict[str, Any]]:
    """One row per member; the first member of each household is its head and declarant."""
    rows = []
    for i, members in enumerate(households):
        place = {"household_key": f"H{i:06d}", "commune": commune, "milieu": "urban",
                 "address": f"{i} avenue Mohammed V", "declarant_idcs": members[0],
                 "notice_language": "fr", **household_data(rooms=1 + i % 5, cows=i % 3)}
        for j, idcs in enumerate(members):
            rows.append({**place, **member_data(idcs, "head" if j == 0 else "child",
                                                literate=j % 2 == 0)})
    return rows


def write(tmp_path: Path, rows: list[dict[str, Any]], suffix: str = ".csv") -> Path:
    frame = pl.DataFrame(rows).select(COLUMNS)
    path = tmp_path / f"households{suffix}"
    if suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    return path


def test_a_valid_file_imports_every_household_with_its_members_and_declaration(tmp_path):
    people = persons_bulk(50)
    households = [people[i:i + 2] for i in range(0, 40, 2)] + [[p] for p in people[40:]]
    result = households_import(path=write(tmp_path, rows_for(households)), actor=SYSTEM)
    assert result.ok, result.errors[:5]
    assert (result.households, result.members) == (30, 50)
    assert Household.objects.filter(status="submitted").count() == 30
    assert Membership.objects.filter(end_date__isnull=True).count() == 50
    assert DeclarationVersion.objects.count() == 30
    assert MemberDeclaration.objects.count() == 50
    assert AuditEntry.objects.filter(action="bulk_import").get().detail["households"] == 30


def test_an_imported_household_reads_back_as_declared(tmp_path, as_agent_a):
    people = persons_bulk(2)
    rows = rows_for([people])
    households_import(path=write(tmp_path, rows))
    household = Household.objects.get()
    out = as_agent_a.get(f"households/{household.reference}").json()
    assert out["declaration"]["household"] == household_data(rooms=1, cows=0)
    assert out["declaration"]["members"] == [
        member_data(people[0], "head", literate=True),
        member_data(people[1], "child", literate=False)]
    assert out["head_idcs"] == people[0] and out["notice_language"] == "fr"
    assert [(e["from_status"], e["to_status"]) for e in
            as_agent_a.get(f"households/{household.reference}/history").json()] == [
        ("", "draft"), ("draft", "submitted")]


def test_a_parquet_file_imports_the_same_way(tmp_path):
    people = persons_bulk(6)
    result = households_import(path=write(tmp_path, rows_for([people[:3], people[3:]]),
                                          ".parquet"))
    assert result.ok, result.errors
    assert Household.objects.count() == 2


@pytest.mark.slow
def test_ten_thousand_households_with_three_bad_rows_import_nothing_and_report_exactly_those(
        tmp_path):
    people = persons_bulk(12_000)
    households = [people[i:i + 2] for i in range(0, 4000, 2)] + [[p] for p in people[4000:]]
    assert len(households) == 10_000
    rows = rows_for(households)
    # 1: a single-person household declares -3 rooms
    rows[5000]["rooms"] = "-3"
    # 2: a child's IDCS is mistyped (check digit)
    idcs = rows[11]["idcs"]
    rows[11]["idcs"] = idcs[:-1] + str((int(idcs[-1]) + 1) % 10)
    # 3: an unknown marital status
    rows[9000]["marital_status"] = "complicated"
    result = households_import(path=write(tmp_path, rows))
    assert not result.ok
    assert sorted({e.row for e in result.errors}) == [12, 5001, 9001]
    by_row = {e.row: (e.field, e.code) for e in result.errors}
    assert by_row[5001] == ("rooms", "out_of_range")
    assert by_row[12][0] == "idcs"
    assert by_row[9001] == ("marital_status", "invalid_choice")
    assert not Household.objects.exists() and not Membership.objects.exists()


def test_every_rule_of_registration_is_checked_per_row(tmp_path):
    people = persons_bulk(9)
    minor = persons_bulk(1, birth_date=date(date.today().year - 10, 1, 1))[0]
    stranger = idcs_allocate_many(count=1)[0]
    person_record_death(actor=SYSTEM, idcs=people[8], death_date=date(2024, 1, 1))
    rows = rows_for([[people[0], people[1]], [people[2]], [people[3]], [minor],
                     [people[4], people[5]], [people[6], stranger], [people[7], people[8]]])
    rows[1]["relationship"] = "head"        # row 2: second head
    rows[3]["relationship"] = "spouse"      # row 4: household without a head
    rows[5]["address"] = "elsewhere"        # row 6: differs from the household's first row
    rows[6]["idcs"] = people[0]             # row 7: listed twice in the file
    result = households_import(path=write(tmp_path, rows))
    codes = {(e.row, e.field, e.code) for e in result.errors}
    assert (2, "relationship", "several_heads") in codes
    assert (4, "relationship", "no_head") in codes
    assert (5, "declarant_idcs", "declarant_not_adult") in codes
    assert (7, "address", "household_mismatch") in codes
    assert (9, "idcs", "not_enrolled") in codes
    assert (11, "idcs", "deceased") in codes
    assert (7, "idcs", "duplicate_member") in codes
    assert not Household.objects.exists()


def test_a_person_already_in_a_household_is_a_bad_row(tmp_path):
    people = persons_bulk(2)
    path = write(tmp_path, rows_for([people]))
    assert households_import(path=path).ok
    again = households_import(path=path)
    assert {(e.row, e.code) for e in again.errors} == {(1, "in_another_household"),
                                                       (2, "in_another_household")}
    assert Household.objects.count() == 1


def test_a_commune_not_yet_open_is_reported(tmp_path):
    people = persons_bulk(1)
    result = households_import(path=write(tmp_path, rows_for([people], commune="06.141.01.0")))
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (1, "commune", "rollout_not_open")]


def test_a_missing_column_is_reported_before_anything_else(tmp_path):
    people = persons_bulk(1)
    rows = [{k: v for k, v in r.items() if k != "cows"} for r in rows_for([people])]
    path = tmp_path / "h.csv"
    pl.DataFrame(rows).write_csv(path)
    result = households_import(path=path)
    assert [(e.row, e.field, e.code) for e in result.errors] == [(0, "cows", "missing_column")]


def test_the_command_prints_the_report_and_fails(tmp_path, capsys):
    people = persons_bulk(1)
    rows = rows_for([people])
    rows[0]["cars"] = "many"
    path = write(tmp_path, rows)
    with pytest.raises(SystemExit) as exit_:
        call_command("import_households", str(path))
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "row,field,code,reason" in out and "1,cars,not_an_integer" in out


def test_the_command_imports_a_good_file(tmp_path, capsys):
    people = persons_bulk(3)
    call_command("import_households", str(write(tmp_path, rows_for([people]))))
    assert "imported 1 households (3 members)" in capsys.readouterr().out


def test_a_declared_move_ends_the_old_membership_and_writes_the_old_households_next_version(
        tmp_path):
    people = persons_bulk(4)
    assert households_import(path=write(tmp_path, rows_for([people[:3]]))).ok
    old = Household.objects.get()
    rows = rows_for([[people[3], people[2]]])
    rows[1]["moving"] = "true"
    frame = pl.DataFrame(rows).select(*COLUMNS, "moving")
    path = tmp_path / "moves.csv"
    frame.write_csv(path)
    result = households_import(path=path)
    assert result.ok, result.errors
    moved = Membership.objects.filter(person__idcs=people[2]).order_by("start_date", "id")
    assert [(m.household_id == old.pk, m.end_reason) for m in moved] == [
        (True, "moved"), (False, "")]
    old.refresh_from_db()
    assert old.current_version == 2
    assert sorted(old.memberships.filter(end_date__isnull=True)
                  .values_list("person__idcs", flat=True)) == sorted(people[:2])


def test_a_person_in_another_household_without_a_declared_move_is_reported_with_the_head_rule(
        tmp_path):
    people = persons_bulk(4)
    assert households_import(path=write(tmp_path, rows_for([people[:2]]))).ok
    rows = rows_for([[people[2], people[0]], [people[3], people[1]]])
    rows[1]["moving"] = "true"  # people[0] heads a household whose other member stays
    rows[3]["moving"] = ""      # people[1]: no move declared
    frame = pl.DataFrame(rows).select(*COLUMNS, "moving")
    path = tmp_path / "moves.csv"
    frame.write_csv(path)
    result = households_import(path=path)
    assert {(e.row, e.code) for e in result.errors} == {(2, "head_has_members"),
                                                       (4, "in_another_household")}
    assert Household.objects.count() == 1


def test_an_import_queues_one_announcement_task_per_chunk_and_every_household_is_verified(
        tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from sijill.households import bulk, tasks
    from sijill.verification.models import Verification

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(bulk, "ANNOUNCE_CHUNK", 2)
    people = persons_bulk(5)
    with django_capture_on_commit_callbacks(execute=True):
        result = households_import(path=write(tmp_path, rows_for([[p] for p in people])))
    assert result.ok
    queued = [r.args_kwargs["kwargs"]["household_ids"] for r in DBTaskResult.objects.filter(
        task_path__endswith="households_submitted_task").order_by("enqueued_at")]
    assert sorted(len(ids) for ids in queued) == [1, 2, 2]
    assert Verification.objects.count() == 0  # nothing announced until the tasks run
    settings.SIJILL = {**settings.SIJILL, "VERIFICATION_BATCH_SIZE": 20}
    for ids in queued:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.households_submitted_task.call(household_ids=ids, version=1)
    # Each chunk's households are started together, their first passes queued in batch
    # tasks (partners asked together), not one task per household.
    assert Verification.objects.count() == 5
    assert not DBTaskResult.objects.filter(task_path__endswith="verification_start_task")
    batches = [r.args_kwargs["kwargs"]["verification_ids"] for r in DBTaskResult.objects.filter(
        task_path__endswith="verify_households_task").order_by("enqueued_at")]
    assert sorted(len(b) for b in batches) == [1, 2, 2]
    every = [pk for ids in queued for pk in ids]
    assert tasks.households_submitted_task.call(household_ids=every, version=1) == 5
    assert Verification.objects.count() == 5  # announced twice: nothing new


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_outside_any_transaction_finds_its_persons(tmp_path):
    people = persons_bulk(3)
    result = households_import(path=write(tmp_path, rows_for([people[:2], people[2:]])))
    assert result.ok, result.errors
    assert Household.objects.count() == 2


def test_a_file_naming_nobody_enrolled_reports_every_row(tmp_path):
    strangers = idcs_allocate_many(count=2)
    result = households_import(path=write(tmp_path, rows_for([strangers])))
    assert {(e.row, e.code) for e in result.errors} == {(1, "not_enrolled"),
                                                       (2, "not_enrolled")}


def test_fresh_household_references_are_distinct_unused_and_well_formed(tmp_path):
    households_import(path=write(tmp_path, rows_for([persons_bulk(1)])))
    taken = Household.objects.get().reference
    references = household_references(500)
    assert len(set(references)) == 500
    assert taken not in references
    assert all(re.fullmatch(r"MEN-[0-9A-F]{8}", r) for r in references)


@pytest.mark.postgres
def test_no_index_on_the_imported_tables_repeats_the_leading_column_of_another():
    """Each index costs every imported row a write: one whose column leads another index of
    the same table (same condition) serves no lookup that the other does not (nothing here
    searches these columns with LIKE, the only use of a varchar_pattern_ops twin)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text FROM pg_index a "
            "JOIN pg_index b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid "
            "WHERE a.indrelid::regclass::text = ANY(%s) AND a.indnatts = 1 "
            "AND a.indkey[0] = b.indkey[0] AND NOT a.indisunique AND b.indnatts > 1 "
            "AND a.indpred IS NULL AND b.indpred IS NULL",
            [["households_household", "households_membership", "households_declarationversion",
              "households_memberdeclaration", "households_registrationevent"]])
        assert cursor.fetchall() == []


def test_a_milieu_the_census_does_not_find_in_the_commune_is_a_bad_row(tmp_path):
    people = persons_bulk(2)
    rows = rows_for([[people[0]]]) + rows_for([[people[1]]], commune="04.281.03.01")
    rows[1]["household_key"] = "H-rural"
    for row in rows:
        row["milieu"] = "rural"
    result = households_import(path=write(tmp_path, rows))
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (1, "milieu", "milieu_not_in_commune")]
    assert not Household.objects.exists()
