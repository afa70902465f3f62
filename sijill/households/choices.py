"""Django TextChoices built from the declaration vocabulary, labels translated lazily.

The values come from `sijill.declaration.vocab` (the data contract, never renamed); the labels
are its English msgids, translated with gettext_lazy in the caller's language.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy

from sijill.declaration import vocab


def text_choices(enum: type[StrEnum]) -> type[models.TextChoices]:
    members = [(m.name, (m.value, gettext_lazy(vocab.label(m)))) for m in enum]
    # The stub knows the functional API only with names, not with (name, (value, label)) pairs.
    return models.TextChoices(enum.__name__, members)  # type: ignore[call-overload]


Milieu = text_choices(vocab.Milieu)
Relationship = text_choices(vocab.Relationship)
MaritalStatus = text_choices(vocab.MaritalStatus)
EducationLevel = text_choices(vocab.EducationLevel)
Diploma = text_choices(vocab.Diploma)
Activity = text_choices(vocab.Activity)
EmploymentStatus = text_choices(vocab.EmploymentStatus)
Occupation = text_choices(vocab.Occupation)
Schooling = text_choices(vocab.Schooling)
Disability = text_choices(vocab.Disability)
HealthCoverage = text_choices(vocab.HealthCoverage)
DwellingType = text_choices(vocab.DwellingType)
ElectricityMeter = text_choices(vocab.ElectricityMeter)
CookingFuel = text_choices(vocab.CookingFuel)


def enum_field(choices: type[models.TextChoices], verbose_name: object,
               **kwargs: object) -> models.CharField:
    """A CharField holding one value of a declaration enumeration."""
    width = max(20, *(len(v) for v in choices.values))
    return models.CharField(verbose_name, max_length=width, choices=choices.choices,  # type: ignore[arg-type]
                            **kwargs)  # type: ignore[arg-type]
