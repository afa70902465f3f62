"""The social registry (RSU): households, memberships, declaration versions, lifecycle events,
and the regional roll-out calendar.

Integrity lives in the database as well as in the services:
- a person has at most one active membership (partial unique index where end_date IS NULL);
- a household has at most one active head (partial unique index); services require exactly one;
- a declaration version number is unique per household, and versions are never updated;
- declared counts and amounts are range-checked.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sijill.households import choices as c
from sijill.security.fields import EncryptedCodeField

#: Accepted ranges of the declared numbers (inclusive), shared by the DB checks, the API schema
#: and the bulk import. Amounts are whole dirhams a month.
RANGES: dict[str, tuple[int, int]] = {
    "rooms": (0, 99),
    "cows": (0, 9999),
    "mobile_phones": (0, 99),
    "computers": (0, 99),
    "cars": (0, 99),
    "motorcycles": (0, 99),
    "monthly_water_dh": (0, 100_000),
    "monthly_electricity_dh": (0, 100_000),
    "monthly_butane_dh": (0, 100_000),
    "monthly_phone_internet_dh": (0, 100_000),
}


class RegistrationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    VERIFYING = "verifying", _("Being verified")
    SCORED = "scored", _("Scored")
    NOTIFIED = "notified", _("Notified")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Household(models.Model):
    Status = RegistrationStatus

    class Language(models.TextChoices):
        ARABIC = "ar", _("Arabic")
        FRENCH = "fr", _("French")
        ENGLISH = "en", _("English")

    reference = models.CharField(_("reference"), max_length=12, unique=True,
                                 help_text="Stable public identifier, MEN-XXXXXXXX.")
    # No index of its own: household_commune_status (commune, status) serves every lookup.
    commune = models.ForeignKey("geography.Commune", on_delete=models.PROTECT,
                                related_name="households", db_index=False)
    milieu = c.enum_field(c.Milieu, _("milieu"))
    address = models.CharField(_("address"), max_length=300)
    declarant = models.ForeignKey("population.Person", on_delete=models.PROTECT,
                                  related_name="declared_households")
    head = models.ForeignKey("population.Person", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="headed_households",
                             help_text="Empty only while a deceased head awaits replacement.")
    status = models.CharField(_("registration status"), max_length=12, choices=Status.choices,
                              default=Status.DRAFT)
    notice_language = models.CharField(_("language of notices"), max_length=2,
                                       choices=Language.choices, default=Language.ARABIC)
    current_version = models.PositiveIntegerField(default=0)
    centre = models.ForeignKey("accounts.ServiceCentre", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    created_by = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    verification_requested_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When its current version was sent to verification (a background task "
                  "starts it); cleared once started. The sweeper starts those still waiting "
                  "long after (a lost task). Empty for households loaded without being sent "
                  "(synthetic populations: `manage.py verification_start`).")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RegistrationStatus.values),
                                   name="household_status_known"),
            models.CheckConstraint(condition=Q(milieu__in=c.Milieu.values),
                                   name="household_milieu_known"),
        ]
        indexes = [
            models.Index(fields=["commune", "status"], name="household_commune_status"),
            # Small: only the households whose verification start is awaited.
            models.Index(fields=["verification_requested_at"],
                         condition=Q(verification_requested_at__isnull=False),
                         name="household_verification_asked"),
        ]

    def __str__(self) -> str:
        return self.reference


class Membership(models.Model):
    """A person's membership of a household, from start_date to end_date (open while active)."""

    class EndReason(models.TextChoices):
        LEFT = "left", _("Left the household")
        MOVED = "moved", _("Moved to another household")
        DECEASED = "deceased", _("Deceased")
        RELATIONSHIP_CHANGED = "relationship_changed", _("Relationship to the head changed")
        HOUSEHOLD_CANCELLED = "household_cancelled", _("Registration cancelled")

    # No index of its own: membership_hh_end (household, end_date) serves every lookup.
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships",
                                  db_index=False)
    person = models.ForeignKey("population.Person", on_delete=models.PROTECT,
                               related_name="memberships")
    relationship = c.enum_field(c.Relationship, _("relationship to the head"))
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["household", "start_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(end_date__isnull=True),
                                    name="membership_one_active_household_per_person"),
            models.UniqueConstraint(fields=["household"],
                                    condition=Q(end_date__isnull=True, relationship="head"),
                                    name="membership_one_active_head_per_household"),
            models.CheckConstraint(condition=Q(end_date__isnull=True)
                                   | Q(end_date__gte=models.F("start_date")),
                                   name="membership_ends_after_it_starts"),
            models.CheckConstraint(condition=Q(end_date__isnull=True, end_reason="")
                                   | Q(end_date__isnull=False) & ~Q(end_reason=""),
                                   name="membership_end_reason_iff_ended"),
        ]
        indexes = [models.Index(fields=["household", "end_date"], name="membership_hh_end")]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.household_id}"


class ImmutableModel(models.Model):
    """Rows written once: save() refuses updates, delete() refuses."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise RuntimeError(f"{type(self).__name__} is immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{type(self).__name__} is immutable")


def _range_checks(prefix: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}),
                               name=f"{prefix}_{name}_in_range")
        for name, (low, high) in RANGES.items()
    ]


class DeclarationVersion(ImmutableModel):
    """One immutable state of a household's declaration (mirrors declaration.model.HouseholdData).

    Address, commune and milieu are copied in so a version says where the household lived then.
    """

    # Indexes: (household, version) is unique, and that index serves every lookup by household.
    # The commune is a copy no query looks versions up by (communes are reference data, never
    # deleted): no index, so every version written maintains two indexes fewer (the bulk import
    # writes 100,000s at once). The declarant keeps its index: a dedup merge looks up the
    # versions naming the retired person (households.identity).
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="versions",
                                  db_index=False)
    version = models.PositiveIntegerField()
    reason = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=60)
    declarant = models.ForeignKey("population.Person", on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("geography.Commune", on_delete=models.PROTECT, related_name="+",
                                db_index=False)
    milieu = c.enum_field(c.Milieu, _("milieu"))
    address = models.CharField(_("address"), max_length=300)

    dwelling_type = c.enum_field(c.DwellingType, _("dwelling type"))
    rooms = models.PositiveSmallIntegerField(_("rooms"))
    has_bathroom_or_shower = models.BooleanField(_("bathroom or shower"))
    has_kitchen = models.BooleanField(_("kitchen"))
    has_toilet = models.BooleanField(_("toilet"))
    has_running_water = models.BooleanField(_("running water"))
    electricity_meter = c.enum_field(c.ElectricityMeter, _("electricity meter"))
    cooking_fuel = c.enum_field(c.CookingFuel, _("cooking fuel"))
    has_garage = models.BooleanField(_("garage"))
    has_secondary_residence = models.BooleanField(_("second home"))
    has_professional_premises = models.BooleanField(_("professional premises"))
    owns_non_agricultural_land = models.BooleanField(_("non-agricultural land"))
    owns_or_farms_irrigated_land = models.BooleanField(_("irrigated land"))
    cows = models.PositiveIntegerField(_("cows"))
    mobile_phones = models.PositiveSmallIntegerField(_("mobile phones"))
    computers = models.PositiveSmallIntegerField(_("computers"))
    has_satellite_dish = models.BooleanField(_("satellite dish"))
    has_landline = models.BooleanField(_("landline"))
    cars = models.PositiveSmallIntegerField(_("cars"))
    motorcycles = models.PositiveSmallIntegerField(_("motorcycles"))
    has_loan = models.BooleanField(_("loan"))
    monthly_water_dh = models.PositiveIntegerField(_("monthly water spending (DH)"))
    monthly_electricity_dh = models.PositiveIntegerField(_("monthly electricity spending (DH)"))
    monthly_butane_dh = models.PositiveIntegerField(_("monthly butane spending (DH)"))
    monthly_phone_internet_dh = models.PositiveIntegerField(
        _("monthly phone and internet spending (DH)"))

    class Meta:
        ordering = ["household", "version"]
        constraints = [
            models.UniqueConstraint(fields=["household", "version"],
                                    name="declaration_version_unique_per_household"),
            models.CheckConstraint(condition=Q(version__gte=1), name="declaration_version_from_1"),
            models.CheckConstraint(condition=Q(dwelling_type__in=c.DwellingType.values),
                                   name="declaration_dwelling_type_known"),
            models.CheckConstraint(condition=Q(electricity_meter__in=c.ElectricityMeter.values),
                                   name="declaration_electricity_meter_known"),
            models.CheckConstraint(condition=Q(cooking_fuel__in=c.CookingFuel.values),
                                   name="declaration_cooking_fuel_known"),
            *_range_checks("declaration"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} v{self.version}"


class MemberDeclaration(ImmutableModel):
    """What one declaration version states about one member (mirrors MemberData)."""

    # No index of its own: the unique (declaration, person) index serves every lookup.
    declaration = models.ForeignKey(DeclarationVersion, on_delete=models.PROTECT,
                                    related_name="members", db_index=False)
    position = models.PositiveSmallIntegerField(help_text="Order in the declaration.")
    person = models.ForeignKey("population.Person", on_delete=models.PROTECT, related_name="+")
    relationship = c.enum_field(c.Relationship, _("relationship to the head"))
    marital_status = c.enum_field(c.MaritalStatus, _("marital status"))
    education_level = c.enum_field(c.EducationLevel, _("education level"))
    diploma = c.enum_field(c.Diploma, _("diploma"))
    literate = models.BooleanField(_("can read and write"))
    activity = c.enum_field(c.Activity, _("activity"))
    employment_status = c.enum_field(c.EmploymentStatus, _("status in employment"))
    occupation = c.enum_field(c.Occupation, _("socio-professional category"))
    schooling = c.enum_field(c.Schooling, _("schooling"))
    # Encrypted at rest (sijill.security.fields): the ORM decrypts; bulk paths use
    # encrypt_frame / decrypt_frame. No CHECK on these columns: the database sees ciphertext.
    disability = EncryptedCodeField(_("disability"), choices=c.Disability.choices)
    health_coverage = EncryptedCodeField(_("health coverage"), choices=c.HealthCoverage.choices)

    class Meta:
        ordering = ["declaration", "position"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "person"],
                                    name="member_declared_once_per_version"),
            models.UniqueConstraint(fields=["declaration", "position"],
                                    name="member_position_unique_per_version"),
            models.UniqueConstraint(fields=["declaration"], condition=Q(relationship="head"),
                                    name="member_declaration_one_head"),
            *[models.CheckConstraint(condition=Q(**{f"{name}__in": ch.values}),
                                     name=f"member_declaration_{name}_known")
              for name, ch in (("relationship", c.Relationship),
                               ("marital_status", c.MaritalStatus),
                               ("education_level", c.EducationLevel),
                               ("diploma", c.Diploma), ("activity", c.Activity),
                               ("employment_status", c.EmploymentStatus),
                               ("occupation", c.Occupation), ("schooling", c.Schooling))],
        ]

    def __str__(self) -> str:
        return f"{self.declaration_id}#{self.position}"


class RegistrationEvent(ImmutableModel):
    """One step of the registration lifecycle, time-stamped with who took it."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=12, choices=Household.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Household.Status.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor_label = models.CharField(max_length=60)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["household", "at", "id"]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.from_status or '-'} -> {self.to_status}"


class RolloutWindow(models.Model):
    """Registration opens in a region, province or commune on a date set by decision.

    The most specific window wins (commune, then province, then region). Where no window covers
    a commune, registration there is closed until one is configured.
    """

    class Scope(models.TextChoices):
        REGION = "region", _("Region")
        PROVINCE = "province", _("Province or prefecture")
        COMMUNE = "commune", _("Commune")

    scope = models.CharField(max_length=10, choices=Scope.choices)
    code = models.CharField(max_length=12, unique=True, help_text="HCP code of the area.")
    opens_on = models.DateField(null=True, blank=True,
                                help_text="Empty: announced but no date set yet.")
    decision = models.CharField(max_length=200, blank=True,
                                help_text="The decision that set the date.")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.scope} {self.code}: {self.opens_on or '—'}"
