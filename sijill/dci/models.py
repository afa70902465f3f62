"""DCI partners (their token, purpose, scopes and signing key), transactions (for txn/status
and async callbacks), subscriptions, and outbound callbacks (on-search, on-subscribe,
on-unsubscribe, notify) delivered with retries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class DciPartner(models.Model):
    """A system that calls the DCI API (an SPMIS, a program's MIS), with its own bearer token.

    The token is not an accounts.ApiToken: it opens the DCI endpoints only, never /api/v1/.
    """

    class Detail(models.TextChoices):
        GROUP = "group", "household identifiers, size, location (and index if allowed)"
        MEMBERS = "members", "…and the members' IDCS, sex, birth date, relationship"

    sender_id = models.CharField(max_length=120, unique=True,
                                 help_text="The partner's sender_id in message headers.")
    name = models.CharField(max_length=200)
    purpose = models.CharField(max_length=300, help_text="Recorded with every access.")
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=8)
    can_search = models.BooleanField(default=True)
    can_subscribe = models.BooleanField(default=False)
    detail = models.CharField(max_length=10, choices=Detail.choices, default=Detail.GROUP)
    reveals_score = models.BooleanField(
        default=False, help_text="Its purpose needs the households' index (poverty_score).")
    program = models.ForeignKey("programs.Program", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="dci_partners",
                                help_text="Eligibility for this program is shown and notified.")
    signature_required = models.BooleanField(
        default=True, help_text="Untick only for conformance testing.")
    public_key = models.CharField(max_length=100, blank=True,
                                  help_text="Ed25519 public key (base64, 32 bytes).")
    callback_prefix = models.CharField(
        max_length=300, blank=True,
        help_text="Callbacks (sender_uri) must start with this; empty: no async calls.")
    active = models.BooleanField(default=True)
    max_records = models.PositiveIntegerField(default=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sender_id"]

    def __str__(self) -> str:
        return self.sender_id


class DciTransaction(models.Model):
    """One request received (a message): what txn/status answers about."""

    class Status(models.TextChoices):
        RECEIVED = "rcvd", "received"
        PENDING = "pdng", "pending"
        SUCCESS = "succ", "success"
        REJECTED = "rjct", "rejected"

    partner = models.ForeignKey(DciPartner, on_delete=models.PROTECT, related_name="transactions")
    action = models.CharField(max_length=20)
    message_id = models.CharField(max_length=120)
    transaction_id = models.CharField(max_length=99)
    correlation_id = models.CharField(max_length=99, unique=True)
    reference_ids = models.JSONField(default=list)
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.RECEIVED)
    callback_uri = models.CharField(max_length=500, blank=True)
    request = models.JSONField(default=dict, help_text="The request message (criteria).")
    response = models.JSONField(null=True, blank=True, help_text="The response message.")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "message_id"],
                                    name="dci_message_once_per_partner"),
        ]
        indexes = [models.Index(fields=["partner", "transaction_id"], name="dci_txn_lookup")]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.transaction_id} {self.action} {self.status}"


class DciSubscription(models.Model):
    class Status(models.TextChoices):
        SUBSCRIBED = "subscribe", "subscribed"
        UNSUBSCRIBED = "unsubscribe", "unsubscribed"

    partner = models.ForeignKey(DciPartner, on_delete=models.PROTECT,
                                related_name="subscriptions")
    code = models.CharField(max_length=99, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices,
                              default=Status.SUBSCRIBED)
    event = models.CharField(max_length=20, help_text="register or eligibility")
    filter_type = models.CharField(max_length=20, blank=True)
    filter = models.JSONField(default=dict, blank=True)
    notify_record_type = models.CharField(max_length=120)
    callback_uri = models.CharField(max_length=500)
    locale = models.CharField(max_length=3, default="eng")
    transaction = models.ForeignKey(DciTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["event", "status"], name="dci_subscription_event")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["subscribe", "unsubscribe"]),
                                   name="dci_subscription_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"


class DciDelivery(models.Model):
    """A signed callback to a partner, retried with backoff (django-tasks does not retry)."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"

    partner = models.ForeignKey(DciPartner, on_delete=models.PROTECT, related_name="deliveries")
    action = models.CharField(max_length=20, help_text="on-search, on-subscribe, notify…")
    url = models.CharField(max_length=500)
    transaction = models.ForeignKey(DciTransaction, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="deliveries")
    subscription = models.ForeignKey(DciSubscription, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="deliveries")
    message = models.JSONField(help_text="The message part; header and signature at sending.")
    message_id = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="dci_delivery_due")]

    def __str__(self) -> str:
        return f"{self.action} → {self.url} ({self.status})"
