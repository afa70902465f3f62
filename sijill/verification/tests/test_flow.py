"""Submission → verifying → every partner asked in parallel → scored with verified values."""

from __future__ import annotations

import pytest

from sijill.households.models import Household
from sijill.scoring.models import Score
from sijill.verification import services
from sijill.verification.connectors import CONNECTORS
from sijill.verification.models import Discrepancy, Evidence, PartnerCheck, Verification
from sijill.verification.tests.conftest import family, truthful

pytestmark = pytest.mark.django_db


def _verification(household: Household) -> Verification:
    return Verification.objects.get(household=household,
                                    declaration__version=household.current_version)


def test_a_submission_is_verified_by_every_partner_then_scored(
        simulator, records, scored_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        household, head, _spouse = family()
    truthful(records, head)
    verification = _verification(household)
    assert {c.partner for c in verification.checks.all()} == set(CONNECTORS)
    household.refresh_from_db()
    assert household.status == "submitted"  # nothing happens before the task runs
    with django_capture_on_commit_callbacks(execute=True):
        assert services.verification_process(verification.pk) == "concluded"
    household.refresh_from_db()
    verification.refresh_from_db()
    assert household.status == "scored"
    assert [e.to_status for e in household.events.order_by("at", "id")][-2:] == [
        "verifying", "scored"]
    assert verification.status == "concluded" and verification.basis == 1
    assert not verification.by_deadline and verification.unverified == []
    assert Evidence.objects.filter(household=household, outcome="answer").count() == len(
        CONNECTORS)
    assert simulator.control()["requests"]["vehicles"] == 1
    score = Score.objects.get(pk=verification.score_id)
    assert score.basis == 1 and score.declaration.version == 1
    assert score.inputs["verified"]["motorcycles"] == [1, "vehicles"]
    assert scored_events == [{"household_id": household.pk, "score_id": score.pk,
                              "reason": "registration"}]
    assert not Discrepancy.objects.filter(household=household).exists()


def test_running_the_verification_again_adds_no_evidence_and_no_score(
        simulator, records, scored_events, django_capture_on_commit_callbacks):
    household, head, _ = family()
    truthful(records, head)
    verification = _verification(household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
    evidence = Evidence.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
        services.verification_advance(verification.pk)
        services.verification_start(household_id=household.pk, version=1)
    assert Evidence.objects.count() == evidence
    assert Score.objects.filter(household=household).count() == 1
    assert Verification.objects.filter(household=household).count() == 1
    assert PartnerCheck.objects.filter(verification=verification).count() == len(CONNECTORS)
    assert len(scored_events) == 1


def test_an_attempt_recorded_twice_is_kept_once(simulator, records):
    household, _head, _ = family()
    verification = _verification(household)
    check = verification.checks.get(partner="vehicles")
    subject = services.subject_of(verification.declaration)
    question = CONNECTORS["vehicles"].question(subject)
    reply = CONNECTORS["vehicles"].call(simulator.url, question, timeout=2)
    attempt = services.Attempt(check.pk, "vehicles", 1, question, reply)
    assert services.attempt_record(attempt, household_id=household.pk) is True
    assert services.attempt_record(attempt, household_id=household.pk) is False
    assert Evidence.objects.filter(partner_check=check).count() == 1


def test_the_parallel_pass_calls_the_partners_at_the_same_time(
        simulator, records, django_capture_on_commit_callbacks):
    household, head, _ = family()
    truthful(records, head)
    simulator.control(latency_ms=300)
    verification = _verification(household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
    elapsed = [e.elapsed_ms for e in Evidence.objects.filter(household=household)]
    # Each call waited its 300 ms; the seven overlapped (no timing assertion on the total).
    assert len(elapsed) == len(CONNECTORS) and min(elapsed) >= 300
    assert simulator.control()["max_in_flight"] == len(CONNECTORS)


def test_an_update_supersedes_the_running_verification(
        simulator, records, django_capture_on_commit_callbacks):
    from sijill.accounts.actors import SYSTEM
    from sijill.declaration.model import Declaration
    from sijill.households.services import declaration_of, household_declaration_update

    household, _head, _ = family()
    first = _verification(household)
    data = declaration_of(first.declaration).to_dict()
    data["household"]["rooms"] = 5
    with django_capture_on_commit_callbacks(execute=True):
        household_declaration_update(actor=SYSTEM, reference=household.reference,
                                     declaration=Declaration.from_dict(data))
    first.refresh_from_db()
    assert first.status == "running"  # until the start task of version 2 runs
    services.verification_begin(household_id=household.pk, version=2)
    first.refresh_from_db()
    assert first.status == "superseded"
    assert services.verification_process(first.pk) == "gone"
    household.refresh_from_db()
    assert _verification(household).declaration.version == 2


def test_with_no_partner_configured_the_declared_values_are_scored_at_once(
        settings, scored_events, django_capture_on_commit_callbacks):
    settings.SIJILL = {**settings.SIJILL, "VERIFICATION_PARTNERS": ()}
    household, _, _ = family()
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(_verification(household).pk)
    household.refresh_from_db()
    assert household.status == "scored"
    assert scored_events[0]["reason"] == "registration"


def test_households_loaded_in_bulk_are_started_by_command(simulator):
    import io

    from django.core.management import call_command

    from sijill.verification.tests.conftest import _family

    loaded = [_family()[0] for _ in range(3)]  # no signal: no verification yet
    started, _, _ = family()
    out = io.StringIO()
    call_command("verification_start", "--limit", "2", stdout=out)
    assert out.getvalue().strip() == "2 verification(s) started"
    call_command("verification_start", stdout=out)
    assert Verification.objects.filter(household__in=loaded).count() == 3
    assert Verification.objects.filter(household=started).count() == 1
