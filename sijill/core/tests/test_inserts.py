"""insert_rows: new rows in one statement, written as the ORM writes them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from sijill.core.inserts import insert_rows
from sijill.core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def _record(key: str) -> IdempotencyRecord:
    return IdempotencyRecord(actor_label="user:1", key=key, request_hash="h" * 64,
                             status_code=201, response_body={"reference": key, "n": [1, 2]})


def test_rows_are_inserted_with_their_ids_defaults_and_json_as_the_orm_writes_them() -> None:
    rows = [_record("a"), _record("b")]
    insert_rows(rows)
    assert all(r.pk is not None and not r._state.adding for r in rows)
    for row in rows:
        stored = IdempotencyRecord.objects.get(pk=row.pk)
        assert (stored.key, stored.response_body, stored.created_at) == (
            row.key, row.response_body, row.created_at)


def test_a_row_the_database_refuses_raises_integrity_error_and_writes_nothing() -> None:
    insert_rows([_record("a")])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows([_record("b"), _record("a")])
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["a"]
