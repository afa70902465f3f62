"""Formula versions, scores and scoring runs.

- A formula version is data (the full YAML), never code; at most one version of a formula
  identifier is active at a time (partial unique index).
- A score is immutable and unique per (declaration version, formula version, verification basis):
  recomputing never duplicates, and an old score can always be recomputed from its inputs to the
  same number. The basis is the revision of the verified values it was computed with (0: declared
  values only, before any partner answered); a late partner answer or a decided discrepancy gives
  the next basis and a new score. The current score of a declaration with a formula is the one
  with the highest basis.
  Per-variable values and contributions are stored as arrays aligned with the variables of the
  formula version's milieu model (the version is immutable, so the order is fixed); `verified_by`
  maps the keys of variables fed by verified values to their sources; `inputs` keeps what was
  joined to the declaration (ages, sexes, verified values), so a later correction of a birth date
  in the register does not change how an old score recomputes.
- A scoring run records the progress and the result of a rescore or an impact report.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FormulaVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    identifier = models.SlugField(_("formula identifier"), max_length=60)
    version = models.CharField(_("version"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    provenance = models.JSONField(_("provenance"), default=dict)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    provisional = models.BooleanField(
        _("provisional"), default=False,
        help_text="Some coefficient is assumed, not sourced: every score it computes says so.")
    definition = models.TextField(_("formula (YAML)"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=60)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.CharField(max_length=60, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["identifier", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["identifier", "version"],
                                    name="formula_version_unique"),
            models.UniqueConstraint(fields=["identifier"], condition=Q(status="active"),
                                    name="formula_one_active_per_identifier"),
            models.CheckConstraint(condition=Q(status__in=["draft", "active", "retired"]),
                                   name="formula_status_known"),
            models.CheckConstraint(condition=~Q(status="active") | Q(activated_at__isnull=False),
                                   name="formula_active_has_activation_time"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.identifier}@{self.version}"


class ImmutableModel(models.Model):
    """Rows written once: save() refuses updates, delete() refuses (and a trigger on PG)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise RuntimeError(f"{type(self).__name__} is immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{type(self).__name__} is immutable")


class Score(ImmutableModel):
    """One household's index for one declaration version with one formula version."""

    household = models.ForeignKey("households.Household", on_delete=models.PROTECT,
                                  related_name="scores")
    declaration = models.ForeignKey("households.DeclarationVersion", on_delete=models.PROTECT,
                                    related_name="scores")
    formula = models.ForeignKey(FormulaVersion, on_delete=models.PROTECT, related_name="scores")
    value = models.FloatField(_("index"))
    provisional = models.BooleanField(_("provisional"))
    provisional_variables = models.JSONField(default=list)
    milieu = models.CharField(max_length=10)
    region = models.CharField(max_length=2)
    constant = models.FloatField()
    region_term = models.FloatField()
    values = models.JSONField(help_text="Variable values, in the order of the milieu model.")
    contributions = models.JSONField(help_text="coefficient × value, same order.")
    verified_by = models.JSONField(default=dict,
                                   help_text="Variable key → sources, for verified variables.")
    inputs = models.JSONField(
        default=dict,
        help_text="What was joined to the declaration: reference date, members' ages and sexes "
                  "(in declared order), verified values. An old score recomputes from these.")
    basis = models.PositiveIntegerField(
        default=0, help_text="Revision of the verified values used (0: declared only); the "
                             "highest basis of a declaration and formula is the current score.")
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["declaration", "formula", "basis"],
                                    name="score_once_per_declaration_formula_basis"),
        ]
        indexes = [models.Index(fields=["household", "formula"], name="score_household_formula")]

    def __str__(self) -> str:
        return f"{self.household_id} v{self.declaration_id} {self.formula_id}: {self.value:.4f}"


class ScoringRun(models.Model):
    """A background run over the whole registry: a rescore after activation, or an impact
    report of a draft. Safe to re-run: a rescore resumes from what is already scored."""

    class Kind(models.TextChoices):
        RESCORE = "rescore", _("Rescore")
        IMPACT = "impact", _("Impact report")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    formula = models.ForeignKey(FormulaVersion, on_delete=models.PROTECT, related_name="runs")
    baseline = models.ForeignKey(FormulaVersion, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=60)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True,
        help_text="Last sign of life of the worker running it (each chunk); a running run "
                  "silent for too long lost its worker and is queued again.")
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["rescore", "impact"]),
                                   name="scoring_run_kind_known"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "done", "failed"]),
                name="scoring_run_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.formula_id} ({self.status} {self.done}/{self.total})"
