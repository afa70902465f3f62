"""Demo data for `make demo`: service centres, staff sign-ins, tokens and a synthetic population.

Safe to run again: accounts are kept, tokens are renewed (their raw values are only shown once),
and the population is only generated on an empty register.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from sijill.accounts.auth import token_create
from sijill.accounts.models import ApiToken, User
from sijill.population.models import Person
from sijill.testing import factories

DEMO_USERS = [
    ("agent.rabat", "agent", "rabat-agdal"),
    ("agent.kenitra", "agent", "kenitra-centre"),
    ("analyst", "analyst", None),
    ("admin", "admin", None),
]


class Command(BaseCommand):
    help = "Load the demo registry (idempotent) and print the demo sign-ins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--persons", type=int, default=300)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        centres = {
            "rabat-agdal": factories.centre_create(code="rabat-agdal", commune="04.421.01.0",
                                                   provinces=["04.421", "04.441", "04.501"]),
            "kenitra-centre": factories.centre_create(code="kenitra-centre",
                                                      commune="04.281.01.01",
                                                      provinces=["04.281"]),
        }
        for username, role, centre in DEMO_USERS:
            if not User.objects.filter(username=username).exists():
                factories.user_create(username=username, role=role,
                                      centre=centres[centre] if centre else None)
        if not Person.objects.exists():
            for i in range(options["persons"]):
                factories.person_create(birth_date=date(1940 + i % 60, 1 + i % 12, 1 + i % 28))
        ApiToken.objects.filter(name="Demo partner (identity verification)").delete()
        _, partner_key = token_create(name="Demo partner (identity verification)",
                                      role="partner", purpose="identity verification demo")
        port = settings.DEMO_PORT
        base = f"http://127.0.0.1:{port}"
        out = self.stdout.write
        out("")
        out("Sijill demo registry is ready.")
        out(f"  API docs:        {base}/api/docs")
        out(f"  OpenAPI schema:  {base}/api/openapi.json")
        out(f"  Back-office:     {base}/admin/  (admin)")
        out(f"  Health:          {base}/healthz")
        out(f"  Persons enrolled: {Person.objects.count()}")
        out("Demo sign-ins (password for all: " + factories.DEMO_PASSWORD + "):")
        for username, role, centre in DEMO_USERS:
            out(f"  {username:<15} {role:<8} {centre or ''}")
        out(f"Partner token (identity verification): {partner_key}")
        out("")
