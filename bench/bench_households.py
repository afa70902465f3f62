"""Social registry benchmarks (issue 3), on PostgreSQL.

- household registrations per second through the API (households of 4-6 members with a full
  declaration), from --workers processes (default 2);
- bulk import of --households households (default 100,000; 1-5 members each) in households per
  second, against a raw COPY of the same rows into the registry's tables (target: within 2x),
  and for reference a COPY of the file into a bare text table.

Uses its own database (BENCH_DATABASE_URL, default .../sijill_bench_households), recreated.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_DATABASE_URL",
                      "postgres://postgres@127.0.0.1:5432/sijill_bench_households")

from common import postgres_available, report, setup_django_on_bench_db


def _persons(count: int) -> list[str]:
    """Enrol `count` adults with COPY (volume fixture, not the enrolment path)."""
    import io

    from django.db import connection

    from sijill.population.services import idcs_allocate_many

    numbers = idcs_allocate_many(count=count)
    buffer = io.StringIO()
    for n in numbers:
        buffer.write(f"{n},محمد,بناني,Mohammed,Bennani,محمد,بناني,MHMD,BNN,M,1980-06-01,f,1980,"
                     "MA,citizen,\"\",\"\",active,document,bulk,1,2025-01-01T00:00:00Z,"
                     "2025-01-01T00:00:00Z,\"\",\n")
    cols = ("idcs, first_name_ar, family_name_ar, first_name_latin, family_name_latin, "
            "first_key_ar, family_key_ar, first_key_latin, family_key_latin, sex, birth_date, "
            "birth_year_only, birth_year, nationality, residence_status, birth_place_abroad, "
            "birth_certificate_ref, status, enrolment_basis, enrolment_channel, version, "
            "created_at, updated_at, phone, cnie")
    with connection.cursor() as cursor, cursor.copy(
            f"COPY population_person ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
    return numbers


def _body(members: list[str]) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sijill.households.tests.factories import household_data, member_data

    return {"commune": "04.421.01.0", "milieu": "urban", "address": "1 rue de la Paix",
            "declarant_idcs": members[0], "notice_language": "ar",
            "household": household_data(),
            "members": [member_data(m, "head" if i == 0 else "child")
                        for i, m in enumerate(members)]}


def _backend_cpu(cursor) -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine: /proc)."""
    cursor.execute("SELECT pg_backend_pid()")
    fields = Path(f"/proc/{cursor.fetchone()[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


WARMUP = 10  # households each worker registers before the timed ones (first-request setup)


def _worker(args: tuple[list[list[str]], list[list[str]], Any]) -> dict[str, float]:
    """Register `households` through the API, after `warmup` ones and once every worker is
    ready (the barrier): return when it started and ended (wall clock) and what it cost: CPU of
    this process and of its PostgreSQL backend, statements sent, time waited for the audit
    chain's lock. Process start, Django set-up and first requests are not timed."""
    households, warmup, barrier = args
    import django

    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sijill.settings")
    os.environ.setdefault("DEBUG", "false")  # as in production: no query log kept per request
    django.setup()
    from django.db import connection
    from django.test import Client

    from sijill.accounts.models import User

    counts = {"statements": 0, "audit_wait": 0.0}

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        counts["statements"] += 1
        if "audit_chain_tip" not in sql:
            return execute(sql, params, many, context)
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            counts["audit_wait"] += time.perf_counter() - start

    client = Client()
    client.force_login(User.objects.get(username="bench-admin"))

    def register(bodies: list[tuple[str, str]]) -> int:
        ok = 0
        for key, body in bodies:
            r = client.post("/api/v1/households", body, content_type="application/json",
                            headers={"Idempotency-Key": f"bench-{key}"})
            ok += r.status_code == 201
        return ok

    register([(members[0], json.dumps(_body(members))) for members in warmup])
    bodies = [(members[0], json.dumps(_body(members))) for members in households]
    with connection.cursor() as cursor:
        backend_start = _backend_cpu(cursor)
    barrier.wait()
    start, cpu_start = time.time(), time.process_time()
    with connection.execute_wrapper(count):
        ok = register(bodies)
    end, cpu = time.time(), time.process_time() - cpu_start
    with connection.cursor() as cursor:
        backend = _backend_cpu(cursor) - backend_start
    return {"ok": ok, "start": start, "end": end, "cpu": cpu, "backend_cpu": backend, **counts}


def bench_api(count: int, workers: int) -> None:
    from sijill.accounts.models import User

    User.objects.create_user(username="bench-admin", password="bench-password-1", role="admin",
                             is_staff=True, is_superuser=True)
    sizes = [4 + i % 3 for i in range(count + WARMUP * workers)]
    numbers = _persons(sum(sizes))
    households, at = [], 0
    for size in sizes:
        households.append(numbers[at:at + size])
        at += size
    warmups, households = households[:WARMUP * workers], households[WARMUP * workers:]
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(workers) as pool:
        barrier = manager.Barrier(workers)
        results = pool.map(_worker, [(households[i::workers], warmups[i::workers], barrier)
                                     for i in range(workers)])
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    done = sum(r["ok"] for r in results)

    def per(name: str, scale: float = 1000) -> float:
        return scale * sum(r[name] for r in results) / max(done, 1)

    report("households.api_registrations", f"{done / elapsed:,.0f}/s",
           f"{done}/{count} households of 4-6 members, {workers} worker processes timed from "
           f"a barrier after {WARMUP} warm-up registrations each, load "
           f"{os.getloadavg()[0]:.1f}, target 150/s on 2 cores; per registration: "
           f"{per('cpu'):.1f} ms CPU in Django, {per('backend_cpu'):.1f} ms in PostgreSQL, "
           f"{per('statements', 1):.1f} statements, {per('audit_wait'):.2f} ms waiting for "
           "the audit chain")


def _checkpoint() -> None:
    """Start each timed write from the same state: no dirty pages, no checkpoint due (a
    checkpoint in the middle of one run and not of another moves the figure by seconds)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


#: The tables the import writes, in its order; with the ids it sets itself (the others take
#: their id from the column's identity default, as the import lets them).
_WRITTEN = (("households_household", True), ("households_registrationevent", False),
            ("households_declarationversion", True), ("households_memberdeclaration", False),
            ("households_membership", False))


def _max_ids() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for table, _ in _WRITTEN:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
            out[table] = cursor.fetchone()[0]
        return out


def _copy_of_written_rows(before: dict[str, int]) -> tuple[float, float]:
    """Baseline (b): the rows the import wrote, COPYed again into the same tables (indexes,
    checks, foreign keys checked at COMMIT), in one transaction: (seconds of COPY, seconds of
    COMMIT). The rows are read back, the tables emptied, rows written before the import put
    back untimed, then the import's rows timed."""
    from django.db import connection, transaction

    def columns(cursor, table: str, keep_id: bool) -> str:
        cursor.execute("SELECT column_name FROM information_schema.columns "
                       "WHERE table_name = %s ORDER BY ordinal_position", [table])
        return ", ".join(f'"{c}"' for (c,) in cursor.fetchall() if keep_id or c != "id")

    def read(cursor, table: str, cols: str, where: str) -> bytes:
        out = bytearray()
        with cursor.copy(f'COPY (SELECT {cols} FROM "{table}" WHERE {where} '
                         "ORDER BY id) TO STDOUT WITH (FORMAT csv)") as copy:
            for data in copy:
                out += data
        return bytes(out)

    def write(cursor, table: str, cols: str, data: bytes) -> None:
        with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy:
            copy.write(data)

    earlier, imported = {}, {}
    with connection.cursor() as cursor:
        for table, keep_id in _WRITTEN:
            every = columns(cursor, table, True)
            earlier[table] = (every, read(cursor, table, every, f"id <= {before[table]}"))
            cols = columns(cursor, table, keep_id)
            imported[table] = (cols, read(cursor, table, cols, f"id > {before[table]}"))
        cursor.execute("TRUNCATE " + ", ".join(t for t, _ in _WRITTEN) + " CASCADE")
        with transaction.atomic():
            for table, _ in _WRITTEN:
                write(cursor, table, *earlier[table])
    _checkpoint()
    with connection.cursor() as cursor:
        start = time.perf_counter()
        with transaction.atomic():
            for table, _ in _WRITTEN:
                write(cursor, table, *imported[table])
            copied = time.perf_counter()
        committed = time.perf_counter()
    return copied - start, committed - copied


def bench_import(count: int) -> None:
    """Bulk import of `count` households against two baselines, both measured in this run:
    the target's, a raw COPY of the same rows: exactly the rows the import wrote, COPYed into
    the same tables with their indexes, checks and foreign keys (checked at COMMIT), which is
    what loading those households costs without the import's reading, validation and lookups
    (import / that = the import's own overhead); and, for reference, a COPY of the file as text
    into an UNLOGGED table of text columns, which writes no registry row at all."""
    import polars as pl
    from django.db import connection

    from sijill.households.bulk import COLUMNS, households_import
    from sijill.households.tests.factories import household_data, member_data

    sizes = [1 + i % 5 for i in range(count)]
    numbers = _persons(sum(sizes))
    rows, at = [], 0
    base = household_data()
    for i, size in enumerate(sizes):
        place = {"household_key": f"H{i}", "commune": "04.441.01.0", "milieu": "urban",
                 "address": f"{i} rue", "declarant_idcs": numbers[at], "notice_language": "ar",
                 **base}
        for j in range(size):
            rows.append({**place, **member_data(numbers[at + j], "head" if j == 0 else "child")})
        at += size
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "households.csv"
        pl.DataFrame(rows).select(COLUMNS).write_csv(path)
        del rows
        cols = ", ".join(f'"{c}" text' for c in COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE UNLOGGED TABLE bench_raw ({cols})")
            start = time.perf_counter()
            with cursor.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(path.read_bytes())
            raw = time.perf_counter() - start
            cursor.execute("DROP TABLE bench_raw")
        before = _max_ids()
        _checkpoint()
        start = time.perf_counter()
        result = households_import(path=path, day=date.today())
        elapsed = time.perf_counter() - start
    assert result.ok, result.errors[:5]
    schema_copy, schema_commit = _copy_of_written_rows(before)
    schema = schema_copy + schema_commit
    t = result.timings
    core = t["validate"] + t["write"]
    report("households.bulk_import", f"{count / elapsed:,.0f} households/s",
           f"{count:,} households, {sum(sizes):,} members in {elapsed:.1f}s: validate "
           f"{t['validate']:.1f}s, write {t['write']:.1f}s of which COMMIT (deferred foreign "
           f"keys) {t['commit']:.1f}s, queue scoring {t.get('announce', 0):.1f}s")
    report("households.bulk_import_vs_copy", f"{elapsed / schema:.2f}x",
           f"target 2x: a raw COPY of the same rows, i.e. exactly the rows the import wrote, "
           f"COPYed into the registry's tables with their constraints: {schema:.1f}s (COPY "
           f"{schema_copy:.1f}s, COMMIT {schema_commit:.1f}s); the import's own overhead "
           f"{elapsed - schema:.1f}s")
    report("households.bulk_import_vs_file_copy", f"{elapsed / raw:.1f}x",
           f"for reference: the file COPYed as text into an UNLOGGED table of text columns "
           f"{raw:.2f}s ({core / raw:.1f}x without the scoring queue); it writes no registry "
           f"row: the rows the import must write already take {schema / raw:.1f}x it")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-households", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--only", choices=("api", "import"), help="run one of the two")
    args, _ = parser.parse_known_args()
    if not postgres_available():
        report("households", "skipped", "PostgreSQL not reachable")
        return 0
    setup_django_on_bench_db(fresh=True)
    if args.only != "import":
        bench_api(args.api_households, args.workers)
    if args.only != "api":
        bench_import(args.households)
    return 0


if __name__ == "__main__":
    sys.exit(main())
