"""End-to-end rescore of N households stored in PostgreSQL (default 1,000,000).

Setup (once, reused while the database holds N households; --fresh rebuilds): synthetic
persons, households, declaration versions and member declarations bulk-loaded with COPY.

Measured:
1. the rescore as activation runs it (`services.rescore_run`): read every current declaration
   in chunks (COPY out into Polars), compute with the batch engine, write Score records
   (COPY in) — its time, households per second and peak memory (max RSS of this process);
2. the baseline: a bare COPY out of the same columns (the reader's two statements over all
   households) plus a bare COPY in of the same score rows into the same table; the ratio
   rescore / baseline (target within 2x), peak memory target under 1.5 GB;
3. single-score latency through the service (`score_compute`: declaration and register reads,
   engine, insert, audit), p50 / p95 / p99.

    .venv/bin/python bench/bench_scoring_pg.py [--households N] [--chunk-size C] [--fresh]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_DATABASE_URL",
                      "postgres://postgres@127.0.0.1:5432/sijill_bench_scoring")

from common import (
    peak_rss_mb,
    percentile,
    postgres_available,
    report,
    setup_django_on_bench_db,
)

URBAN_SHARE = 0.628  # RGPH 2024
SIZE_WEIGHTS = np.array([0.09, 0.13, 0.17, 0.21, 0.17, 0.11, 0.06, 0.03, 0.02, 0.01])
REFERENCE_DAY = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Setup: synthetic registry by COPY


def _copy_frame(cur, table: str, frame: pl.DataFrame) -> None:
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False, null_value="")
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:
        view = buf.getbuffer()
        for start in range(0, len(view), 8 << 20):
            copy.write(view[start:start + (8 << 20)])


def _values(enum) -> list[str]:
    return [m.value for m in enum]


def _pick(rng, values: list[str], n: int, p=None) -> pl.Series:
    return pl.Series(np.asarray(values)[rng.choice(len(values), n, p=p)])


def build_registry(n: int, *, seed: int = 7, block: int = 250_000) -> None:
    """Insert n households (scored status, one declaration version each) and their members."""
    from django.db import connection

    from sijill.declaration import vocab
    from sijill.geography.models import Commune

    communes = list(Commune.objects.values_list("code", "kind", "households_2024"))
    urban = [(c, w) for c, k, w in communes if k == "urban" and w > 0]
    rural = [(c, w) for c, k, w in communes if k == "rural" and w > 0]
    rng = np.random.default_rng(seed)
    connection.ensure_connection()
    raw = connection.connection
    person_id = household_id = 0
    start = time.perf_counter()
    with raw.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers while loading
        for lo in range(0, n, block):
            m = min(block, n - lo)
            sizes = rng.choice(len(SIZE_WEIGHTS), m, p=SIZE_WEIGHTS) + 1
            members = int(sizes.sum())
            is_urban = rng.random(m) < URBAN_SHARE
            hh_ids = np.arange(household_id + 1, household_id + m + 1)
            offsets = np.zeros(m + 1, dtype=np.int64)
            np.cumsum(sizes, out=offsets[1:])
            p_ids = np.arange(person_id + 1, person_id + members + 1)
            owner = np.repeat(np.arange(m), sizes)
            position = np.arange(members) - offsets[:-1][owner]
            head_pid = p_ids[offsets[:-1]]
            # Persons: the head 20-90, a spouse 18-85, others 0-90 years old.
            age = np.where(position == 0, rng.integers(20, 91, members),
                           np.where(position == 1, rng.integers(18, 86, members),
                                    rng.integers(0, 91, members)))
            birth = (np.datetime64("2025-03-01") - (age * 365.25).astype("timedelta64[D]")
                     - rng.integers(0, 365, members).astype("timedelta64[D]"))
            birth_s = pl.Series(birth.astype("datetime64[D]")).cast(pl.Date)
            now = REFERENCE_DAY.isoformat()
            persons = pl.DataFrame({
                "id": p_ids,
                "idcs": pl.Series(p_ids + 1_000_000_000).cast(pl.Utf8),
                "first_name_ar": "محمد", "family_name_ar": "العلوي",
                "first_name_latin": "Mohammed", "family_name_latin": "Alaoui",
                "first_key_ar": "محمد", "family_key_ar": "علوي", "first_key_latin": "mhmd",
                "family_key_latin": "alw",
                "sex": _pick(rng, ["M", "F"], members),
                "birth_date": birth_s, "birth_year_only": False,
                "birth_year": birth_s.dt.year().cast(pl.Int32),
                "birth_place_abroad": "", "nationality": "MA", "residence_status": "citizen",
                "birth_certificate_ref": "", "phone": "", "status": "active",
                "enrolment_basis": "document", "enrolment_channel": "bulk", "version": 1,
                "created_at": now, "updated_at": now,
            })
            _copy_frame(cur, "population_person", persons)
            del persons
            commune = np.where(
                is_urban,
                np.asarray([c for c, _ in urban])[rng.choice(
                    len(urban), m, p=np.array([w for _, w in urban]) / sum(w for _, w in urban))],
                np.asarray([c for c, _ in rural])[rng.choice(
                    len(rural), m, p=np.array([w for _, w in rural]) / sum(w for _, w in rural))])
            milieu = np.where(is_urban, "urban", "rural")
            households = pl.DataFrame({
                "id": hh_ids,
                "reference": pl.Series(hh_ids).map_elements(lambda i: f"MEN-{i:08X}",
                                                            return_dtype=pl.Utf8),
                "commune_id": commune, "milieu": milieu, "address": "bench",
                "declarant_id": head_pid, "head_id": head_pid, "status": "scored",
                "notice_language": "ar", "current_version": 1, "created_by": "bench",
                "created_at": now, "updated_at": now,
            })
            _copy_frame(cur, "households_household", households)
            del households
            declarations = pl.DataFrame({
                "id": hh_ids, "household_id": hh_ids, "version": 1, "reason": "registration",
                "created_at": now, "created_by": "bench", "declarant_id": head_pid,
                "commune_id": commune, "milieu": milieu, "address": "bench",
                "dwelling_type": _pick(rng, _values(vocab.DwellingType), m),
                "rooms": rng.integers(1, 7, m),
                "has_bathroom_or_shower": rng.random(m) < 0.6,
                "has_kitchen": rng.random(m) < 0.8, "has_toilet": rng.random(m) < 0.9,
                "has_running_water": rng.random(m) < 0.8,
                "electricity_meter": _pick(rng, _values(vocab.ElectricityMeter), m),
                "cooking_fuel": _pick(rng, _values(vocab.CookingFuel), m),
                "has_garage": rng.random(m) < 0.1,
                "has_secondary_residence": rng.random(m) < 0.05,
                "has_professional_premises": rng.random(m) < 0.05,
                "owns_non_agricultural_land": rng.random(m) < 0.1,
                "owns_or_farms_irrigated_land": rng.random(m) < 0.15,
                "cows": np.where(is_urban, 0, rng.integers(0, 5, m)),
                "mobile_phones": rng.integers(0, 6, m), "computers": rng.integers(0, 3, m),
                "has_satellite_dish": rng.random(m) < 0.7, "has_landline": rng.random(m) < 0.1,
                "cars": rng.choice([0, 0, 0, 1, 2], m), "motorcycles": rng.integers(0, 3, m),
                "has_loan": rng.random(m) < 0.2,
                "monthly_water_dh": rng.integers(0, 300, m),
                "monthly_electricity_dh": rng.integers(0, 600, m),
                "monthly_butane_dh": rng.integers(0, 200, m),
                "monthly_phone_internet_dh": rng.integers(0, 400, m),
            })
            _copy_frame(cur, "households_declarationversion", declarations)
            del declarations
            relationship = np.where(position == 0, "head", np.asarray(
                ["spouse", "child", "child", "child", "parent", "sibling", "grandchild",
                 "other_relative", "non_relative"])[rng.integers(0, 9, members)])
            relationship = np.where((position == 1) & (rng.random(members) < 0.8), "spouse",
                                    relationship)
            relationship = np.where((position > 0) & (relationship == "spouse")
                                    & (position != 1), "child", relationship)
            member_rows = pl.DataFrame({
                "declaration_id": hh_ids[owner], "position": position, "person_id": p_ids,
                "relationship": relationship,
                "marital_status": _pick(rng, _values(vocab.MaritalStatus), members),
                "education_level": _pick(rng, _values(vocab.EducationLevel), members),
                "diploma": _pick(rng, _values(vocab.Diploma), members),
                "literate": rng.random(members) < 0.7,
                "activity": _pick(rng, _values(vocab.Activity), members),
                "employment_status": _pick(rng, _values(vocab.EmploymentStatus), members),
                "occupation": _pick(rng, _values(vocab.Occupation), members),
                "schooling": _pick(rng, _values(vocab.Schooling), members),
                "disability": _pick(rng, _values(vocab.Disability), members),
                "health_coverage": _pick(rng, _values(vocab.HealthCoverage), members),
            })
            # Disability and health coverage are encrypted at rest (sijill.security.fields).
            from sijill.security.fields import encrypt_frame

            _copy_frame(cur, "households_memberdeclaration", encrypt_frame(member_rows))
            del member_rows
            person_id += members
            household_id += m
            raw.commit()
            print(f"  setup: {household_id:,} households, {person_id:,} persons "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        cur.execute("SET session_replication_role = origin")
        for table in ("population_person", "households_household",
                      "households_declarationversion", "households_memberdeclaration"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
            cur.execute(f"ANALYZE {table}")
    raw.commit()


def bench_households() -> int:
    """Households already loaded in the benchmark database (0 when there is none)."""
    import psycopg
    from common import BENCH_DB

    try:
        with psycopg.connect(BENCH_DB, connect_timeout=3) as conn:
            row = conn.execute("SELECT COUNT(*) FROM households_household "
                               "WHERE created_by = 'bench'").fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


def registry_size() -> int:
    from sijill.households.models import Household

    return Household.objects.filter(created_by="bench").count()


# ---------------------------------------------------------------------------------------------
# Measurements


def fresh_active_formula():
    """A new active version (a copy of the shipped formula): nothing is scored with it yet."""
    import yaml
    from django_tasks_db.models import DBTaskResult

    from sijill.accounts.actors import SYSTEM
    from sijill.scoring import services
    from sijill.scoring.engine.formula import DEFAULT_FORMULA_FILE

    data = yaml.safe_load(DEFAULT_FORMULA_FILE.read_text(encoding="utf-8"))
    data["version"] = f"bench-{time.time_ns()}"
    fv = services.formula_import(actor=SYSTEM, text=yaml.safe_dump(data, allow_unicode=True))
    run = services.formula_activate(actor=SYSTEM, pk=fv.pk)
    DBTaskResult.objects.filter(task_path__endswith="rescore_task").delete()  # we run it here
    return fv, run


def truncate_scores() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        # CASCADE: other apps' rows pointing at scores (cases' score reviews) go with them.
        cur.execute("TRUNCATE scoring_score CASCADE")


def bare_copy_out() -> tuple[float, int]:
    """COPY out of the reader's two statements over every household, into memory and away."""
    from django.db import connection

    from sijill.scoring import selectors

    connection.ensure_connection()
    raw = connection.connection
    nbytes = 0
    start = time.perf_counter()
    with raw.cursor() as cur:
        members = selectors._members_sql().split(" WHERE ")[0]  # every member, no filter
        for sql, params in ((selectors._households_sql(), [0, 10**12]), (members, [])):
            with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
                for data in copy:
                    nbytes += len(data)
    return time.perf_counter() - start, nbytes


def dump_scores(path: Path) -> None:
    from django.db import connection

    from sijill.scoring.services import SCORE_COLUMNS

    connection.ensure_connection()
    cols = ", ".join(f'"{c}"' for c in SCORE_COLUMNS)
    with connection.connection.cursor() as cur, path.open("wb") as out, cur.copy(
            f"COPY (SELECT {cols} FROM scoring_score) TO STDOUT (FORMAT csv)") as copy:
        for data in copy:
            out.write(data)


def bare_copy_in(path: Path) -> float:
    """COPY in of the same score rows (same columns, same table, same indexes)."""
    from django.db import connection

    from sijill.scoring.services import SCORE_COLUMNS

    connection.ensure_connection()
    raw = connection.connection
    cols = ", ".join(f'"{c}"' for c in SCORE_COLUMNS)
    start = time.perf_counter()
    with raw.cursor() as cur, path.open("rb") as f, cur.copy(
            f"COPY scoring_score ({cols}) FROM STDIN (FORMAT csv)") as copy:
        while data := f.read(8 << 20):
            copy.write(data)
    raw.commit()
    return time.perf_counter() - start


def single_latency(fv, samples: int) -> list[float]:
    from sijill.households.models import DeclarationVersion, Household
    from sijill.scoring import services

    ids = list(Household.objects.filter(created_by="bench").order_by("?")
               .values_list("id", flat=True)[:samples])
    times = []
    for pk in ids:
        household = Household.objects.select_related("declarant").get(pk=pk)
        version = DeclarationVersion.objects.get(household=household, version=1)
        start = time.perf_counter()
        services.score_compute(household=household, declaration=version, formula_version=fv)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--fresh", action="store_true", help="rebuild the synthetic registry")
    parser.add_argument("--latency-samples", type=int, default=300)
    args = parser.parse_args()
    if not postgres_available():
        report("scoring end-to-end (PostgreSQL)", "skipped: PostgreSQL not reachable")
        return
    n = args.households
    existing = bench_households()
    setup_django_on_bench_db(fresh=args.fresh or existing not in (0, n))
    if registry_size() != n:
        t = time.perf_counter()
        build_registry(n)
        report("scoring e2e setup", f"{n:,} households loaded by COPY in "
                                    f"{time.perf_counter() - t:.0f} s")
        # Measure in a new process (max RSS survives exec), so its peak is the rescore's.
        import subprocess

        argv = [a for a in sys.argv if a != "--fresh"]
        sys.exit(subprocess.run([sys.executable, *argv], check=False).returncode)

    from sijill.scoring import selectors, services
    from sijill.scoring.models import Score

    truncate_scores()
    fv, run = fresh_active_formula()
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    services.rescore_run(run, chunk_size=args.chunk_size)
    elapsed = time.perf_counter() - start
    peak = peak_rss_mb()
    run.refresh_from_db()
    written = run.result.get("written", 0)
    assert run.status == "done" and written == n, (run.status, run.result, run.error)
    report("scoring e2e rescore", f"{n:,} households read, scored and written in "
                                  f"{elapsed:.1f} s ({n / elapsed:,.0f} households/s), "
                                  f"chunks of {args.chunk_size:,}")
    report("scoring e2e peak memory", f"{peak:,.0f} MB max RSS (before the run: "
                                      f"{rss_before:,.0f} MB)", "target < 1,536 MB")

    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "scores.csv"
        dump_scores(dump)
        size_mb = dump.stat().st_size / 2**20
        out_s, out_bytes = bare_copy_out()
        truncate_scores()
        in_s = bare_copy_in(dump)
    baseline = out_s + in_s
    report("scoring e2e baseline", f"COPY out {out_s:.1f} s ({out_bytes / 2**20:,.0f} MB) + "
                                   f"COPY in {in_s:.1f} s ({size_mb:,.0f} MB of score rows) = "
                                   f"{baseline:.1f} s")
    report("scoring e2e ratio", f"{elapsed / baseline:.2f}x the bare COPY out + COPY in",
           "target within 2x")

    truncate_scores()
    times = single_latency(fv, args.latency_samples)
    ms = [t * 1000 for t in times]
    report("scoring single score via the service",
           f"p50 {percentile(ms, 50):.2f} ms, p95 {percentile(ms, 95):.2f} ms, "
           f"p99 {percentile(ms, 99):.2f} ms over {len(ms)} households "
           "(declaration + register reads, engine, insert, audit)")
    assert Score.objects.filter(formula=fv).count() == len(times)
    assert selectors.formula_current() == fv


if __name__ == "__main__":
    main()
