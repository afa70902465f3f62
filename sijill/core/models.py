"""Cross-cutting records: idempotency of retried requests."""

from django.db import models

from sijill.security.documents import EncryptedJSONField


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key, replayed on retries."""

    actor_label = models.CharField(max_length=60)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # Encrypted at rest (sijill.security.documents): an answer replayed may be a whole
    # household, members' health coverage and disability included.
    response_body = EncryptedJSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["actor_label", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label}:{self.key}"


class ScheduledJob(models.Model):
    """One periodic job of sijill.core.schedule: when it runs next and how its last run went.

    The scheduler claims a due job by moving `next_run_at` forward inside a locked row
    (select_for_update(skip_locked=True) on PostgreSQL, plus a compare-and-set on
    `next_run_at`), so two schedulers never start the same run twice.
    """

    class Status(models.TextChoices):
        IDLE = "idle", "idle"
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"

    class Outcome(models.TextChoices):
        NONE = "", "never run"
        OK = "ok", "ok"
        ERROR = "error", "error"

    name = models.CharField(max_length=100, unique=True)
    every_seconds = models.PositiveIntegerField()
    enabled = models.BooleanField(default=True, help_text="Untick to pause the job.")
    next_run_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IDLE)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    last_result = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="scheduled_job_due")]
        constraints = [
            models.CheckConstraint(condition=models.Q(every_seconds__gte=1),
                                   name="scheduled_job_every_positive"),
            models.CheckConstraint(condition=models.Q(status__in=["idle", "queued", "running"]),
                                   name="scheduled_job_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M:%S})"
