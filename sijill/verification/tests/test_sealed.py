"""Health coverage confirmed by social security is kept encrypted wherever verification copies
it (verified values, discrepancies, the score's inputs) and read back in clear."""

from __future__ import annotations

import json

import pytest

from sijill.scoring import services as scoring
from sijill.scoring.models import Score
from sijill.verification import selectors, services
from sijill.verification.models import Discrepancy, Verification
from sijill.verification.tests.conftest import family, truthful

pytestmark = pytest.mark.django_db


def test_health_coverage_from_social_security_is_stored_encrypted(
        simulator, records, as_agent_a, django_capture_on_commit_callbacks):
    household, head, _ = family()  # declared: AMO Tadamon
    truthful(records, head)
    records.add("social_security", [{"idcs": head.idcs, "scheme": "CNOPS", "regime": "public"}])
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
    verification.refresh_from_db()
    stored = verification.values["members"][head.idcs]["health_coverage"]
    assert stored[1] == "social_security" and stored[0] != "amo_public"
    d = Discrepancy.objects.get(household=household, field="health_coverage")
    assert "amo_public" not in json.dumps([d.declared, d.verified])
    score = Score.objects.get(pk=verification.score_id)
    assert "amo_public" not in json.dumps(score.inputs)
    assert "amo_tadamon" not in json.dumps(score.inputs)
    # Read back in clear: scoring's provider, the recomputation, the agent's views.
    basis = selectors.verified_bases([verification.declaration_id])[verification.declaration_id]
    assert basis.members[head.idcs]["health_coverage"].value == "amo_public"
    assert scoring.score_recompute(score).value == pytest.approx(score.value, abs=1e-12)
    assert scoring._stored_input(score).members[0].verified["health_coverage"].value == \
        "amo_public"
    view = as_agent_a.get(f"households/{household.reference}/verification").json()
    assert view["verified"]["members"][head.idcs]["health_coverage"] == [
        "amo_public", "social_security"]
    [item] = [i for i in as_agent_a.get("verification/discrepancies").json()
              if i["field"] == "health_coverage"]
    assert (item["declared"], item["verified"]) == ("amo_tadamon", "amo_public")
    # Concluding again with the same answers changes nothing (no new basis from re-encryption).
    services.verification_advance(verification.pk)
    services._conclude(verification.pk, by_deadline=False)
    verification.refresh_from_db()
    assert verification.basis == 1
