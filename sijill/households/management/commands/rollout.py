"""`manage.py rollout`: read and set the regional roll-out calendar.

    manage.py rollout                                   # every window, most specific last
    manage.py rollout 04.281 --opens 2027-01-15 --decision "Arrêté n° 123-27"
    manage.py rollout 06 --unset --decision "Announced, no date yet"
    manage.py rollout 04.281 --history
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from sijill.accounts.actors import SYSTEM
from sijill.core.errors import SijillError
from sijill.households.models import RolloutWindow
from sijill.households.rollout import rollout_history, rollout_window_set


class Command(BaseCommand):
    help = "List or set when registration opens in a region, province or commune."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("code", nargs="?", help="HCP code: region 04, province 04.281, "
                                                    "commune 04.281.01.01")
        parser.add_argument("--opens", help="opening date, YYYY-MM-DD")
        parser.add_argument("--unset", action="store_true",
                            help="announced, no date set yet (registration stays closed)")
        parser.add_argument("--decision", default="", help="the decision setting the date")
        parser.add_argument("--history", action="store_true", help="every change of the area")
        parser.add_argument("--lang", default="en", choices=["ar", "fr", "en"],
                            help="language of the error messages")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["code"]
        if code is None:
            for w in RolloutWindow.objects.order_by("scope", "code"):
                self.stdout.write(f"{w.scope:9} {w.code:14} {w.opens_on or '—'}  {w.decision}")
            return
        if options["history"]:
            for change in rollout_history(actor=SYSTEM, code=code):
                self.stdout.write(f"{change.at}  {change.actor}  {change.before} -> "
                                  f"{change.after}")
            return
        if bool(options["opens"]) == bool(options["unset"]):
            raise CommandError("Give either --opens YYYY-MM-DD or --unset.")
        opens_on = None
        if options["opens"]:
            try:
                opens_on = date.fromisoformat(options["opens"])
            except ValueError:
                raise CommandError(f"--opens {options['opens']!r}: write YYYY-MM-DD") from None
        with translation.override(options["lang"]):
            try:
                window = rollout_window_set(actor=SYSTEM, code=code, opens_on=opens_on,
                                            decision=options["decision"])
            except SijillError as exc:
                detail = "; ".join(f"{f.field}: {f.message}" for f in exc.fields)
                raise CommandError(f"{exc.message} {detail}") from exc
        self.stdout.write(self.style.SUCCESS(
            f"{window.scope} {window.code}: opens on {window.opens_on or '— (no date yet)'}"))
