"""Semantic checks of an enrolment, collected as field errors in the caller's language."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import phonenumbers
from django.utils.translation import gettext_lazy as _

from sijill.core.errors import FieldError
from sijill.population import idcs as idcs_mod
from sijill.population import normalize

CNIE = re.compile(r"^[A-Z]{1,2}[0-9]{1,7}$")
RESIDENCE_CARD = re.compile(r"^[A-Z0-9]{6,20}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass
class Problems:
    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, code: str, message: object) -> None:
        self.errors.append(FieldError(name, code, message))  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        return bool(self.errors)


def clean_cnie(value: str | None) -> str | None:
    return value.strip().upper().replace(" ", "") if value else None


def check_idcs(problems: Problems, name: str, value: str | None) -> None:
    if value is None:
        return
    code = idcs_mod.problem(value)
    if code == "idcs_format":
        problems.add(name, code, _("An IDCS has exactly 10 digits and does not start with 0."))
    elif code == "idcs_checksum":
        problems.add(name, code, _("This IDCS is mistyped: its check digit does not match."))


def check_names(problems: Problems, values: dict[str, str]) -> None:
    for name in ("first_name_ar", "family_name_ar"):
        if not normalize.ARABIC_NAME.match(values[name]) or not normalize.arabic(values[name]):
            problems.add(name, "not_arabic_script",
                         _("Write this name in Arabic letters only."))
    for name in ("first_name_latin", "family_name_latin"):
        if not normalize.LATIN_NAME.match(values[name]) or not normalize.latin(values[name]):
            problems.add(name, "not_latin_script",
                         _("Write this name in Latin letters only."))


def check_birth_date(problems: Problems, birth: date, *, today: date) -> None:
    if birth > today:
        problems.add("birth_date", "in_future", _("The birth date cannot be in the future."))
    elif birth.year < 1890:
        problems.add("birth_date", "too_old", _("The birth date is implausibly old."))


def clean_phone(problems: Problems, value: str | None) -> str:
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "MA")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        problems.add("phone", "invalid_phone", _("This is not a valid phone number."))
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
