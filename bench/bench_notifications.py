"""Notifications (issue 8): notices rendered and sent per second through the file backend, and
postal letters rendered per second, each against a baseline measured in the same run.

- notices: `notice_queue` (render in the household's language, outbox row, audit entry, the
  send task enqueued on commit in the database queue) in its own transaction, then
  `notification_send` through the file backend (claim, one JSON line appended, record), what the
  worker runs. Baseline: a bare loop appending the same JSON lines to
  a file (open, lock, write, close per line, as the backend does).
- render only: the notice's template rendered, no database, no file. Baseline: a bare
  `str.format` of the same text.
- letters: `letters_print` batches (each letter rendered by WeasyPrint, pages gathered into one
  PDF per batch, batch recorded). Baseline: a bare WeasyPrint render of one static letter page
  (the same HTML every time), one PDF per page.

- notices in batches: `notices_queue_many` (the same rows, audit entries, keys; one INSERT, one
  audit append and one batch send task per SEND_BATCH_MAX notices), then
  `notifications_send_many` per batch (one claim, one write to the file, one UPDATE), what the
  worker's `send_notifications_task` runs. Compared with the one-by-one figure of the same run.

Runs on a throw-away SQLite database in a temporary directory (its own var/ and outbox), or with
--postgres on a throw-away PostgreSQL database of its own on BENCH_DATABASE_URL's server (the
production database: there each transaction of the one-by-one path is a commit and each query
a round trip).
Usage: bench/bench_notifications.py [--notices 400] [--batch-notices 5000] [--letters 40]
       [--postgres]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import report

DEFAULT_NOTICES = 400
DEFAULT_BATCH_NOTICES = 5000
DEFAULT_LETTERS = 40


def _setup(var: Path, postgres: str = "") -> None:
    os.environ["SIJILL_VAR_DIR"] = str(var)
    os.environ["DATABASE_URL"] = postgres or f"sqlite:///{var / 'bench.sqlite3'}"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sijill.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _households(n: int, *, phone: bool) -> list:
    from sijill.households.tests.factories import household_create
    from sijill.testing.factories import person_create

    out = []
    for i in range(n):
        person = person_create(**({} if phone else {"phone": ""}))
        household = household_create(members=[(person, "head")])
        household.notice_language = ("ar", "fr", "en")[i % 3]
        household.save(update_fields=["notice_language"])
        out.append(household)
    return out


def bench_notices(count: int) -> tuple[float, float]:
    from django.db import transaction

    from sijill.notifications import conf
    from sijill.notifications.models import Notification
    from sijill.notifications.services import notice_queue, notification_send

    households = _households(20, phone=True)
    context = {"index": "9.2741", "review_until": "28/01/2027"}

    def one(key: str, household: object) -> None:
        with transaction.atomic():
            n = notice_queue(kind="index_notice", household=household, key=key, context=context)
        notification_send(notification_id=n.pk)

    for i in range(20):  # warm-up: templates, translations, connection
        one(f"warm{i}", households[i])
    start = time.perf_counter()
    for i in range(count):
        one(f"n{i}", households[i % 20])
    seconds = time.perf_counter() - start
    sent = Notification.objects.filter(key__startswith="n", status="sent").count()
    assert sent == count, f"{sent} of {count} sent"
    rate = count / seconds

    # Baseline: the same bytes, appended the same way, by a bare loop.
    import fcntl

    lines = (conf.get("OUTBOX_DIR") / "sms.jsonl").read_bytes().splitlines(keepends=True)[-count:]
    target = conf.get("OUTBOX_DIR") / "baseline.jsonl"
    start = time.perf_counter()
    for line in lines:
        with open(target, "ab") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(line)
            out.flush()
            fcntl.flock(out, fcntl.LOCK_UN)
    base = len(lines) / (time.perf_counter() - start)
    report("notices queued, rendered and sent one by one (file backend)",
           f"{rate:,.0f}/s over {count}",
           f"bare append of the same lines: {base:,.0f}/s, ratio {rate / base:.4f}")
    return rate, base


def bench_notices_batch(count: int, single_rate: float, base: float) -> None:
    """The batch path on the same households: `notices_queue_many` in the caller's transaction
    (one INSERT per SEND_BATCH_MAX rows, one audit append, one batch task enqueued per
    SEND_BATCH_MAX on commit), then `notifications_send_many` per batch, what the worker's
    `send_notifications_task` runs (one claim, one file write, one UPDATE)."""
    from django.db import transaction

    from sijill.households.models import Household
    from sijill.notifications import conf
    from sijill.notifications.models import Notification
    from sijill.notifications.services import (
        NoticeSpec,
        notices_queue_many,
        notifications_send_many,
    )

    households = list(Household.objects.order_by("pk")[:20])
    context = {"index": "9.2741", "review_until": "28/01/2027"}
    chunk = conf.get("SEND_BATCH_MAX")

    def run(prefix: str, n: int) -> None:
        specs = [NoticeSpec(kind="index_notice", household=households[i % 20],
                            key=f"{prefix}{i}", context=context) for i in range(n)]
        with transaction.atomic():
            queued = notices_queue_many(notices=specs)
        ids = [q.pk for q in queued]
        for start in range(0, len(ids), chunk):
            notifications_send_many(notification_ids=ids[start:start + chunk])

    run("bwarm", 100)
    start = time.perf_counter()
    run("b", count)
    seconds = time.perf_counter() - start
    sent = Notification.objects.filter(key__startswith="b", status="sent").exclude(
        key__startswith="bwarm").count()
    assert sent == count, f"{sent} of {count} sent"
    rate = count / seconds
    report(f"notices queued, rendered and sent in batches of {chunk} (file backend)",
           f"{rate:,.0f}/s over {count}",
           f"one by one in this run: {single_rate:,.0f}/s, {rate / single_rate:.1f}x; "
           f"bare append: {base:,.0f}/s, ratio {rate / base:.4f}")


def bench_render(count: int) -> None:
    from sijill.notifications.render import render

    context = {"reference": "MEN-1A2B3C4D", "recipient_name": "محمد العلوي", "address": "",
               "address_lines": [], "index": "9.2741", "review_until": "28/01/2027"}
    languages = ("ar", "fr", "en")
    start = time.perf_counter()
    for i in range(count):
        render(kind="index_notice", channel="sms", language=languages[i % 3], context=context)
    rate = count / (time.perf_counter() - start)
    text = ("Social registry, household {reference}: your socio-economic index is {index}. "
            "You may ask for a review until {review_until}.")
    start = time.perf_counter()
    for _ in range(count):
        text.format(**context)
    base = count / (time.perf_counter() - start)
    report("notices rendered (SMS text, ar/fr/en)", f"{rate:,.0f}/s over {count}",
           f"bare str.format: {base:,.0f}/s, ratio {rate / base:.4f}")


def bench_letters(count: int) -> None:
    from django.db import transaction

    from sijill.notifications.letters import letters_print
    from sijill.notifications.models import Notification
    from sijill.notifications.services import notice_queue

    households = _households(10, phone=False)
    context = {"index": "9.2741", "review_until": "28/01/2027"}
    with transaction.atomic():
        for i in range(count):
            notice_queue(kind="index_notice", household=households[i % 10], key=f"l{i}",
                         context=context)
    static = Notification.objects.filter(key="l0").values_list("html", flat=True).get()
    from weasyprint import HTML

    HTML(string=static).write_pdf()  # warm-up: fonts
    start = time.perf_counter()
    batches = []
    while (batch := letters_print(limit=20)) is not None:
        batches.append(batch)
    seconds = time.perf_counter() - start
    printed = sum(b.letters for b in batches)
    assert printed == count, f"{printed} of {count} printed"
    rate = count / seconds

    start = time.perf_counter()
    for _ in range(count):
        HTML(string=static).write_pdf()
    base = count / (time.perf_counter() - start)
    report("letters rendered to PDF print batches (WeasyPrint, batches of 20)",
           f"{rate:,.2f}/s over {count} ({len(batches)} batches)",
           f"bare WeasyPrint render of one static page: {base:,.2f}/s, ratio {rate / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=DEFAULT_NOTICES)
    parser.add_argument("--batch-notices", type=int, default=DEFAULT_BATCH_NOTICES)
    parser.add_argument("--letters", type=int, default=DEFAULT_LETTERS)
    parser.add_argument("--postgres", action="store_true",
                        help="run on a throw-away PostgreSQL database (BENCH_DATABASE_URL's "
                             "server) instead of SQLite")
    args, _unknown = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="sijill-bench-notifications-") as var:
        url = _fresh_postgres() if args.postgres else ""
        try:
            _setup(Path(var), url)
            if url:
                print("on PostgreSQL (a throw-away database)")
            bench_render(args.notices * 5)
            rate, base = bench_notices(args.notices)
            bench_notices_batch(args.batch_notices, rate, base)
            if args.letters:
                bench_letters(args.letters)
        finally:
            if url:
                from django.db import connections

                connections.close_all()
                _drop_postgres(url)


def _fresh_postgres() -> str:
    """A database of this bench's own (not the shared bench database other benches empty)."""
    import psycopg
    from common import BENCH_DB

    server = BENCH_DB.rsplit("/", 1)[0]
    name = f"sijill_bench_notifications_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def _drop_postgres(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
