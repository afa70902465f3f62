"""`manage.py notifications_send_due`: send the due notices now, in this process, and print the
queued letters (what the periodic jobs do through the worker)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sijill.notifications.letters import letters_print
from sijill.notifications.services import notifications_send_due


class Command(BaseCommand):
    help = "Send the due notices (retries, crashed sends) and print the queued letters."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-letters", action="store_true", help="Do not print letters.")

    def handle(self, *args: Any, no_letters: bool, **options: Any) -> None:
        sent = notifications_send_due()
        self.stdout.write(f"{sent} notices attempted")
        if no_letters:
            return
        while (batch := letters_print()) is not None:
            self.stdout.write(f"print batch {batch.pk}: {batch.letters} letters, {batch.pages} "
                              f"pages, {batch.path}")
