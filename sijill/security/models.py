"""Storage of the security app: throttle counters (see sijill.security.throttle)."""

from django.db import models


class ThrottleBucket(models.Model):
    """Hits of one key in one fixed window of one scope.

    `key_hash` is a keyed hash of the caller's key (a phone number, an IDCS, an address): no
    personal data sits in this table. Times are whole seconds since the epoch (UTC), so the one
    atomic upsert is the same SQL on SQLite and PostgreSQL. A row expires two windows after it
    starts (the sliding estimate reads the previous window) and is purged lazily.
    """

    scope = models.CharField(max_length=60)
    key_hash = models.CharField(max_length=64)
    window_start = models.BigIntegerField(help_text="Epoch second the window starts.")
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True, help_text="Epoch second.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key_hash", "window_start"],
                                    name="throttle_bucket_one_per_window"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key_hash[:8]}@{self.window_start} = {self.hits}"
