"""Verification with partner bodies: households fully verified per second when every partner
answers after 50 ms, and the ratio to asking the partners one call at a time (same run).

A synthetic population is loaded (its hidden truth written beside it), the partner simulator
serves that truth on a free port with 50 ms of latency per answer, and households (without a
reported death, whose verification would hand over to a new declaration) are verified end to
end through `verification_process`: 7 partners asked, evidence recorded, discrepancies,
verified values, score, status "scored". Parallel: the partners of a household at once (the
production path). Serial baseline: one partner call at a time (`workers=1`), on other
households of the same population.

    .venv/bin/python bench/bench_verification.py [--households N] [--latency-ms 50]

PostgreSQL (BENCH_DATABASE_URL, default .../sijill_bench_verification, recreated); a couple of
minutes at the default size.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
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
    import polars as pl
    from django.conf import settings
    from django.test.utils import override_settings

    from sijill.households.models import Household
    from sijill.synthetic.generate import Options
    from sijill.synthetic.load import population_load
    from sijill.verification import services
    from sijill.verification.models import Evidence, Verification
    from sijill.verification.simulator import PartnerSimulator

    n = args.households
    with tempfile.TemporaryDirectory() as tmp:
        truth = Path(tmp) / COMMUNE
        population_load(COMMUNE, 11, Options(max_households=3 * n), truth_dir=truth)
        dead = pl.read_parquet(truth / "deaths.parquet")["household_key"].implode()
        refs = (pl.read_parquet(truth / "household_ids.parquet")
                .filter(~pl.col("household_key").is_in(dead))["reference"].to_list())
        ids = list(Household.objects.filter(reference__in=refs).order_by("pk")
                   .values_list("pk", flat=True))[:2 * n]
        sim = PartnerSimulator(data=tmp, latency_ms=args.latency_ms).start()
        conf = {**settings.SIJILL, "PARTNER_URL": sim.url, "VERIFICATION_TIMEOUT": 10.0}
        conf.pop("VERIFICATION_PARTNERS", None)
        try:
            with override_settings(SIJILL=conf):
                verifications = [services.verification_start(household_id=pk, version=1)
                                 for pk in ids]
                parallel, serial = verifications[:n], verifications[n:]

                def run(batch: list[Verification], workers: int | None) -> float:
                    started = time.perf_counter()
                    for v in batch:
                        state = services.verification_process(v.pk, workers=workers)
                        assert state == "concluded", state
                    return time.perf_counter() - started

                run(verifications[:0], None)
                t_parallel = run(parallel, None)
                t_serial = run(serial, 1)
        finally:
            sim.stop()
        answers = Evidence.objects.filter(outcome="answer").count()
        assert answers == 7 * 2 * n, answers
        assert Household.objects.filter(pk__in=ids, status="scored").count() == 2 * n
    rate, base = n / t_parallel, n / t_serial
    report("households fully verified per second (7 partners, "
           f"{args.latency_ms:.0f} ms each, partners in parallel)",
           f"{rate:.1f}/s over {n} households",
           f"one partner call at a time: {base:.1f}/s; ratio {rate / base:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
