"""Factories for test data and the demo: real rows through the real services."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sijill.accounts.actors import SYSTEM, Actor
from sijill.accounts.auth import token_create
from sijill.accounts.models import ServiceCentre, User
from sijill.population.models import Person
from sijill.population.services import EnrolmentInput, person_enrol

_counter = itertools.count(1)
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 (test and demo accounts only)

FIRST_NAMES = [("محمد", "Mohammed", "M"), ("فاطمة", "Fatima", "F"), ("يوسف", "Youssef", "M"),
               ("خديجة", "Khadija", "F"), ("عمر", "Omar", "M"), ("مريم", "Meryem", "F"),
               ("حسن", "Hassan", "M"), ("نادية", "Nadia", "F")]
FAMILY_NAMES = [("العلوي", "Alaoui"), ("بناني", "Bennani"), ("التازي", "Tazi"),
                ("الإدريسي", "Idrissi"), ("برادة", "Berrada"), ("الفاسي", "Fassi"),
                ("الشرقاوي", "Cherkaoui"), ("الزياني", "Ziani")]


def centre_create(*, code: str, commune: str, provinces: list[str]) -> ServiceCentre:
    centre, _ = ServiceCentre.objects.get_or_create(
        code=code, defaults={"name_ar": f"مركز {code}", "name_fr": f"Centre {code}",
                             "commune_id": commune})
    # The stub takes only integer primary keys; a Province's is its code.
    centre.provinces.set(provinces)  # type: ignore[arg-type]
    return centre


def user_create(*, username: str, role: str, centre: ServiceCentre | None = None,
                idcs: str | None = None, password: str = DEMO_PASSWORD) -> User:
    user = User.objects.create_user(username=username, password=password, role=role,
                                    centre=centre, idcs=idcs, is_staff=role == "admin",
                                    is_superuser=role == "admin")
    return user


def token_for(*, role: str, name: str = "test token", purpose: str = "testing") -> str:
    return token_create(name=name, role=role, purpose=purpose)[1]


def unique_cnie() -> str:
    return f"ZT{next(_counter) + 100000:06d}"


def enrolment_input(**overrides: Any) -> EnrolmentInput:
    """A valid enrolment by CNIE of a distinct adult; override any field."""
    n = next(_counter)
    first_ar, first_lat, sex = FIRST_NAMES[n % len(FIRST_NAMES)]
    fam_ar, fam_lat = FAMILY_NAMES[(n // len(FIRST_NAMES)) % len(FAMILY_NAMES)]
    values: dict[str, Any] = {
        "basis": "document", "first_name_ar": first_ar, "family_name_ar": fam_ar,
        "first_name_latin": first_lat, "family_name_latin": fam_lat, "sex": sex,
        "birth_date": date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
        "birth_place_commune": "04.421.01.0", "cnie": unique_cnie(),
        "phone": f"+21266{n % 10000000:07d}",
    }
    values.update(overrides)
    return EnrolmentInput(**values)


def person_create(*, actor: Actor = SYSTEM, **overrides: Any) -> Person:
    """Enrol a person directly (no duplicate hold) and return it."""
    outcome = person_enrol(actor=actor, data=enrolment_input(**overrides),
                           hold_on_duplicates=False)
    assert outcome.person is not None
    return outcome.person


def events_backdate(events: Any, **values: Any) -> int:
    """Tests only (time travel): rewrite registration events, which PostgreSQL otherwise refuses
    (migration households 0006). The trigger is off only inside this transaction."""
    from django.db import connection, transaction

    table = "households_registrationevent"
    trigger = "households_registrationevent_immutable"
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # ALTER TABLE waits for no queued deferred check: run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        count = int(events.update(**values))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return count
