"""Backup and restore on PostgreSQL: a pg_dump / pg_restore round trip keeps everything, and the
restored audit chain still verifies (the procedure is in README.md, "Backup and restore")."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg.rows import dict_row

from sijill.accounts.actors import SYSTEM
from sijill.audit.services import audit_record
from sijill.audit.verify import FIELDS, audit_verify, chain_problems
from sijill.testing import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLES = ("audit_auditentry", "population_person", "population_personversion",
          "accounts_user", "geography_commune", "households_household")


def _conninfo(dbname: str) -> dict[str, str]:
    s = connection.settings_dict
    return {"dbname": dbname, "host": s.get("HOST") or "127.0.0.1",
            "port": str(s.get("PORT") or 5432), "user": s.get("USER") or "postgres",
            **({"password": s["PASSWORD"]} if s.get("PASSWORD") else {})}


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return env


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        row = conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()
        counts[table] = row["n"] if isinstance(row, dict) else row[0]  # type: ignore[index]
    return counts


@pytest.fixture
def restored_db(tmp_path: Path):
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    name = f"sijill_restore_{secrets.token_hex(4)}"
    admin = _conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_and_restore_keeps_everything_and_the_audit_chain_verifies(restored_db, tmp_path):
    # Data through the real services: enrolments (each audited), reads, a household.
    people = [factories.person_create() for _ in range(5)]
    for person in people:
        audit_record(actor=SYSTEM, action="read", entity="person", entity_id=person.idcs,
                     subject=person.idcs, purpose="backup test",
                     detail={"note": "détail عربي"})
    from datetime import date

    from sijill.households.models import RolloutWindow
    from sijill.households.tests.factories import household_create

    # Transactional tests empty every table, the pilot region's roll-out window included.
    RolloutWindow.objects.get_or_create(scope="region", code="04",
                                        defaults={"opens_on": date(2020, 1, 1)})
    household_create(members=[(people[0], "head"), (people[1], "spouse")])
    assert list(audit_verify()) == []

    source = connection.settings_dict["NAME"]
    info = _conninfo(source)
    with psycopg.connect(**info) as conn:
        before = _counts(conn)
    assert before["audit_auditentry"] >= 10 and before["population_person"] >= 5

    dump = tmp_path / "sijill.dump"
    common = ["-h", info["host"], "-p", info["port"], "-U", info["user"]]
    subprocess.run(["pg_dump", *common, "--format=custom", "--no-owner", "--file", str(dump),
                    source], check=True, env=_pg_env(), capture_output=True, timeout=120)
    subprocess.run(["pg_restore", *common, "--no-owner", "--exit-on-error",
                    "--dbname", restored_db, str(dump)],
                   check=True, env=_pg_env(), capture_output=True, timeout=120)

    with psycopg.connect(**_conninfo(restored_db), row_factory=dict_row) as conn:
        assert _counts(conn) == before
        rows = conn.execute(f"SELECT {', '.join(FIELDS)} FROM audit_auditentry ORDER BY seq")
        assert list(chain_problems(rows)) == []
        # The append-only trigger came back with the data.
        with pytest.raises(psycopg.errors.RaiseException):
            conn.execute("UPDATE audit_auditentry SET purpose = 'x' WHERE seq = 1")
        conn.rollback()
        # And the verifier still catches tampering in the restored copy.
        conn.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        conn.execute("UPDATE audit_auditentry SET purpose = 'snooping' WHERE seq = 3")
        rows = conn.execute(f"SELECT {', '.join(FIELDS)} FROM audit_auditentry ORDER BY seq")
        assert [(p.seq, p.kind) for p in chain_problems(rows)] == [(3, "altered")]
        conn.rollback()
