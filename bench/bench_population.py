"""Population register benchmarks (issue 2).

- IDCS allocations per second, against a bare loop drawing 10 random digits;
- enrolments per second through the API on PostgreSQL, against a raw COPY of the same rows;
- probable-duplicate search latency p50/p99 on a register of N persons (default 1,000,000),
  against a primary-key lookup on the same table.
"""

from __future__ import annotations

import argparse
import secrets
import time

from common import (
    percentile,
    postgres_available,
    report,
    setup_django_on_bench_db,
)


def bench_idcs(seconds: float = 2.0) -> None:
    from sijill.population import idcs

    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        idcs.generate()
        n += 1
    rate = n / (time.perf_counter() - start)
    m, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        "".join(str(secrets.randbelow(10)) for _ in range(10))
        m += 1
    base = m / (time.perf_counter() - start)
    report("population.idcs_allocations", f"{rate:,.0f}/s one at a time",
           f"bare 10 random digits: {base:,.0f}/s, ratio {base / rate:.2f}x")
    start = time.perf_counter()
    many = len(idcs.generate_many(500_000))
    bulk = many / (time.perf_counter() - start)
    report("population.idcs_allocations_bulk", f"{bulk:,.0f}/s vectorised",
           f"ratio to the bare loop: {base / bulk:.2f}x")


def _person_rows(count: int, seed: int = 1):
    """Rows for COPY into population_person: realistic names, keys computed."""
    import numpy as np

    from sijill.population import normalize
    from sijill.population.services import idcs_allocate_many
    from sijill.synthetic import names

    rng = np.random.default_rng(seed)
    sexes = rng.random(count) < 0.5
    male = names.MALE_TABLE.sample(rng, count)
    female = names.FEMALE_TABLE.sample(rng, count)
    family = names.FAMILY_TABLE.sample(rng, count)
    days = rng.integers(0, 365 * 90, count)
    numbers = idcs_allocate_many(count=count)
    import datetime as dt

    origin = dt.date(1935, 1, 1)
    cache_ar: dict[str, str] = {}
    cache_lat: dict[str, str] = {}

    def key_ar(s: str) -> str:
        if s not in cache_ar:
            cache_ar[s] = normalize.arabic_key(s)
        return cache_ar[s]

    def key_lat(s: str) -> str:
        if s not in cache_lat:
            cache_lat[s] = normalize.latin_key(s)
        return cache_lat[s]

    for i in range(count):
        table, idx = (names.MALE_TABLE, male[i]) if sexes[i] else (names.FEMALE_TABLE, female[i])
        first_ar, first_lat = table.arabic[idx], table.latin[idx]
        fam_ar, fam_lat = names.FAMILY_TABLE.arabic[family[i]], names.FAMILY_TABLE.latin[family[i]]
        birth = origin + dt.timedelta(days=int(days[i]))
        yield (numbers[i], normalize.arabic(first_ar), normalize.arabic(fam_ar), first_lat, fam_lat,
               key_ar(first_ar), key_ar(fam_ar), key_lat(first_lat), key_lat(fam_lat),
               "M" if sexes[i] else "F", birth.isoformat(), birth.year)


COLUMNS = ("idcs", "first_name_ar", "family_name_ar", "first_name_latin", "family_name_latin",
           "first_key_ar", "family_key_ar", "first_key_latin", "family_key_latin", "sex",
           "birth_date", "birth_year")


def _copy_persons(rows, table: str = "population_person") -> int:
    from django.db import connection

    fixed = ("false", "", "MA", "citizen", "", "", "active", "document", "bulk", "1")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S+00")
    fixed_cols = ("birth_year_only", "birth_place_abroad", "nationality", "residence_status",
                  "birth_certificate_ref", "phone", "status", "enrolment_basis",
                  "enrolment_channel", "version", "created_at", "updated_at")
    n = 0
    sql = f"COPY {table} ({', '.join(COLUMNS + fixed_cols)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row((*row, *fixed, stamp, stamp))
            n += 1
    return n


def _letters(i: int) -> str:
    out = ""
    for _ in range(5):
        i, r = divmod(i, 26)
        out += "abcdefghijklmnopqrstuvwxyz"[r]
    return out


def bench_api_enrolments(count: int) -> None:
    from django.db import connection
    from django.test import Client

    from sijill.accounts.auth import token_create
    from sijill.testing import factories

    centre = factories.centre_create(code="bench", commune="04.421.01.0", provinces=["04.421"])
    user = factories.user_create(username=f"bench-agent-{time.time_ns()}", role="agent",
                                 centre=centre)
    client = Client()
    client.force_login(user)
    token_create(name="unused", role="partner", purpose="bench")
    bodies = []
    for i in range(count):
        data = factories.enrolment_input(family_name_latin="Bench " + _letters(i),
                                         family_name_ar="بنش").as_json()
        bodies.append({k: v for k, v in data.items() if v not in (None, [], "")})
    start = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/persons", body, content_type="application/json")
        assert response.status_code in (201, 202), response.content
    api_rate = count / (time.perf_counter() - start)
    # Baseline: the same number of rows by raw COPY into a scratch copy of the table.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_person (LIKE population_person "
                       "INCLUDING DEFAULTS INCLUDING IDENTITY)")
    rows = list(_person_rows(count, seed=99))
    start = time.perf_counter()
    _copy_persons(rows, table="bench_person")
    copy_rate = count / (time.perf_counter() - start)
    report("population.api_enrolments_pg", f"{api_rate:,.0f}/s",
           f"raw COPY of the rows: {copy_rate:,.0f}/s, ratio {copy_rate / api_rate:.1f}x")


def bench_duplicate_search(register_size: int, queries: int = 500) -> None:
    import random

    from django.db import connection

    from sijill.population.matching import Identity
    from sijill.population.models import Person
    from sijill.population.selectors import person_probable_duplicates

    have = Person.objects.count()
    if have < register_size:
        start = time.perf_counter()
        todo, chunk = register_size - have, 200_000
        for offset in range(0, todo, chunk):
            # Materialise each chunk first: its IDCS are allocated with queries, which cannot
            # run on the connection while a COPY is open on it.
            rows = list(_person_rows(min(chunk, todo - offset), seed=have + offset + 1))
            _copy_persons(rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE population_person")
        report("population.load_register", f"{register_size:,} persons in "
               f"{time.perf_counter() - start:.1f} s (COPY)")
    rng = random.Random(5)
    sample = list(Person.objects.order_by("?").values_list("idcs", flat=True)[:queries])
    people = list(Person.objects.filter(idcs__in=sample))
    latencies, pk_latencies = [], []
    for p in people:
        identity = Identity(p.first_name_ar, p.family_name_ar,
                            p.first_name_latin if rng.random() < 0.5 else p.first_name_latin + "e",
                            p.family_name_latin, p.sex, p.birth_date)
        start = time.perf_counter()
        person_probable_duplicates(identity=identity)
        latencies.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        Person.objects.filter(idcs=p.idcs).first()
        pk_latencies.append((time.perf_counter() - start) * 1000)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    report(f"population.duplicate_search_{register_size // 1000}k",
           f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 50 ms)",
           f"IDCS lookup p50 {percentile(pk_latencies, 50):.2f} ms, "
           f"ratio p50 {p50 / max(percentile(pk_latencies, 50), 1e-6):.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--enrolments", type=int, default=1000)
    args = parser.parse_args()
    if not postgres_available():
        report("population", "skipped: PostgreSQL is not reachable on 127.0.0.1:5432")
        return
    setup_django_on_bench_db(fresh=True)
    bench_idcs()
    bench_api_enrolments(args.enrolments)
    bench_duplicate_search(args.persons)


if __name__ == "__main__":
    main()
