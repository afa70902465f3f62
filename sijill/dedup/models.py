"""Population-wide duplicate detection: runs, clusters of probable duplicates (the agents'
queue), and pairs decided distinct (never proposed again).

Integrity in the database:
- at most one run pending or running at a time (partial unique index);
- a cluster member appears once per cluster, and a person in one cluster per run (a retried
  run cannot store its clusters twice);
- a distinct pair is stored once, lower person id first (check + unique).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DedupRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, default="sweep", editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stage = models.CharField(max_length=20, blank=True)
    progress = models.FloatField(default=0.0)
    parameters = models.JSONField(default=dict)
    records = models.PositiveIntegerField(default=0, help_text="Persons compared.")
    pairs = models.PositiveIntegerField(default=0, help_text="Scored pairs kept.")
    clusters = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(
        default=0, help_text="Persons in a cluster beyond its first (probable extra IDCS).")
    by_band = models.JSONField(default=dict, help_text="Clusters per confidence band.")
    model = models.JSONField(default=dict, help_text="Trained match weights per level.")
    seconds = models.JSONField(default=dict, help_text="Time per stage.")
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempt = models.PositiveSmallIntegerField(
        default=0, help_text="Executions started (a run whose worker died is taken over).")
    worker = models.CharField(max_length=120, blank=True, help_text="host:pid of the attempt.")
    heartbeat_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Last sign of life of the attempt.")
    created_by = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(status__in=["pending", "running"]),
                                    name="dedup_one_run_at_a_time"),
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1),
                                   name="dedup_run_progress_0_1"),
        ]

    def __str__(self) -> str:
        return f"dedup run {self.pk} ({self.status})"


class DuplicateCluster(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Merged")
        DISTINCT = "distinct", _("Distinct persons")
        SUPERSEDED = "superseded", _("Superseded by a later run")

    class Band(models.TextChoices):
        HIGH = "high", _("High confidence")
        MEDIUM = "medium", _("Medium confidence")
        LOW = "low", _("Low confidence")

    run = models.ForeignKey(DedupRun, on_delete=models.PROTECT, related_name="cluster_set")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    band = models.CharField(max_length=6, choices=Band.choices)
    size = models.PositiveSmallIntegerField()
    min_probability = models.FloatField(help_text="Weakest link holding the cluster together.")
    max_weight = models.FloatField()
    pairs = models.JSONField(help_text="[{l, r, match_weight, match_probability, evidence}] by "
                                       "IDCS: every scored pair inside the cluster.")
    survivor = models.ForeignKey("population.Person", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    decided_by = models.CharField(max_length=60, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-min_probability", "id"]
        indexes = [models.Index(fields=["status", "band"], name="dedup_cluster_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=2), name="dedup_cluster_two_or_more"),
            models.CheckConstraint(condition=Q(status__in=["open", "superseded"])
                                   | Q(decided_at__isnull=False),
                                   name="dedup_cluster_decided_has_time"),
            models.CheckConstraint(condition=~Q(status="merged") | Q(survivor__isnull=False),
                                   name="dedup_cluster_merged_has_survivor"),
        ]

    def __str__(self) -> str:
        return f"cluster {self.pk} ({self.status})"


class ClusterMember(models.Model):
    cluster = models.ForeignKey(DuplicateCluster, on_delete=models.PROTECT,
                                related_name="members")
    person = models.ForeignKey("population.Person", on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(DedupRun, on_delete=models.PROTECT, related_name="+",
                            help_text="The cluster's run (a person is in one cluster per run).")
    match_weight = models.FloatField(help_text="Best match weight to another member.")
    match_probability = models.FloatField()

    class Meta:
        ordering = ["cluster", "-match_weight", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "person"], name="dedup_member_once"),
            # A retried run (its worker died, or two workers raced) cannot store a person's
            # cluster twice.
            models.UniqueConstraint(fields=["run", "person"], name="dedup_member_once_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in cluster {self.cluster_id}"


class DistinctPair(models.Model):
    """Two persons an agent decided are different people: no run proposes them again."""

    person_a = models.ForeignKey("population.Person", on_delete=models.PROTECT, related_name="+")
    person_b = models.ForeignKey("population.Person", on_delete=models.PROTECT, related_name="+")
    cluster = models.ForeignKey(DuplicateCluster, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    decided_by = models.CharField(max_length=60)
    decided_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="dedup_distinct_once"),
            models.CheckConstraint(condition=Q(person_a__lt=models.F("person_b")),
                                   name="dedup_distinct_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.person_a_id} ≠ {self.person_b_id}"
