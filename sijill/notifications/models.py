"""The outbox: one row per notice, code or letter, and the print batches of letters.

A Notification is written in the transaction of what caused it (a score, a decided review, a
sign-in) and sent after commit by a background task. Its `key` is unique: queuing the same notice
twice (a signal sent again, a task redone) returns the first row. `idempotency_key` is sent to the
SMS gateway with every attempt, so a retried or crashed send is delivered once.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    INDEX_NOTICE = "index_notice", _("Index notice")
    REVIEW_OUTCOME = "review_outcome", _("Outcome of a score review")
    COMPLAINT_ANSWER = "complaint_answer", _("Answer to a complaint")
    ELIGIBILITY_CHANGE = "eligibility_change", _("Change of eligibility")
    ONE_TIME_CODE = "one_time_code", _("One-time sign-in code")
    GENERIC = "generic", _("Message")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Postal letter")
    EMAIL = "email", _("E-mail")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired before it could be sent")


class PrintBatch(models.Model):
    """One PDF of many letters, handed to the printer as one file."""

    created_at = models.DateTimeField(auto_now_add=True)
    path = models.CharField(max_length=400, help_text="The PDF, relative to OUTBOX_DIR.")
    letters = models.PositiveIntegerField()
    pages = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(letters__gte=1),
                                              name="print_batch_not_empty")]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.letters} letters)"


class Notification(models.Model):
    Kind = Kind
    Channel = Channel
    Status = Status

    key = models.CharField(max_length=200, unique=True,
                           help_text="The caller's idempotency key: one row per key.")
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                                       help_text="Sent to the SMS gateway with every attempt.")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    household = models.ForeignKey("households.Household", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="notifications")
    person = models.ForeignKey("population.Person", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="notifications")
    reference = models.CharField(_("household reference"), max_length=12, blank=True)
    recipient = models.CharField(max_length=300,
                                 help_text="Phone number, e-mail address or postal address.")
    recipient_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=2)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(help_text="Rendered text (SMS, e-mail); a one-time code is redacted.")
    html = models.TextField(blank=True, help_text="Rendered letter (HTML, printed to PDF).")
    secret_body = models.TextField(
        blank=True, help_text="The clear body of a one-time code, kept only until it is sent or "
                              "expires (then emptied).")
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True)
    batch = models.ForeignKey(PrintBatch, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="notifications")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="notification_kind"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values),
                                   name="notification_channel"),
            models.CheckConstraint(condition=Q(status__in=Status.values),
                                   name="notification_status"),
            models.CheckConstraint(condition=Q(language__in=["ar", "fr", "en"]),
                                   name="notification_language"),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False),
                                   name="notification_sent_has_time"),
            models.CheckConstraint(condition=~Q(status="sent") | Q(secret_body=""),
                                   name="notification_sent_keeps_no_secret"),
            models.CheckConstraint(condition=Q(batch__isnull=True) | Q(channel="letter"),
                                   name="notification_only_letters_batched"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["household", "kind"], name="notification_household_kind"),
            models.Index(fields=["person", "created_at"], name="notification_person"),
            models.Index(fields=["channel", "status"], name="notification_channel_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} {self.reference or self.person_id} ({self.status})"
