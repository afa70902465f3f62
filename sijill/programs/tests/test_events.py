"""A re-decision tells the other apps (core.events) about each change, after it commits."""

from __future__ import annotations

from typing import Any

import pytest

from sijill.core import events
from sijill.programs.tasks import decide_households_task
from sijill.programs.tests.factories import family, score

pytestmark = pytest.mark.django_db


def test_a_change_of_eligibility_is_sent_per_household_and_per_re_decision(
        django_capture_on_commit_callbacks: Any) -> None:
    single: list[tuple[int, str, bool]] = []
    batches: list[tuple[str, list[tuple[int, bool]]]] = []

    def on_one(sender: Any, household_id: int, program_code: str, eligible: bool,
               **kw: Any) -> None:
        single.append((household_id, program_code, eligible))

    def on_batch(sender: Any, program_code: str, changes: list[tuple[int, bool]],
                 **kw: Any) -> None:
        batches.append((program_code, changes))

    events.eligibility_changed.connect(on_one)
    events.eligibility_changes.connect(on_batch)
    try:
        household = family()
        score(household, 9.0)
        with django_capture_on_commit_callbacks(execute=True):
            decide_households_task.call(household_ids=[household.pk])
    finally:
        events.eligibility_changed.disconnect(on_one)
        events.eligibility_changes.disconnect(on_batch)
    assert (household.pk, "asd", True) in single
    assert ("asd", [(household.pk, True)]) in batches
