"""Fixtures of the verification tests: the partner simulator, for real, on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sijill.accounts.actors import SYSTEM
from sijill.core.events import household_scored
from sijill.households.models import Household
from sijill.households.tests.factories import household_create
from sijill.population.models import Person
from sijill.testing.factories import person_create
from sijill.verification.simulator import PartnerRecords, PartnerSimulator


@pytest.fixture
def records() -> PartnerRecords:
    return PartnerRecords()


@pytest.fixture
def simulator(records: PartnerRecords, settings: Any) -> Iterator[PartnerSimulator]:
    """The partner simulator serving `records` on a free port; verification points at it."""
    sim = PartnerSimulator(records=records).start()
    settings.SIJILL = {**settings.SIJILL, "PARTNER_URL": sim.url, "VERIFICATION_TIMEOUT": 2.0,
                       "VERIFICATION_BACKOFF": 30.0, "VERIFICATION_MAX_ATTEMPTS": 10,
                       "VERIFICATION_DEADLINE": 3 * 24 * 3600}
    settings.SIJILL.pop("VERIFICATION_PARTNERS", None)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def scored_events() -> Iterator[list[dict[str, Any]]]:
    """Every household_scored sent during the test."""
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append({k: v for k, v in kwargs.items() if k != "signal"})

    household_scored.connect(receiver, dispatch_uid="verification-tests")
    try:
        yield seen
    finally:
        household_scored.disconnect(dispatch_uid="verification-tests")


def family(**household: Any) -> tuple[Household, Person, Person]:
    """A registered couple in Rabat (head, spouse), submitted, its verification started and
    its first pass queued (the start task, `verification_begin`, makes that pass at once);
    declared data overridable."""
    registered, head, spouse = _family(**household)
    from sijill.verification.services import verification_start

    verification_start(household_id=registered.pk, version=registered.current_version)
    return registered, head, spouse


def _family(**household: Any) -> tuple[Household, Person, Person]:
    from sijill.declaration.model import Declaration
    from sijill.households.services import RegistrationInput, household_register
    from sijill.households.tests.factories import household_data, member_data

    head, spouse = person_create(sex="M"), person_create(sex="F")
    if not household:
        return household_create(members=[(head, "head"), (spouse, "spouse")]), head, spouse
    data = Declaration.from_dict({
        "household": household_data(**household),
        "members": [member_data(head.idcs, "head"), member_data(spouse.idcs, "spouse")]})
    registered = household_register(actor=SYSTEM, data=RegistrationInput(
        commune="04.421.01.0", milieu="urban", address="12 rue Oqba, Agdal",
        declarant_idcs=head.idcs, declaration=data))
    return registered, head, spouse


def truthful(records: PartnerRecords, head: Person, *, cars: int = 0, motorcycles: int = 1,
             electricity: int = 250, water: int = 120, phones: int = 2) -> None:
    """Partner records agreeing with the factories' default declaration."""
    records.add("utilities", [
        {"service": "electricity", "meter_id": "E000000001", "holder_idcs": head.idcs,
         "month": f"2026-{m:02d}-01", "amount_dh": electricity, "quantity": 100}
        for m in range(1, 13)] + [
        {"service": "water", "meter_id": "W000000001", "holder_idcs": head.idcs,
         "month": f"2026-{m:02d}-01", "amount_dh": water, "quantity": 10}
        for m in range(1, 13)])
    records.add("telecom", [{"holder_idcs": head.idcs, "line_type": "mobile",
                             "operator": "IAM", "monthly_spend_dh": 60}] * phones)
    records.add("vehicles",
                [{"owner_idcs": head.idcs, "plate": f"{1000 + i}-أ-6", "kind": "car",
                  "first_registration_year": 2015} for i in range(cars)]
                + [{"owner_idcs": head.idcs, "plate": f"{2000 + i}-ب-6", "kind": "motorcycle",
                    "first_registration_year": 2019} for i in range(motorcycles)])
