"""What partners are asked and answer is kept encrypted at rest, and a key rotation brings it,
with every code verification and scoring copied, under the new key: dropping the old key then
leaves everything readable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from sijill.scoring import services as scoring
from sijill.scoring.models import Score
from sijill.security import fields
from sijill.security.documents import open_document, seal_document
from sijill.security.fields import DecryptionError
from sijill.security.rotation import reseal_documents
from sijill.verification import selectors, services
from sijill.verification.models import Discrepancy, Evidence, Verification
from sijill.verification.sealed import unseal
from sijill.verification.tests.conftest import family, truthful

pytestmark = pytest.mark.django_db

OLD_KEY = "old-field-key-0123456789abcdefghijklmnop"
NEW_KEY = "new-field-key-0123456789abcdefghijklmnop"
TABLE = "verification_evidence"


def _raw() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT question, answer FROM {TABLE} ORDER BY id")
        return list(cursor.fetchall())


def _verified_with_a_coverage_discrepancy(simulator: Any, records: Any,
                                          capture: Any) -> tuple[Any, Any]:
    """A household declared on AMO Tadamon whose head social security says is CNOPS-covered."""
    household, head, _ = family()
    truthful(records, head)
    records.add("social_security", [{"idcs": head.idcs, "scheme": "CNOPS", "regime": "public"}])
    with capture(execute=True):
        services.verification_process(Verification.objects.get(household=household).pk)
    return household, head


def test_the_database_holds_no_partner_answer_in_clear_and_the_orm_reads_it_back(
        simulator, records, django_capture_on_commit_callbacks):
    _household, head = _verified_with_a_coverage_discrepancy(
        simulator, records, django_capture_on_commit_callbacks)
    raw = _raw()
    kids = (fields.current_kid(f"{TABLE}.question"), fields.current_kid(f"{TABLE}.answer"))
    assert raw and all((q[:6], a[:6]) == kids for q, a in raw)
    assert head.idcs not in json.dumps(raw) and "CNOPS" not in json.dumps(raw)
    answer = Evidence.objects.get(partner="social_security").answer
    assert "CNOPS" in json.dumps(answer)
    assert head.idcs in json.dumps(Evidence.objects.get(partner="social_security").question)


def test_an_altered_or_moved_document_is_refused():
    sealed = seal_document(f"{TABLE}.answer", {"affiliations": ["CNOPS"]})
    assert open_document(f"{TABLE}.answer", sealed) == {"affiliations": ["CNOPS"]}
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(DecryptionError):
        open_document(f"{TABLE}.answer", flipped)
    with pytest.raises(DecryptionError):  # an answer pasted into the question column
        open_document(f"{TABLE}.question", sealed)
    with pytest.raises(DecryptionError):
        open_document(f"{TABLE}.answer", '{"affiliations": []}')


def test_filtering_on_a_partner_answer_is_refused_loudly():
    with pytest.raises(FieldError):
        list(Evidence.objects.filter(answer={"affiliations": []}))


def test_answers_written_in_clear_before_encryption_are_sealed_by_the_migration_step(
        simulator, records):
    household, _head, _ = family()
    check = Verification.objects.get(household=household).checks.get(partner="vehicles")
    with connection.cursor() as cursor:  # as the column held it before: clear JSON text
        cursor.execute(
            f"INSERT INTO {TABLE} (partner_check_id, household_id, partner, attempt, channel,"
            " outcome, question, answer, error, received_at, elapsed_ms) VALUES"
            " (%s, %s, 'vehicles', 1, 'api', 'answer', %s, %s, '', CURRENT_TIMESTAMP, 3)",
            [check.pk, household.pk, '{"household": "R"}', '{"vehicles": []}'])
    assert reseal_documents(connection, table=TABLE, columns=("question", "answer")) == 1
    [(question, _answer)] = _raw()
    assert question[:6] == fields.current_kid(f"{TABLE}.question")
    evidence = Evidence.objects.get()
    assert (evidence.question, evidence.answer) == ({"household": "R"}, {"vehicles": []})
    assert reseal_documents(connection, table=TABLE, columns=("question", "answer")) == 0


def test_a_rotation_leaves_evidence_verified_values_discrepancies_and_scores_readable(
        simulator, records, settings, django_capture_on_commit_callbacks):
    settings.SIJILL_FIELD_KEYS = [OLD_KEY]
    household, head = _verified_with_a_coverage_discrepancy(
        simulator, records, django_capture_on_commit_callbacks)
    verification = Verification.objects.get(household=household)
    score = Score.objects.get(pk=verification.score_id)
    before = (_raw(), verification.values, score.inputs)
    # New key first, the old one kept to read what is not re-encrypted yet.
    settings.SIJILL_FIELD_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_field_keys", "--batch", "2", stdout=open("/dev/null", "w"))  # noqa: SIM115
    verification.refresh_from_db()
    score = Score.objects.get(pk=score.pk)
    after = (_raw(), verification.values, score.inputs)
    assert not {q for q, _ in before[0]} & {q for q, _ in after[0]}
    assert after[1] != before[1] and after[2] != before[2]  # codes re-encrypted
    # The old key can go: everything still reads, in clear, as before.
    settings.SIJILL_FIELD_KEYS = [NEW_KEY]
    assert "CNOPS" in json.dumps(Evidence.objects.get(partner="social_security").answer)
    basis = selectors.verified_bases([verification.declaration_id])[verification.declaration_id]
    assert basis.members[head.idcs]["health_coverage"].value == "amo_public"
    d = Discrepancy.objects.get(household=household, field="health_coverage")
    assert (unseal(d.field, d.declared), unseal(d.field, d.verified)) == (
        "amo_tadamon", "amo_public")
    assert scoring._stored_input(score).members[0].verified["health_coverage"].value == \
        "amo_public"
    assert scoring.score_recompute(score).value == pytest.approx(score.value, abs=1e-12)
    # A finished rotation has nothing left to do.
    from sijill.security.rotation import reencrypt_everything

    assert set(reencrypt_everything(connection).values()) == {0}


@pytest.mark.postgres
def test_outside_a_rotation_the_database_still_refuses_to_rewrite_a_score_or_a_member_record(
        simulator, records, django_capture_on_commit_callbacks):
    from django.db import DatabaseError, transaction

    from sijill.core.immutable import rekeying
    from sijill.households.models import MemberDeclaration

    household, _head = _verified_with_a_coverage_discrepancy(
        simulator, records, django_capture_on_commit_callbacks)
    score = Score.objects.filter(household=household).first()
    member = MemberDeclaration.objects.filter(declaration__household=household).first()
    for attempt in (lambda: Score.objects.filter(pk=score.pk).update(inputs={}),
                    lambda: MemberDeclaration.objects.filter(pk=member.pk).update(
                        health_coverage="none")):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            attempt()
    # Marked as a rotation, only the encrypted columns may change, nothing else.
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        rekeying(connection)
        Score.objects.filter(pk=score.pk).update(value=0.0)
    with transaction.atomic():
        rekeying(connection)
        assert MemberDeclaration.objects.filter(pk=member.pk).update(
            health_coverage="none") == 1
