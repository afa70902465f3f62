"""The audit trail: every read and write of personal data, append-only and hash-chained.

Each entry carries a sequence number and the hash of the previous entry; its own hash covers its
content and that link. Altering, removing or reordering any entry breaks the chain, which
`manage.py verify_audit` detects. On PostgreSQL a trigger also refuses UPDATE and DELETE.
"""

from django.db import models


class AuditEntry(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor_label = models.CharField(max_length=60)
    actor_role = models.CharField(max_length=20)
    action = models.CharField(max_length=40)
    entity = models.CharField(max_length=40)
    entity_id = models.CharField(max_length=64)
    subject = models.CharField(max_length=64, blank=True, db_index=True,
                               help_text="IDCS of the person whose data this is, when one is.")
    purpose = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.entity}:{self.entity_id} by {self.actor_label}"
