"""Staff and citizen accounts, citizen service centres, and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from sijill.accounts.roles import Role


class ServiceCentre(models.Model):
    """A citizen service centre (مركز خدمات المواطنين); its agents work in its provinces only."""

    code = models.SlugField(max_length=40, unique=True)
    name_ar = models.CharField(max_length=200)
    name_fr = models.CharField(max_length=200)
    commune = models.ForeignKey("geography.Commune", on_delete=models.PROTECT)
    provinces = models.ManyToManyField("geography.Province", related_name="service_centres")

    def __str__(self) -> str:
        return self.name_fr


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CITIZEN)
    centre = models.ForeignKey(ServiceCentre, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="agents")
    preferred_language = models.CharField(max_length=5, default="ar")
    idcs = models.CharField("IDCS", max_length=10, null=True, blank=True, unique=True,
                            help_text="For a citizen account: the IDCS it belongs to.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="agent") | models.Q(centre__isnull=False),
                name="agent_has_a_centre",
            ),
        ]


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for a machine caller (partner administration, program). Stored hashed."""

    name = models.CharField(max_length=120)
    role = models.CharField(max_length=20, choices=Role.choices)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    purpose = models.CharField(_("purpose"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_key() -> str:
        return "sjl_" + secrets.token_urlsafe(32)
