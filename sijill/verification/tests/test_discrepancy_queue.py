"""The agent's discrepancy queue: scoped to the centre's provinces, decided with a recorded
decision; dismissing a partner's value rescores the household."""

from __future__ import annotations

import pytest

from sijill.accounts.auth import actor_for_user
from sijill.audit.models import AuditEntry
from sijill.core.errors import Conflict, NotFound, PermissionDenied
from sijill.scoring.models import Score
from sijill.testing.factories import user_create
from sijill.verification import selectors, services
from sijill.verification.models import Verification
from sijill.verification.tests.conftest import family, truthful

pytestmark = pytest.mark.django_db


@pytest.fixture
def undeclared_car(simulator, records, django_capture_on_commit_callbacks):
    household, head, _ = family(cars=0)
    truthful(records, head, cars=2)
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
    return household


def test_an_agent_sees_the_discrepancies_of_their_provinces_only(undeclared_car, as_agent_a,
                                                                 as_agent_b, as_citizen):
    mine = as_agent_a.get("verification/discrepancies")
    assert mine.status_code == 200
    [item] = mine.json()
    assert item["household"] == undeclared_car.reference and item["field"] == "cars"
    assert (item["declared"], item["verified"], item["severity"]) == (0, 2, "high")
    assert as_agent_b.get("verification/discrepancies").json() == []
    assert as_citizen.get("verification/discrepancies").status_code == 403
    assert as_agent_b.get(f"households/{undeclared_car.reference}/verification"
                          ).status_code == 404
    view = as_agent_a.get(f"households/{undeclared_car.reference}/verification").json()
    assert view["basis"] == 1 and view["verified"]["household"]["cars"] == [2, "vehicles"]
    assert {c["partner"]: c["status"] for c in view["checks"]}["vehicles"] == "answered"
    assert AuditEntry.objects.filter(action="read_discrepancies").exists()


def test_confirming_keeps_the_partners_value_and_is_recorded(undeclared_car, as_agent_a,
                                                             scored_events):
    [item] = as_agent_a.get("verification/discrepancies").json()
    response = as_agent_a.post("verification/discrepancies/decision",
                               {"discrepancy": item["id"], "decision": "confirm",
                                "note": "registration card seen"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "confirmed" and body["decided_by"].startswith("user:")
    assert as_agent_a.get("verification/discrepancies").json() == []
    assert Score.objects.filter(household=undeclared_car).count() == 1
    again = as_agent_a.post("verification/discrepancies/decision",
                            {"discrepancy": item["id"], "decision": "dismiss", "note": "x"})
    assert again.status_code == 409


def test_dismissing_keeps_the_declared_value_and_rescores(
        undeclared_car, agent_a, scored_events, django_capture_on_commit_callbacks):
    actor = actor_for_user(agent_a)
    [d] = selectors.discrepancy_queue(actor=actor)
    before = Score.objects.get(pk=Verification.objects.get(household=undeclared_car).score_id)
    with django_capture_on_commit_callbacks(execute=True):
        services.discrepancy_decide(actor=actor, pk=d.pk, decision="dismiss",
                                    note="both cars sold in 2025, registry not updated")
    verification = Verification.objects.get(household=undeclared_car)
    after = Score.objects.get(pk=verification.score_id)
    assert verification.basis == 2 and after.basis == 2
    assert "cars" not in after.inputs["verified"] and after.value < before.value
    assert scored_events[-1] == {"household_id": undeclared_car.pk, "score_id": after.pk,
                                 "reason": "verification"}
    # Deciding the same way again changes nothing.
    services.discrepancy_decide(actor=actor, pk=d.pk, decision="dismiss", note="again")
    assert Verification.objects.get(pk=verification.pk).basis == 2


def test_a_decision_needs_the_permission_a_known_choice_and_a_visible_discrepancy(
        undeclared_car, agent_b, citizen):
    from sijill.accounts.auth import actor_for_user as actor_of

    d = undeclared_car.discrepancies.get()
    with pytest.raises(NotFound):
        services.discrepancy_decide(actor=actor_of(agent_b), pk=d.pk, decision="confirm")
    with pytest.raises(PermissionDenied):
        services.discrepancy_decide(actor=actor_of(citizen), pk=d.pk, decision="confirm")
    verifier = actor_of(user_create(username="verifier-1", role="verifier"))
    from sijill.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.discrepancy_decide(actor=verifier, pk=d.pk, decision="maybe")
    with pytest.raises(ValidationFailed):
        services.discrepancy_decide(actor=verifier, pk=d.pk, decision="dismiss", note=" ")
    services.discrepancy_decide(actor=verifier, pk=d.pk, decision="confirm")
    with pytest.raises(Conflict):
        services.discrepancy_decide(actor=verifier, pk=d.pk, decision="dismiss", note="no")


def test_a_decision_without_a_body_names_the_missing_field(as_agent_a):
    response = as_agent_a.post("verification/discrepancies/decision", {})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "discrepancy"


def test_a_refused_decision_is_explained_in_the_language_asked(undeclared_car, as_agent_a):
    [item] = as_agent_a.get("verification/discrepancies").json()
    body = {"discrepancy": item["id"], "decision": "dismiss", "note": ""}
    fr = as_agent_a.post("verification/discrepancies/decision", body, lang="fr").json()
    assert fr["error"]["fields"][0] == {
        "field": "note", "code": "required",
        "message": "Indiquez pourquoi la valeur déclarée est maintenue."}
    ar = as_agent_a.post("verification/discrepancies/decision", body, lang="ar").json()
    assert ar["error"]["fields"][0]["message"] == "بيّن سبب الإبقاء على القيمة المصرح بها."
