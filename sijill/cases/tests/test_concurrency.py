"""Two simultaneous review requests for one household: exactly one succeeds (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sijill.cases import services
from sijill.cases.models import ScoreReview
from sijill.cases.tests.factories import notified_household
from sijill.core.errors import Conflict
from sijill.testing import factories
from sijill.testing.concurrency import at_once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_review_requests_one_succeeds(agent_a_actor):
    head = factories.person_create()
    household = notified_household(members=[(head, "head")],
                                   notified_at=timezone.now() - timedelta(days=2))

    def ask(n: int) -> str:
        try:
            services.review_request(actor=agent_a_actor, reference=household.reference,
                                    reason=f"request {n}")
        except Conflict:
            return "conflict"
        return "ok"

    outcomes = at_once([lambda n=n: ask(n) for n in range(2)])
    assert sorted(outcomes) == ["conflict", "ok"]
    assert ScoreReview.objects.filter(household=household).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_open_review_index_holds_without_the_household_lock(agent_a_actor):
    """Even a writer that skipped the household lock cannot open a second review."""
    from django.db import IntegrityError

    head = factories.person_create()
    household = notified_household(members=[(head, "head")],
                                   notified_at=timezone.now() - timedelta(days=2))
    first = services.review_request(actor=agent_a_actor, reference=household.reference,
                                    reason="first")
    with pytest.raises(IntegrityError):
        ScoreReview.objects.create(reference="REV-RACE0001", household=household,
                                   requested_by="x", channel="centre", reason="x",
                                   notice_at=first.notice_at, closes_on=first.closes_on,
                                   requested_at=timezone.now())
