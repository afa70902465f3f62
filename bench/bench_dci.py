"""DCI sync search latency: p50 and p99 of `registry/sync/search` by IDCS (UIN) through the
whole stack (Django, the envelope checked against the standard's schema, the partner's Ed25519
signature verified, the search, the audit entry, the registry's signature on the answer), over
a PostgreSQL registry of N households (default 100,000; built once, as bench_programs does).

Baseline, same run: the bare SQL lookup of a person's household by IDCS.

    .venv/bin/python bench/bench_dci.py [--households N] [--searches K] [--fresh]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sijill_bench_dci")

from common import postgres_available, report, setup_django_on_bench_db


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--fresh", action="store_true")
    args, _ = parser.parse_known_args()
    n = args.households
    if not postgres_available():
        report("dci bench", "skipped (no PostgreSQL)")
        return 0
    setup_django_on_bench_db(fresh=args.fresh)
    from bench_programs import _count, add_scores
    from bench_scoring_pg import build_registry
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.db import connection
    from django.test import Client

    from sijill.accounts.actors import SYSTEM
    from sijill.dci import services, signing
    from sijill.dci.models import DciPartner

    if _count("SELECT COUNT(*) FROM households_household") != n:
        if _count("SELECT COUNT(*) FROM households_household"):
            setup_django_on_bench_db(fresh=True)
        start = time.perf_counter()
        build_registry(n)
        add_scores(n)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        report("setup: registry", f"{n:,} households in {time.perf_counter() - start:.0f} s")
    persons = _count("SELECT MAX(id) FROM population_person")
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
    if not _count("SELECT COUNT(*) FROM households_membership"):
        # The bench registry has declared members only: their memberships, as registered.
        with connection.cursor() as cur:
            cur.execute("INSERT INTO households_membership (household_id, person_id,"
                        " relationship, start_date, end_reason) SELECT d.household_id,"
                        " m.person_id, m.relationship, DATE '2025-03-01', ''"
                        " FROM households_memberdeclaration m JOIN"
                        " households_declarationversion d ON d.id = m.declaration_id")
            cur.execute("ANALYZE households_membership")
    DciPartner.objects.filter(sender_id="bench").update(
        active=False, sender_id=f"old-{uuid.uuid4().hex[:8]}")
    _, token = services.partner_create(actor=SYSTEM, sender_id="bench", name="bench",
                                       purpose="benchmark", detail="members",
                                       public_key=public)
    client = Client()
    rng = np.random.default_rng(5)
    ids = rng.integers(1, persons + 1, args.searches + 20)

    def search(idcs: str) -> float:
        message = {"transaction_id": uuid.uuid4().hex[:20], "search_request": [{
            "reference_id": "r1", "timestamp": services.now_iso(),
            "search_criteria": {"query_type": "idtype-value",
                                "query": {"type": "UIN", "value": idcs}}}]}
        header = {"version": "1.0.0", "message_id": uuid.uuid4().hex,
                  "message_ts": services.now_iso(), "action": "search", "sender_id": "bench",
                  "total_count": 1}
        body = json.dumps({"signature": signing.sign(key, header=header, message=message,
                                                     sender_id="bench", key_id="k"),
                           "header": header, "message": message})
        start = time.perf_counter()
        r = client.post("/api/dci/registry/sync/search", body, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}")
        elapsed = time.perf_counter() - start
        assert r.status_code == 200, r.content[:300]
        assert r.json()["message"]["search_response"][0]["data"]["reg_records"]
        return elapsed

    for pid in ids[:20]:  # warm-up (schema validators, connections)
        search(str(int(pid) + 1_000_000_000))
    times = [search(str(int(pid) + 1_000_000_000)) for pid in ids[20:]]
    bare = []
    with connection.cursor() as cur:
        for pid in ids[20:]:
            start = time.perf_counter()
            cur.execute("SELECT m.household_id FROM households_membership m JOIN"
                        " population_person p ON p.id = m.person_id WHERE p.idcs = %s"
                        " AND m.end_date IS NULL", [str(int(pid) + 1_000_000_000)])
            cur.fetchall()
            bare.append(time.perf_counter() - start)
    report("DCI sync search by IDCS (signed, validated, audited)",
           f"p50 {_pct(times, 50):.1f} ms, p99 {_pct(times, 99):.1f} ms over {len(times)} "
           f"searches, {n:,} households",
           f"bare SQL lookup p50 {_pct(bare, 50):.2f} ms: x{_pct(times, 50) / _pct(bare, 50):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
