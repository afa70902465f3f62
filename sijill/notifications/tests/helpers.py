from __future__ import annotations

from typing import Any

from sijill.accounts.actors import SYSTEM
from sijill.households.models import Household
from sijill.households.services import household_transition
from sijill.households.tests.factories import household_create
from sijill.scoring.services import score_household_current


def scored_household(**kwargs: Any) -> tuple[Household, Any]:
    """A registered household taken through verification to "scored", and its score."""
    household = household_create(**kwargs)
    household_transition(actor=SYSTEM, reference=household.reference, to="verifying")
    household_transition(actor=SYSTEM, reference=household.reference, to="scored")
    score = score_household_current(household_id=household.pk)
    assert score is not None
    household.refresh_from_db()
    return household, score


def index_said(value: float, language: str) -> str:
    """An index as a notice in `language` writes it: 4 decimals, the language's decimal mark."""
    text = f"{value:.4f}"
    return text if language == "en" else text.replace(".", ",")
