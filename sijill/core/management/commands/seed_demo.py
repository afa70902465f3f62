"""Demo data for `make demo`: service centres, staff sign-ins, tokens and a synthetic population.

Safe to run again: accounts are kept, tokens are renewed (their raw values are only shown once),
and the population is only generated on an empty register: a few thousand households of
Rabat-Salé-Kénitra (region 04, the pilot region open for registration), loaded through the bulk
path (`sijill.synthetic.load`), the hidden truth written to var/synthetic/demo-<seed>.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from sijill.accounts.auth import token_create
from sijill.accounts.models import ApiToken, User
from sijill.backoffice.otp import demo_authenticator, secret_base32
from sijill.households.models import Household
from sijill.population.models import Person
from sijill.synthetic.generate import Options
from sijill.synthetic.load import population_load
from sijill.testing import factories
from sijill.verification.services import verifications_start_pending
from sijill.verification.simulator.demo import demo_partner_files

DEMO_USERS = [
    ("agent.rabat", "agent", "rabat-agdal"),
    ("agent.kenitra", "agent", "kenitra-centre"),
    ("analyst", "analyst", None),
    ("admin", "admin", None),
]
#: (commune, households): the first households of each, about 3,000 in all.
DEMO_POPULATION = [
    ("04.421.01.07", 785),  # Touarga (Rabat prefecture), whole commune
    ("04.421.01.0", 700),  # Rabat
    ("04.441.01.0", 700),  # Salé
    ("04.501.01.07", 400),  # Témara (Skhirate-Témara)
    ("04.281.01.01", 400),  # Kénitra
]
DEMO_SEED = 2024
CITIZEN_PROVINCE = "04.421"  # the demo citizen declares the first household loaded in Rabat
DEMO_VERIFIED = 300  # households queued for verification with the partner simulator


class Command(BaseCommand):
    help = "Load the demo registry (idempotent) and print the demo sign-ins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=DEMO_SEED)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        out = self.stdout.write
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
            truth = Path(settings.VAR_DIR) / "synthetic" / f"demo-{options['seed']}"
            for commune, households in DEMO_POPULATION:
                summary = population_load(commune, options["seed"],
                                          Options(max_households=households),
                                          truth_dir=truth / commune)
                out(f"  loaded {summary.households:,} households, {summary.persons:,} persons "
                    f"of {commune} in {summary.seconds:.1f} s")
            # The partner simulator answers from this truth (plus a school register); the first
            # households are verified with it by the worker (the rest: verification_start).
            out(f"  {demo_partner_files(truth):,} school enrolments for the partner simulator; "
                f"{verifications_start_pending(limit=DEMO_VERIFIED)} households queued for "
                "verification")
        citizen = _demo_citizen()
        ApiToken.objects.filter(name="Demo partner (identity verification)").delete()
        _, partner_key = token_create(name="Demo partner (identity verification)",
                                      role="partner", purpose="identity verification demo")
        port = settings.DEMO_PORT
        base = f"http://127.0.0.1:{port}"
        out("")
        out("Sijill demo registry is ready.")
        out(f"  Citizen portal:  {base}/  (IDCS, then the code sent by SMS: the demo writes SMS"
            f" to {settings.NOTIFICATIONS['OUTBOX_DIR'] / 'sms.jsonl'})")
        out(f"  API docs:        {base}/api/docs")
        out(f"  OpenAPI schema:  {base}/api/openapi.json")
        out(f"  Back office:     {base}/backoffice/  (staff: password, then a TOTP code)")
        out(f"  Admin:           {base}/admin/  (super-users, after the back-office sign-in)")
        out(f"  Health:          {base}/healthz")
        out(f"  Persons enrolled: {Person.objects.count()}")
        out(f"  Households registered: {Household.objects.count()}")
        out("Demo sign-ins (password for all: " + factories.DEMO_PASSWORD + "):")
        for username, role, centre in DEMO_USERS:
            out(f"  {username:<15} {role:<8} {centre or ''}")
        out("Staff second factor: add the key to an authenticator app (or open the otpauth URI),"
            " or print the current code with `manage.py staff_code USER`:")
        for username, _role, _centre in DEMO_USERS:
            device = demo_authenticator(User.objects.get(username=username))
            out(f"  {username:<15} key {secret_base32(device)}  {device.config_url}")
        if citizen is not None:
            user, household = citizen
            out(f"  {user.username:<15} citizen  declarant of household {household.reference} "
                f"({household.commune.name_fr}); sign in with the IDCS {user.idcs} as user name")
        out(f"Partner token (identity verification): {partner_key}")
        out(f"DCI Social Registry API: {base}/api/dci/ (sender_id demo-spmis, unsigned)")
        out(f"DCI partner token: {_demo_dci_partner()}")
        out("")


def _demo_dci_partner() -> str:
    """The demo DCI partner (configured without signatures, for conformance clients); its
    token is renewed on every run."""
    from sijill.accounts.actors import SYSTEM
    from sijill.dci import services as dci
    from sijill.dci.models import DciPartner
    from sijill.programs.models import Program

    partner = DciPartner.objects.filter(sender_id="demo-spmis").first()
    if partner is not None:
        return dci.partner_token_renew(actor=SYSTEM, partner=partner)
    return dci.partner_create(
        actor=SYSTEM, sender_id="demo-spmis", name="Demo SPMIS (DCI)",
        purpose="DCI demo: targeting of direct social aid", detail="members",
        can_subscribe=True, program=Program.objects.filter(code="asd").first(),
        signature_required=False, callback_prefix="http://127.0.0.1:")[1]


def _demo_citizen() -> tuple[User, Household] | None:
    """The citizen account of the declarant of the first household loaded in Rabat."""
    household = (Household.objects.select_related("declarant", "commune")
                 .filter(commune__province_id=CITIZEN_PROVINCE).order_by("id").first())
    if household is None:
        return None
    idcs = household.declarant.idcs
    user = User.objects.filter(idcs=idcs).first() or factories.user_create(
        username=idcs, role="citizen", idcs=idcs)
    return user, household
