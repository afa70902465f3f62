"""Re-encrypt every encrypted value under the current key (SIJILL_FIELD_KEYS[0]): the
members' sensitive codes, the partner questions and answers kept as evidence, the codes copied
into verification records and scores.

Safe to interrupt and run again: it resumes with the rows not yet under the current key. Drop
an old key from SIJILL_FIELD_KEYS only after a run that ends with "0 rows left".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from sijill.security.rotation import reencrypt_everything


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted value (member codes, partner evidence, codes kept by "
            "verification and scores) under the current field key.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=20_000)

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        done = reencrypt_everything(
            connection, batch=batch,
            progress=lambda table, n: self.stdout.write(f"{table}: {n} rows re-encrypted"))
        # Normally nothing: rows written meanwhile are already under the current key.
        left = reencrypt_everything(connection, batch=batch)
        for table, n in done.items():
            self.stdout.write(f"{table}: {n + left[table]} rows re-encrypted")
        self.stdout.write("0 rows left under old keys")
