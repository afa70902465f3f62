"""Cross-cutting records: idempotency of retried requests."""

from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key, replayed on retries."""

    actor_label = models.CharField(max_length=60)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["actor_label", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label}:{self.key}"
