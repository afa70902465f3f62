"""Audit-trail write overhead (issue 10): enrolments through
`sijill.population.services.person_enrol` with the audit trail, against the same enrolments
with `audit_record` patched to a no-op, on PostgreSQL.

Sequential: rounds alternate a block with auditing and a block without, so the register grows
the same way under both and the per-enrolment medians compare like with like. Concurrent
(--threads, default 8): the same, with that many writers at once. An audit append takes a
transaction-scoped advisory lock (one chain, one order), so concurrent audited writers queue for
the rest of their transaction: this figure shows what that costs.

Target: under 1.2x. Database: BENCH_AUDIT_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/sijill_bench_audit (created, or emptied, here).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from unittest import mock

os.environ["BENCH_DATABASE_URL"] = os.environ.get(
    "BENCH_AUDIT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sijill_bench_audit")

from common import postgres_available, report, setup_django_on_bench_db


@contextmanager
def audit_disabled(enabled: bool):
    if enabled:
        yield
        return
    with mock.patch("sijill.population.services.audit_record", lambda **kwargs: None):
        yield


def _enrol_block(n: int) -> list[float]:
    from sijill.accounts.actors import SYSTEM
    from sijill.population.services import person_enrol
    from sijill.testing.factories import enrolment_input

    inputs = [enrolment_input() for _ in range(n)]
    times = []
    for data in inputs:
        start = time.perf_counter()
        person_enrol(actor=SYSTEM, data=data, hold_on_duplicates=False)
        times.append(time.perf_counter() - start)
    return times


def sequential(rounds: int, block: int) -> tuple[float, float]:
    with_audit: list[float] = []
    without: list[float] = []
    _enrol_block(block)  # warm-up: caches, connection, plans
    for _ in range(rounds):
        with audit_disabled(True):
            with_audit += _enrol_block(block)
        with audit_disabled(False):
            without += _enrol_block(block)
    return statistics.median(with_audit), statistics.median(without)


def concurrent(threads: int, per_thread: int, audited: bool) -> float:
    """Enrolments per second with `threads` writers at once."""
    from django.db import connection

    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            _enrol_block(per_thread)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    with audit_disabled(audited):
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        barrier.wait()
        start = time.perf_counter()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return threads * per_thread / elapsed


def search_hits(rounds: int, hits: int) -> tuple[float, float]:
    """Median time to record one search's `hits` entries: one append per hit (as before) and
    one bulk append (`audit_record_many`, used by person_search)."""
    from django.db import transaction

    from sijill.accounts.actors import SYSTEM
    from sijill.audit.services import AuditItem, audit_record, audit_record_many

    items = [AuditItem(action="search_hit", entity="person", entity_id=str(i), subject=str(i),
                       purpose="bench") for i in range(hits)]
    loop: list[float] = []
    bulk: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        with transaction.atomic():
            for item in items:
                audit_record(actor=SYSTEM, action=item.action, entity=item.entity,
                             entity_id=item.entity_id, subject=item.subject,
                             purpose=item.purpose)
        loop.append(time.perf_counter() - start)
        start = time.perf_counter()
        with transaction.atomic():
            audit_record_many(actor=SYSTEM, items=items)
        bulk.append(time.perf_counter() - start)
    return statistics.median(loop), statistics.median(bulk)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-thread", type=int, default=40)
    args, _ = parser.parse_known_args()
    if not postgres_available():
        print("audit: skipped (PostgreSQL not reachable)")
        return 0
    setup_django_on_bench_db(fresh=True)

    audited, bare = sequential(args.rounds, args.block)
    ratio = audited / bare
    report("audit.enrolment_overhead_sequential",
           f"{ratio:.2f}x ({audited * 1000:.2f} ms vs {bare * 1000:.2f} ms median per enrolment)",
           "target < 1.2x")

    if args.threads > 1:
        rate_audit = concurrent(args.threads, args.per_thread, audited=True)
        rate_bare = concurrent(args.threads, args.per_thread, audited=False)
        report(f"audit.enrolment_overhead_{args.threads}_writers",
               f"{rate_bare / rate_audit:.2f}x ({rate_audit:,.0f}/s audited vs "
               f"{rate_bare:,.0f}/s without)", "target < 1.2x")

    loop, bulk = search_hits(args.rounds * 5, hits=20)
    report("audit.search_20_hits_bulk_append",
           f"{loop / bulk:.1f}x faster ({bulk * 1000:.2f} ms vs {loop * 1000:.2f} ms one by one)",
           "audit_record_many vs one audit_record per hit")

    from django.core.management import call_command

    call_command("verify_audit")  # the chain the benchmark wrote is intact
    return 0


if __name__ == "__main__":
    sys.exit(main())
