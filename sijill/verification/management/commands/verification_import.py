"""`manage.py verification_import PARTNER FILE.csv|FILE.parquet`: a partner's daily file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sijill.verification.services import batch_import


class Command(BaseCommand):
    help = "Import a partner's daily batch file (CSV or Parquet) and match it to verifications."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("partner")
        parser.add_argument("file")

    def handle(self, *args: Any, partner: str, file: str, **options: Any) -> None:
        report = batch_import(partner=partner, path=file)
        self.stdout.write(f"{report.rows} rows, {report.matched} checks answered, "
                          f"{report.already} already answered")
