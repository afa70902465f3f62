"""Social programs, their rules, eligibility decisions, applications, and the programs' access
(one scoped token per program, webhook subscriptions and their deliveries).

- A program's rules are its threshold, its comparison ("<" by default, "<=" possible) and its
  conditions (CEL, see SCHEMA.md). Any change of the rules bumps `rules_version` and re-decides.
- An eligibility decision is written once and never changed but for its `current` flag: a new
  row is added whenever a household's inputs (score, threshold, comparison, conditions' results)
  or its outcome change; at most one current decision per (program, household) (partial unique
  index). Its inputs are kept on the row.
- Eligible is not enrolled: a program enrols a household through a ProgramApplication.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Comparison(models.TextChoices):
    BELOW = "<", _("index below the threshold")
    AT_OR_BELOW = "<=", _("index at or below the threshold")


class Program(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    purpose = models.CharField(
        _("purpose"), max_length=300,
        help_text="What the program uses the registry for: recorded with every access.")
    reveals_score = models.BooleanField(
        _("needs the index"), default=False,
        help_text="The program's purpose needs the household's index (else only eligibility).")
    threshold = models.FloatField(_("threshold"))
    comparison = models.CharField(_("comparison"), max_length=2, choices=Comparison.choices,
                                  default=Comparison.BELOW)
    conditions = models.JSONField(
        _("conditions"), default=list, blank=True,
        help_text='[{"key": ..., "expression": <CEL>}], all must hold (see SCHEMA.md).')
    # Benefit rule, for costing (whole dirhams a month): per household + per child, clamped
    # between the minimum and the cap. A child is a member younger than `benefit_child_age`.
    benefit_per_household = models.PositiveIntegerField(_("benefit per household (DH/month)"),
                                                        default=0)
    benefit_per_child = models.PositiveIntegerField(_("benefit per child (DH/month)"), default=0)
    benefit_child_age = models.PositiveSmallIntegerField(
        _("children are younger than (years)"), default=18)
    benefit_max_children = models.PositiveSmallIntegerField(
        _("children counted at most"), null=True, blank=True)
    benefit_minimum = models.PositiveIntegerField(_("minimum per household (DH/month)"),
                                                  default=0)
    benefit_cap = models.PositiveIntegerField(_("cap per household (DH/month)"), null=True,
                                              blank=True)
    budget_monthly_dh = models.BigIntegerField(_("monthly budget (DH)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    rules_version = models.PositiveIntegerField(default=1)
    decided_fingerprint = models.CharField(
        max_length=32, blank=True, editable=False,
        help_text="The registry's state and the rules of the last full re-decision: a full "
                  "re-decision finding them unchanged has nothing to do.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(comparison__in=["<", "<="]),
                                   name="program_comparison_known"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "active", "suspended", "closed"]),
                name="program_status_known"),
            models.CheckConstraint(
                condition=Q(benefit_cap__isnull=True)
                | Q(benefit_cap__gte=models.F("benefit_minimum")),
                name="program_cap_not_below_minimum"),
            models.CheckConstraint(condition=Q(budget_monthly_dh__isnull=True)
                                   | Q(budget_monthly_dh__gte=0),
                                   name="program_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return self.code

    def name(self, language: str) -> str:
        return {"ar": self.name_ar, "fr": self.name_fr}.get(language[:2], self.name_en)


class Reason(models.TextChoices):
    FIRST = "first", _("First decision")
    SCORE = "score", _("The index changed")
    DATA = "data", _("The household's data changed")
    RULES = "rules", _("The program's rules changed")
    REGISTRY = "registry", _("The household left the registry")
    RECHECK = "recheck", _("Periodic re-check")


class EligibilityDecision(models.Model):
    """One decision on one household for one program, with its inputs."""

    # No index of its own on program: decision_history (program, household) leads with it.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="decisions",
                                db_index=False)
    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="eligibility_decisions")
    current = models.BooleanField(default=True)
    eligible = models.BooleanField()
    score_ok = models.BooleanField(help_text="The index passes the threshold.")
    conditions_met = models.BooleanField()
    # Inputs. score_id refers to scoring.Score (kept as a plain id: scores are immutable).
    score_id = models.BigIntegerField(null=True, blank=True)
    score_value = models.FloatField(null=True, blank=True)
    provisional = models.BooleanField(default=False)
    threshold = models.FloatField()
    comparison = models.CharField(max_length=2, choices=Comparison.choices)
    rules_version = models.PositiveIntegerField()
    conditions_hash = models.CharField(max_length=16, help_text="Which conditions were run.")
    declaration_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The declaration version the conditions were run on.")
    conditions = models.JSONField(default=dict, help_text="Condition key → true/false/null.")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    previous_eligible = models.BooleanField(null=True, blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["program", "household", "-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "household"], condition=Q(current=True),
                                    name="decision_one_current_per_program_household"),
            models.CheckConstraint(
                condition=Q(eligible=False) | Q(score_ok=True, conditions_met=True),
                name="decision_eligible_needs_score_and_conditions"),
        ]
        indexes = [
            models.Index(fields=["program", "household"], condition=Q(current=True, eligible=True),
                         name="decision_current_eligible"),
            models.Index(fields=["program", "household"], name="decision_history"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.household_id}: {self.eligible}"


class ProgramApplication(models.Model):
    """A program's own record of enrolling a household (eligibility alone gives no right)."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ENROLLED = "enrolled", _("Enrolled")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ENDED = "ended", _("Ended")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="applications")
    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="program_applications")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    decision = models.ForeignKey(EligibilityDecision, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 help_text="The eligibility decision in force when enrolled.")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "household"],
                                    condition=Q(status__in=["applied", "enrolled"]),
                                    name="application_one_open_per_program_household"),
            models.CheckConstraint(
                condition=Q(status__in=["applied", "enrolled", "refused", "withdrawn", "ended"]),
                name="application_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.household_id}: {self.status}"


class ProgramToken(models.Model):
    """Binds a program API token to the one program it may act for."""

    token = models.OneToOneField("accounts.ApiToken", on_delete=models.CASCADE,
                                 related_name="program_binding")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="tokens")

    def __str__(self) -> str:
        return f"{self.token_id} → {self.program_id}"


class Subscription(models.Model):
    """A program's subscription to eligibility changes, delivered to its URL as signed
    webhooks (HMAC-SHA256 of the body with the subscription's secret)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="subscriptions")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=60)

    def __str__(self) -> str:
        return f"{self.program_id} → {self.url}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    event_id = models.CharField(max_length=40, unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.status}, {self.attempts})"
