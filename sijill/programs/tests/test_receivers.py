"""What queues a re-decision: a household's changed data, not its registration (no score, no
decision yet) nor the steps of its processing inside the registry (a new score re-decides
through its own signal)."""

from __future__ import annotations

from typing import Any

import pytest

from sijill.households.models import Household
from sijill.households.signals import household_changed
from sijill.programs import receivers


def _queued(reason: str, monkeypatch: Any) -> list[tuple[list[int], str]]:
    queued: list[tuple[list[int], str]] = []
    monkeypatch.setattr(receivers, "_enqueue_households",
                        lambda ids, why: queued.append((ids, why)))
    household_changed.send(sender=Household, household_id=1, reference="R1", version=1,
                           reason=reason)
    return queued


@pytest.mark.parametrize("reason", ["status_verifying", "status_scored", "status_notified"])
def test_a_processing_step_inside_the_registry_queues_no_re_decision(reason, monkeypatch):
    assert _queued(reason, monkeypatch) == []


@pytest.mark.parametrize("reason", ["status_cancelled", "update"])
def test_leaving_the_registry_or_a_data_change_queues_a_re_decision(reason, monkeypatch):
    assert _queued(reason, monkeypatch) == [([1], "data")]


def test_a_new_registration_queues_no_re_decision_until_its_score_arrives(monkeypatch):
    assert _queued("registration", monkeypatch) == []
