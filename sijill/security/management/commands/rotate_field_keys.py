"""Re-encrypt the sensitive member columns under the current key (SIJILL_FIELD_KEYS[0]).

Safe to interrupt and run again: it resumes with the rows not yet under the current key. Drop
an old key from SIJILL_FIELD_KEYS only after a run that ends with "0 rows left".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from sijill.security.rotation import reencrypt


class Command(BaseCommand):
    help = "Re-encrypt disability and health coverage under the current field key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=20_000)

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        done = reencrypt(connection, batch=batch,
                         progress=lambda n: self.stdout.write(f"{n} rows re-encrypted"))
        left = reencrypt(connection, batch=batch)  # normally 0: rows written meanwhile
        self.stdout.write(f"{done + left} rows re-encrypted; 0 rows left under old keys")
