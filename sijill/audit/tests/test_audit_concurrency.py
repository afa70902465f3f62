"""Concurrent appends on PostgreSQL: one chain, no fork, no gap, whatever the interleaving."""

from __future__ import annotations

import pytest
from django.db import transaction

from sijill.accounts.actors import SYSTEM
from sijill.audit.models import AuditEntry
from sijill.audit.services import audit_record
from sijill.audit.verify import audit_verify
from sijill.testing.concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_writers_extend_one_intact_chain():
    writers, each = 8, 15

    def write(n: int) -> None:
        for i in range(each):
            with transaction.atomic():
                audit_record(actor=SYSTEM, action="read", entity="person",
                             entity_id=f"{n}-{i}", purpose="concurrency test")
                # Some work after the append, inside the same transaction.
                AuditEntry.objects.filter(entity_id=f"{n}-{i}").exists()

    at_once([lambda n=n: write(n) for n in range(writers)])  # raises any writer's error
    assert AuditEntry.objects.count() == writers * each
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, writers * each + 1))
    assert list(audit_verify()) == []


def test_a_failed_append_fails_the_callers_transaction():
    from django.db import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic():
        audit_record(actor=SYSTEM, action="read", entity="person", entity_id="1",
                     detail={"bad": "\x00"})  # NUL cannot be stored in jsonb text
    assert AuditEntry.objects.count() == 0
