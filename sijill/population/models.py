"""The population register: persons, their history, and enrolments held for a decision."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Person(models.Model):
    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DECEASED = "deceased", _("Deceased")
        RETIRED = "retired", _("Retired (merged into another IDCS)")

    class Basis(models.TextChoices):
        DOCUMENT = "document", _("Identity document")
        WITNESSES = "witnesses", _("Two witnesses")
        BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")

    class Channel(models.TextChoices):
        CENTRE = "centre", _("Citizen service centre")
        PORTAL = "portal", _("Online portal")
        BULK = "bulk", _("Bulk import")
        CIVIL_STATUS = "civil_status", _("Civil status")

    class ResidenceStatus(models.TextChoices):
        CITIZEN = "citizen", _("Moroccan national")
        RESIDENT = "resident", _("Resident foreigner")
        REFUGEE = "refugee", _("Refugee")
        ASYLUM_SEEKER = "asylum_seeker", _("Asylum seeker")

    idcs = models.CharField("IDCS", max_length=10, unique=True)
    first_name_ar = models.CharField(_("first name (Arabic)"), max_length=80)
    family_name_ar = models.CharField(_("family name (Arabic)"), max_length=80)
    first_name_latin = models.CharField(_("first name (Latin)"), max_length=80)
    family_name_latin = models.CharField(_("family name (Latin)"), max_length=80)
    # Blocking keys for the probable-duplicate search (see normalize.py).
    first_key_ar = models.CharField(max_length=80, editable=False)
    family_key_ar = models.CharField(max_length=80, editable=False)
    first_key_latin = models.CharField(max_length=40, editable=False)
    family_key_latin = models.CharField(max_length=40, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    birth_year_only = models.BooleanField(
        _("only the birth year is known"), default=False,
        help_text="birth_date then holds 1 January of that year.")
    birth_year = models.PositiveSmallIntegerField(editable=False)
    birth_place_commune = models.ForeignKey("geography.Commune", null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    birth_place_abroad = models.CharField(max_length=120, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, default="MA")
    residence_status = models.CharField(max_length=20, choices=ResidenceStatus.choices,
                                        default=ResidenceStatus.CITIZEN)
    cnie = models.CharField("CNIE", max_length=10, null=True, blank=True)
    residence_card = models.CharField(_("residence card"), max_length=20, null=True, blank=True)
    birth_certificate_ref = models.CharField(max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    mother = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    father = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    witness_1 = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    witness_2 = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    death_date = models.DateField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    enrolment_basis = models.CharField(max_length=20, choices=Basis.choices)
    enrolment_channel = models.CharField(max_length=20, choices=Channel.choices)
    centre = models.ForeignKey("accounts.ServiceCentre", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cnie"], condition=Q(cnie__isnull=False),
                                    name="person_cnie_enrolled_once"),
            models.UniqueConstraint(fields=["residence_card"],
                                    condition=Q(residence_card__isnull=False),
                                    name="person_residence_card_enrolled_once"),
            models.CheckConstraint(
                condition=Q(status="deceased", death_date__isnull=False)
                | (~Q(status="deceased") & Q(death_date__isnull=True)),
                name="person_death_date_iff_deceased"),
            models.CheckConstraint(
                condition=Q(status="retired", merged_into__isnull=False)
                | (~Q(status="retired") & Q(merged_into__isnull=True)),
                name="person_merged_into_iff_retired"),
            models.CheckConstraint(
                condition=~Q(enrolment_basis="witnesses")
                | Q(witness_1__isnull=False, witness_2__isnull=False),
                name="person_witness_enrolment_names_two_witnesses"),
            models.CheckConstraint(condition=~Q(witness_1=models.F("witness_2")),
                                   name="person_witnesses_distinct"),
        ]
        indexes = [
            models.Index(fields=["family_key_latin", "birth_year"], name="person_fam_lat_year"),
            models.Index(fields=["family_key_ar", "birth_year"], name="person_fam_ar_year"),
            models.Index(fields=["first_key_latin", "birth_date"], name="person_first_lat_date"),
            models.Index(fields=["first_key_ar", "birth_date"], name="person_first_ar_date"),
            models.Index(fields=["phone"], name="person_phone"),
        ]

    def __str__(self) -> str:
        return self.idcs


class PersonVersion(models.Model):
    """One state of a person's record. Every change adds a version; none is ever overwritten."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    reason = models.CharField(max_length=40)
    actor_label = models.CharField(max_length=60)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "version"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="person_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} v{self.version}"


class HeldEnrolment(models.Model):
    """An enrolment that resembles an enrolled person: an agent decides before an IDCS issues."""

    class Status(models.TextChoices):
        HELD = "held", _("Held for a decision")
        ENROLLED = "enrolled", _("Enrolled as a new person")
        SAME_PERSON = "same_person", _("Same person as an enrolled one")
        REJECTED = "rejected", _("Rejected")

    reference = models.CharField(max_length=16, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    payload = models.JSONField()
    candidates = models.JSONField(help_text="[{idcs, score}] when the enrolment was held")
    centre = models.ForeignKey("accounts.ServiceCentre", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    created_by = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.CharField(max_length=60, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+",
                               help_text="The person enrolled, or the one it was the same as.")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status="held") | Q(decided_at__isnull=False),
                                   name="held_enrolment_decided_has_time"),
        ]

    def __str__(self) -> str:
        return self.reference
