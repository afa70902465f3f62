"""Concurrent re-decisions of one program on PostgreSQL: serialised, one current decision."""

from __future__ import annotations

import pytest

from sijill.programs import eligibility
from sijill.programs.models import EligibilityDecision, Program
from sijill.programs.tests.factories import family, score
from sijill.testing.concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_re_decisions_leave_one_current_decision_each():
    households = [family() for _ in range(3)]
    for i, h in enumerate(households):
        score(h, 9.0 + 0.3 * i)
    program = Program.objects.get(code="asd")
    at_once([lambda: eligibility.redecide(Program.objects.get(pk=program.pk))] * 3)
    for h in households:
        assert EligibilityDecision.objects.filter(program=program, household=h,
                                                  current=True).count() == 1
        assert EligibilityDecision.objects.filter(program=program, household=h).count() == 1
