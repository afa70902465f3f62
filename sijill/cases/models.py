"""Citizen services: declared changes, score reviews and complaints, with their step records.

Integrity lives in the database as well as in the services:
- a household has at most one open review (partial unique index on status requested/assigned);
- a decided review has its decision, time and decider, an open one has none;
- an answered complaint has its answer and time; statuses, categories, channels are known values;
- step records (ReviewEvent, ComplaintEvent) and declared changes are never updated or deleted
  (the models refuse; PostgreSQL refuses too, by trigger).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sijill.households.models import ImmutableModel


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    CENTRE = "centre", _("Citizen service centre")
    PHONE = "phone", _("Telephone")


class ChangeDeclaration(ImmutableModel):
    """A change the declarant declared (birth, death, move, job, purchase): which declaration
    version it produced, through which channel, by whom."""

    class Kind(models.TextChoices):
        BIRTH = "birth", _("A birth")
        DEATH = "death", _("A death")
        MOVE = "move", _("A move")
        JOB = "job", _("A job")
        PURCHASE = "purchase", _("A purchase")
        OTHER = "other", _("Another change")

    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="declared_changes")
    kind = models.CharField(_("kind of change"), max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField(help_text="The declaration version it produced.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    note = models.CharField(max_length=500, blank=True)
    declared_by = models.CharField(max_length=60, help_text="The actor label.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["household", "at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["birth", "death", "move", "job",
                                                         "purchase", "other"]),
                                   name="change_kind_known"),
            models.CheckConstraint(condition=Q(channel__in=["portal", "centre", "phone"]),
                                   name="change_channel_known"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} v{self.version}"


class ScoreReview(models.Model):
    """A household's request for a review of its index, and the reviewer's decision."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ASSIGNED = "assigned", _("With a reviewer")
        DECIDED = "decided", _("Decided")

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", _("Index confirmed")
        CORRECTED = "corrected", _("Data corrected and index recomputed")

    OPEN = (Status.REQUESTED, Status.ASSIGNED)

    reference = models.CharField(max_length=12, unique=True, help_text="REV-XXXXXXXX")
    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="score_reviews")
    requested_by = models.CharField(max_length=60, help_text="The actor label.")
    requester = models.ForeignKey("population.Person", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+",
                                  help_text="The person who asked (the declarant).")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    notice_at = models.DateTimeField(help_text="The index notice the window runs from.")
    closes_on = models.DateField(help_text="Last day (Africa/Casablanca) a review was allowed.")
    score = models.ForeignKey("scoring.Score", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", help_text="The index under review.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    assigned_to = models.ForeignKey("accounts.User", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decision_note = models.TextField(max_length=2000, blank=True)
    decided_by = models.CharField(max_length=60, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    new_version = models.PositiveIntegerField(null=True, blank=True,
                                              help_text="Declaration version of a correction.")
    new_score = models.ForeignKey("scoring.Score", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household"],
                                    condition=Q(status__in=["requested", "assigned"]),
                                    name="review_one_open_per_household"),
            models.CheckConstraint(condition=Q(status__in=["requested", "assigned", "decided"]),
                                   name="review_status_known"),
            models.CheckConstraint(condition=Q(channel__in=["portal", "centre", "phone"]),
                                   name="review_channel_known"),
            models.CheckConstraint(
                condition=Q(status="decided", decision__in=["confirmed", "corrected"],
                            decided_at__isnull=False)
                | (~Q(status="decided") & Q(decision="", decided_at__isnull=True)),
                name="review_decision_iff_decided"),
            models.CheckConstraint(condition=~Q(status="assigned") | Q(assigned_to__isnull=False),
                                   name="review_assigned_has_assignee"),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="review_status_time")]

    def __str__(self) -> str:
        return self.reference


class ReviewEvent(ImmutableModel):
    """One recorded step of a review: requested, assigned, evidence, decided."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Review requested")
        ASSIGNED = "assigned", _("Assigned to a reviewer")
        EVIDENCE = "evidence", _("Evidence added")
        CORRECTED = "corrected", _("Data corrected")
        RESCORED = "rescored", _("Index recomputed")
        DECIDED = "decided", _("Decided")

    review = models.ForeignKey(ScoreReview, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor_label = models.CharField(max_length=60)
    note = models.TextField(max_length=2000, blank=True)
    document_reference = models.CharField(
        max_length=200, blank=True,
        help_text="Reference of a document held elsewhere (scan id, file number).")
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["review", "at", "id"]

    def __str__(self) -> str:
        return f"{self.review_id}: {self.kind}"


class Complaint(models.Model):
    """A complaint (شكاية / réclamation): who, about which household, what, and its answer."""

    class Category(models.TextChoices):
        REGISTRATION = "registration", _("Registration")
        SCORE = "score", _("Socio-economic index")
        VERIFICATION = "verification", _("Verification of the data")
        PERSONAL_DATA = "personal_data", _("Personal data")
        CENTRE_CONDUCT = "centre_conduct", _("Conduct at a service centre")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASSIGNED = "assigned", _("Being handled")
        ANSWERED = "answered", _("Answered")

    reference = models.CharField(max_length=12, unique=True, help_text="REC-XXXXXXXX")
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    complainant = models.ForeignKey("population.Person", on_delete=models.PROTECT,
                                    related_name="complaints")
    household = models.ForeignKey("households.Household", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="complaints")
    province = models.ForeignKey(
        "geography.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Whose agents handle it: the household's province, else the intake centre's. "
                  "Empty: the national queue (reviewers, administrators).")
    centre = models.ForeignKey("accounts.ServiceCentre", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text="The centre that took it in, if any.")
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=4000)
    filed_by = models.CharField(max_length=60)
    filed_at = models.DateTimeField()
    due_on = models.DateField(help_text="Last day (Africa/Casablanca) to answer.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    assigned_to = models.ForeignKey("accounts.User", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Set once, when the deadline passed "
                                                  "unanswered.")
    response = models.TextField(_("answer"), max_length=4000, blank=True)
    answered_by = models.CharField(max_length=60, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["filed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=[
                "registration", "score", "verification", "personal_data", "centre_conduct",
                "other"]), name="complaint_category_known"),
            models.CheckConstraint(condition=Q(channel__in=["portal", "centre", "phone"]),
                                   name="complaint_channel_known"),
            models.CheckConstraint(condition=Q(status__in=["received", "assigned", "answered"]),
                                   name="complaint_status_known"),
            models.CheckConstraint(
                condition=(Q(status="answered", answered_at__isnull=False) & ~Q(response=""))
                | (~Q(status="answered") & Q(answered_at__isnull=True, response="")),
                name="complaint_answer_iff_answered"),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="complaint_status_due"),
            models.Index(fields=["province", "status"], name="complaint_province_status"),
        ]

    def __str__(self) -> str:
        return self.reference


class ComplaintEvent(ImmutableModel):
    """One recorded step of a complaint: filed, assigned, escalated, answered."""

    class Kind(models.TextChoices):
        FILED = "filed", _("Filed")
        ASSIGNED = "assigned", _("Assigned")
        ESCALATED = "escalated", _("Escalated: answer overdue")
        ANSWERED = "answered", _("Answered")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor_label = models.CharField(max_length=60)
    note = models.TextField(max_length=4000, blank=True)

    class Meta:
        ordering = ["complaint", "at", "id"]
        constraints = [
            # Escalation is recorded once per complaint, whatever runs it twice.
            models.UniqueConstraint(fields=["complaint"], condition=Q(kind="escalated"),
                                    name="complaint_escalated_once"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.kind}"
