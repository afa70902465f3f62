import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sijill.accounts.actors import SYSTEM
from sijill.audit.models import AuditEntry
from sijill.audit.services import audit_record
from sijill.audit.verify import audit_verify

pytestmark = pytest.mark.django_db


def _entries(n):
    return [audit_record(actor=SYSTEM, action="read", entity="person", entity_id=str(i),
                         subject=str(i), purpose="test") for i in range(n)]


def _tamper(sql, params):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


def test_an_intact_chain_verifies(capsys):
    _entries(5)
    call_command("verify_audit")
    assert "intact: 5 entries" in capsys.readouterr().out


def test_verify_audit_names_an_entry_altered_directly_in_the_database():
    _entries(5)
    _tamper("UPDATE audit_auditentry SET purpose = %s WHERE seq = %s", ["snooping", 3])
    with pytest.raises(CommandError):
        call_command("verify_audit")
    assert [(p.seq, p.kind) for p in audit_verify()] == [(3, "altered")]


def test_a_removed_entry_is_found():
    _entries(5)
    _tamper("DELETE FROM audit_auditentry WHERE seq = %s", [2])
    kinds = {(p.seq, p.kind) for p in audit_verify()}
    assert (2, "missing") in kinds and (3, "broken_link") in kinds


def test_reordered_entries_are_found():
    _entries(4)
    _tamper("UPDATE audit_auditentry SET seq = -1 WHERE seq = 2", [])
    _tamper("UPDATE audit_auditentry SET seq = 2 WHERE seq = 3", [])
    _tamper("UPDATE audit_auditentry SET seq = 3 WHERE seq = -1", [])
    problems = {(p.seq, p.kind) for p in audit_verify()}
    assert (2, "broken_link") in problems and (2, "altered") in problems


@pytest.mark.postgres
def test_postgres_itself_refuses_to_update_an_audit_entry():
    from django.db import DatabaseError, transaction

    _entries(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(purpose="x")
