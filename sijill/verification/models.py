"""Verification of a declaration version against partner bodies.

- `Verification`: one per declaration version (unique). Its `basis` is the revision of the
  verified values (`values`), starting at 1 when it is first concluded (all partners answered, or
  the deadline passed) and bumped each time a late answer or a decided discrepancy changes them;
  scoring stores one score per basis (scoring.models.Score.basis).
- `PartnerCheck`: one per (verification, partner) (unique): the question, attempts, when the next
  attempt is due, and whether the partner answered, is still being retried, or failed.
- `Evidence`: one per attempt (unique (check, attempt); at most one answer per check, a partial
  unique index): what was asked, what came back (or the error), when, and how long it took.
  Written once, never changed: a rerun of a crashed task cannot duplicate it.
- `Discrepancy`: a field where the partner's value differs from the declared one (unique per
  verification, field and member), its severity, and the agent's recorded decision.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sijill.security.documents import EncryptedJSONField


class Verification(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Being verified")
        CONCLUDED = "concluded", _("Concluded")
        SUPERSEDED = "superseded", _("Superseded by a newer declaration")

    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="verifications")
    declaration = models.OneToOneField("households.DeclarationVersion", on_delete=models.PROTECT,
                                       related_name="verification")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField()
    concluded_at = models.DateTimeField(null=True, blank=True)
    by_deadline = models.BooleanField(default=False,
                                      help_text="Concluded by the deadline, some partner silent.")
    basis = models.PositiveIntegerField(default=0)
    values = models.JSONField(default=dict, help_text='{"household": {field: [value, partner]},'
                                                      ' "members": {idcs: {field: [value, '
                                                      'partner]}}}')
    unverified = models.JSONField(default=list, help_text="Fields no partner confirmed.")
    score_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["running", "concluded", "superseded"]),
                                   name="verification_status_known"),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="verification_due")]

    def __str__(self) -> str:
        return f"verification of {self.declaration_id} ({self.status}, basis {self.basis})"


class PartnerCheck(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the partner")
        ANSWERED = "answered", _("Answered")
        FAILED = "failed", _("Failed after every attempt")

    verification = models.ForeignKey(Verification, on_delete=models.PROTECT,
                                     related_name="checks")
    partner = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["verification", "partner"],
                                    name="partner_check_once_per_verification"),
            models.CheckConstraint(condition=Q(status__in=["pending", "answered", "failed"]),
                                   name="partner_check_status_known"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="partner_check_due")]

    def __str__(self) -> str:
        return f"{self.partner} for {self.verification_id}: {self.status}"


class Evidence(models.Model):
    class Outcome(models.TextChoices):
        ANSWER = "answer", _("Answer")
        ERROR = "error", _("Partner error")

    partner_check = models.ForeignKey(PartnerCheck, on_delete=models.PROTECT,
                                      related_name="evidence")
    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="+")
    partner = models.CharField(max_length=30)
    attempt = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10, default="api", help_text="api or batch file")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # Encrypted at rest (sijill.security.documents): the question names every member, the
    # answer is the partner's data about them (health insurance, civil status, assets).
    question = EncryptedJSONField(default=dict)
    answer = EncryptedJSONField(default=dict)
    error = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField()
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["partner_check", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["partner_check", "attempt"],
                                    name="evidence_once_per_attempt"),
            models.UniqueConstraint(fields=["partner_check"], condition=Q(outcome="answer"),
                                    name="evidence_one_answer_per_check"),
            models.CheckConstraint(condition=Q(outcome__in=["answer", "error"]),
                                   name="evidence_outcome_known"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} #{self.attempt} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Evidence is immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Evidence is immutable")


class Discrepancy(models.Model):
    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Partner's value confirmed")
        DISMISSED = "dismissed", _("Declared value kept")

    verification = models.ForeignKey(Verification, on_delete=models.PROTECT,
                                     related_name="discrepancies")
    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="discrepancies")
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="+")
    partner = models.CharField(max_length=30)
    field = models.CharField(max_length=40)
    person_idcs = models.CharField(max_length=10, blank=True,
                                   help_text="The member concerned; empty for a household field.")
    declared = models.JSONField(null=True)
    verified = models.JSONField(null=True)
    severity = models.CharField(max_length=6, choices=Severity.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.CharField(max_length=60, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["verification", "field", "person_idcs"],
                                    name="discrepancy_once_per_field"),
            models.CheckConstraint(condition=Q(severity__in=["low", "medium", "high"]),
                                   name="discrepancy_severity_known"),
            models.CheckConstraint(condition=Q(status__in=["open", "confirmed", "dismissed"]),
                                   name="discrepancy_status_known"),
            models.CheckConstraint(condition=Q(status="open") | ~Q(decided_by=""),
                                   name="discrepancy_decision_has_author"),
        ]
        indexes = [models.Index(fields=["status", "household"], name="discrepancy_queue")]

    def __str__(self) -> str:
        return f"{self.field} {self.declared!r} → {self.verified!r} ({self.severity})"
