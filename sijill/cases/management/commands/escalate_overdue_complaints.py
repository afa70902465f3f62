"""manage.py escalate_overdue_complaints: escalate unanswered complaints past their answer day.

Idempotent: a complaint is escalated once, however often this runs (cron, scheduler, by hand).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sijill.cases.services import complaints_escalate_overdue


class Command(BaseCommand):
    help = "Escalate unanswered complaints whose answer day has passed (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = complaints_escalate_overdue()
        self.stdout.write(f"{count} complaint(s) escalated")
