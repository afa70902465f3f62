"""A bulk append (audit_record_many): one lock and one INSERT, the same chain as one by one."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import connection

from sijill.accounts.actors import SYSTEM
from sijill.accounts.auth import actor_for_user
from sijill.audit.models import AuditEntry
from sijill.audit.services import AuditItem, audit_record, audit_record_many
from sijill.audit.verify import audit_verify
from sijill.population.access import person_search
from sijill.population.matching import Identity

pytestmark = pytest.mark.django_db


def _items(n: int, start: int = 0) -> list[AuditItem]:
    return [AuditItem(action="search_hit", entity="person", entity_id=str(i), subject=str(i),
                      purpose="test") for i in range(start, start + n)]


def test_a_bulk_append_continues_the_chain_and_verifies() -> None:
    audit_record(actor=SYSTEM, action="read", entity="person", entity_id="a")
    entries = audit_record_many(actor=SYSTEM, items=_items(4))
    audit_record(actor=SYSTEM, action="read", entity="person", entity_id="b")
    assert [e.seq for e in entries] == [2, 3, 4, 5]
    chain = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5, 6]
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(chain))
    assert list(audit_verify()) == []


def test_nothing_to_append_appends_nothing() -> None:
    assert audit_record_many(actor=SYSTEM, items=[]) == []
    assert not AuditEntry.objects.exists()


def test_a_tampered_bulk_entry_is_named_by_the_verifier() -> None:
    audit_record_many(actor=SYSTEM, items=_items(3))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        cursor.execute("UPDATE audit_auditentry SET subject = %s WHERE seq = %s", ["x", 2])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")
    assert [(p.seq, p.kind) for p in audit_verify()] == [(2, "altered")]


def test_a_search_records_one_entry_per_hit_in_one_append(agent_a: Any, person_factory: Any,
                                                          ) -> None:
    people = [person_factory(family_name_latin="Bennani", family_name_ar="بناني",
                             first_name_latin="Karim", first_name_ar="كريم", sex="M")
              for _ in range(3)]
    identity = Identity(people[0].first_name_ar, people[0].family_name_ar,
                        people[0].first_name_latin, people[0].family_name_latin, "M",
                        people[0].birth_date)
    before = AuditEntry.objects.count()
    hits = person_search(actor=actor_for_user(agent_a), identity=identity, purpose="desk")
    assert hits
    entries = list(AuditEntry.objects.filter(action="search_hit").order_by("seq"))
    assert AuditEntry.objects.count() - before == len(hits) == len(entries)
    assert {e.subject for e in entries} == {h.person.idcs for h in hits}
    assert list(audit_verify()) == []
