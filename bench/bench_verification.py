"""Verification with partner bodies: households fully verified per second when every partner
answers after 50 ms, and the ratio to asking the partners one call at a time (same run).

A synthetic population is loaded (its hidden truth written beside it), the partner simulator
serves that truth on a free port with 50 ms of latency per answer, and households (without a
reported death, whose verification would hand over to a new declaration) are verified end to
end through `verification_process`: 7 partners asked, evidence recorded, discrepancies,
verified values, score, status "scored". Parallel: the partners of a household at once (the
single-household task). Batch: `verifications_process` over 20 households at a time (the
batch task: the partners of all 20 asked together, each household then recorded on its own).
Serial baseline: one partner call at a time (`workers=1`), on other households of the same
population. The database queries per household (parallel mode) are counted too.

    .venv/bin/python bench/bench_verification.py [--households N] [--latency-ms 50]

PostgreSQL (BENCH_DATABASE_URL, default .../sijill_bench_verification, recreated); a couple of
minutes at the default size.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE_URL",
                      "postgres://postgres@127.0.0.1:5432/sijill_bench_verification")

from common import postgres_available, report, setup_django_on_bench_db

COMMUNE = "04.421.01.07"  # Touarga (Rabat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=60, help="per mode")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args, _unknown = parser.parse_known_args()
    if not postgres_available():
        print("bench_verification: skipped (PostgreSQL not reachable)")
        return 0
    setup_django_on_bench_db(fresh=True)
    warnings.filterwarnings("ignore", "Limit for query logging")  # the population load
    import polars as pl
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from sijill.households.models import Household
    from sijill.synthetic.generate import Options
    from sijill.synthetic.load import population_load
    from sijill.verification import services
    from sijill.verification.models import Evidence, Verification
    from sijill.verification.simulator import PartnerSimulator

    n = args.households
    with tempfile.TemporaryDirectory() as tmp:
        truth = Path(tmp) / COMMUNE
        population_load(COMMUNE, 11, Options(max_households=4 * n), truth_dir=truth)
        dead = pl.read_parquet(truth / "deaths.parquet")["household_key"].implode()
        refs = (pl.read_parquet(truth / "household_ids.parquet")
                .filter(~pl.col("household_key").is_in(dead))["reference"].to_list())
        ids = list(Household.objects.filter(reference__in=refs).order_by("pk")
                   .values_list("pk", flat=True))[:3 * n]
        sim = PartnerSimulator(data=tmp, latency_ms=args.latency_ms).start()
        conf = {**settings.SIJILL, "PARTNER_URL": sim.url, "VERIFICATION_TIMEOUT": 10.0}
        conf.pop("VERIFICATION_PARTNERS", None)
        try:
            with override_settings(SIJILL=conf):
                verifications = [services.verification_start(household_id=pk, version=1)
                                 for pk in ids]
                parallel, serial, batched = (verifications[:n], verifications[n:2 * n],
                                             verifications[2 * n:])

                def run(batch: list[Verification], workers: int | None) -> float:
                    started = time.perf_counter()
                    for v in batch:
                        state = services.verification_process(v.pk, workers=workers)
                        assert state == "concluded", state
                    return time.perf_counter() - started

                def run_batches(batch: list[Verification], size: int = 20) -> float:
                    started = time.perf_counter()
                    for i in range(0, len(batch), size):
                        states = services.verifications_process(
                            [v.pk for v in batch[i:i + size]])
                        assert set(states.values()) == {"concluded"}, states
                    return time.perf_counter() - started

                run(verifications[:0], None)
                with CaptureQueriesContext(connection) as queries:
                    t_parallel = run(parallel, None)
                t_serial = run(serial, 1)
                t_batch = run_batches(batched)
        finally:
            sim.stop()
        answers = Evidence.objects.filter(outcome="answer").count()
        assert answers == 7 * 3 * n, answers
        assert Household.objects.filter(pk__in=ids, status="scored").count() == 3 * n
    rate, base, batch_rate = n / t_parallel, n / t_serial, n / t_batch
    report("households fully verified per second (7 partners, "
           f"{args.latency_ms:.0f} ms each, partners in parallel)",
           f"{rate:.1f}/s over {n} households",
           f"one partner call at a time: {base:.1f}/s; ratio {rate / base:.1f}x; "
           f"{len(queries.captured_queries) / n:.1f} queries per household")
    report("households fully verified per second (batch task, 20 households' partners "
           "asked together)", f"{batch_rate:.1f}/s over {n} households",
           f"one partner call at a time: {base:.1f}/s; ratio {batch_rate / base:.1f}x; "
           f"single-household parallel passes: ratio {batch_rate / rate:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
