"""One-time sign-in codes of the citizen portal (sent by SMS to the phone on record)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class SignInCode(models.Model):
    """A 6-digit code, stored as a keyed hash, valid a few minutes, a few attempts, once.

    The IDCS is kept in clear to find the code again; the code itself never is."""

    idcs = models.CharField("IDCS", max_length=10, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["idcs", "created_at"], name="portal_code_idcs_at")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")),
                                   name="portal_code_expires_after_creation"),
            models.CheckConstraint(condition=Q(attempts__lte=100),
                                   name="portal_code_attempts_bounded"),
        ]

    def __str__(self) -> str:
        return f"code for {self.idcs} at {self.created_at:%Y-%m-%d %H:%M}"
