"""Claiming an Idempotency-Key: once per actor and key; a rolled-back claim frees the key."""

from __future__ import annotations

import pytest
from django.db import transaction

from sijill.core.idempotency import PENDING, _claim, _store
from sijill.core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def test_a_key_is_claimed_once_per_actor():
    assert _claim("agent:1", "k-1", "a" * 64)
    assert not _claim("agent:1", "k-1", "a" * 64)
    assert _claim("agent:2", "k-1", "a" * 64)
    assert IdempotencyRecord.objects.filter(key="k-1").count() == 2


def test_the_answer_is_written_into_the_claimed_row():
    assert _claim("agent:1", "k-2", "b" * 64)
    assert IdempotencyRecord.objects.get(key="k-2").status_code == PENDING
    _store("agent:1", "k-2", 201, {"reference": "MEN-1", "members": [1, 2]})
    record = IdempotencyRecord.objects.get(key="k-2")
    assert (record.status_code, record.response_body) == (201, {"reference": "MEN-1",
                                                                "members": [1, 2]})
    assert record.request_hash == "b" * 64


def test_a_claim_rolled_back_with_its_failed_work_frees_the_key():
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _claim("agent:1", "k-3", "c" * 64)
        raise RuntimeError("the work failed")
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()
    assert _claim("agent:1", "k-3", "c" * 64)


@pytest.mark.django_db
def test_kept_answers_are_deleted_after_the_retention_and_the_job_is_scheduled(settings):
    from datetime import timedelta

    from django.utils import timezone

    from sijill.core.idempotency import records_purge
    from sijill.core.schedule import jobs

    settings.SIJILL = {**settings.SIJILL, "IDEMPOTENCY_DAYS": 7}
    for key in ("old", "recent"):
        IdempotencyRecord.objects.create(actor_label="user:1", key=key, request_hash="h",
                                         status_code=201, response_body={"reference": key})
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=8))
    assert records_purge(batch=1) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    assert "core.idempotency_purge" in jobs()
