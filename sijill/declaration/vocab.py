"""Enumerations of the declaration, with English labels marked for translation.

`_` only marks a string for `makemessages`; the Django layer translates with `gettext(label)`.
The values are part of the data contract (database, bulk files, formula definitions): never
rename one, add a new value instead.
"""

from __future__ import annotations

from enum import StrEnum


def _(message: str) -> str:
    """Mark a label for extraction by makemessages without importing Django."""
    return message


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class Milieu(StrEnum):
    URBAN = "urban"
    RURAL = "rural"


class Relationship(StrEnum):
    """Relationship of a member to the household head."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDCHILD = "grandchild"
    CHILD_IN_LAW = "child_in_law"
    OTHER_RELATIVE = "other_relative"
    NON_RELATIVE = "non_relative"


class MaritalStatus(StrEnum):
    SINGLE = "single"
    MARRIED = "married"
    DIVORCED = "divorced"
    WIDOWED = "widowed"


class EducationLevel(StrEnum):
    """Highest level attended (census categories of RGPH 2024)."""

    NONE = "none"
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    LOWER_SECONDARY = "lower_secondary"
    UPPER_SECONDARY = "upper_secondary"
    HIGHER = "higher"


class Diploma(StrEnum):
    """Highest diploma held."""

    NONE = "none"
    PRIMARY_CERTIFICATE = "primary_certificate"
    LOWER_SECONDARY_CERTIFICATE = "lower_secondary_certificate"
    BACCALAUREATE = "baccalaureate"
    VOCATIONAL = "vocational"
    HIGHER = "higher"


class Activity(StrEnum):
    """Activity status (ILO-style)."""

    EMPLOYED = "employed"
    UNEMPLOYED = "unemployed"
    STUDENT = "student"
    HOMEMAKER = "homemaker"
    RETIRED = "retired"
    ANNUITANT = "annuitant"
    UNABLE_TO_WORK = "unable_to_work"
    OTHER_INACTIVE = "other_inactive"


class EmploymentStatus(StrEnum):
    """Status in employment (census categories), for members who work."""

    NONE = "none"
    EMPLOYER = "employer"
    SELF_EMPLOYED = "self_employed"
    PUBLIC_EMPLOYEE = "public_employee"
    PRIVATE_EMPLOYEE = "private_employee"
    FAMILY_WORKER = "family_worker"
    APPRENTICE = "apprentice"
    COOPERATIVE_MEMBER = "cooperative_member"
    OTHER = "other"


class Occupation(StrEnum):
    """Socio-professional category (grouped as the formula needs)."""

    NONE = "none"
    SENIOR_EXECUTIVE = "senior_executive"
    MIDDLE_MANAGER = "middle_manager"
    CLERICAL_EMPLOYEE = "clerical_employee"
    TRADER = "trader"
    CRAFTSMAN = "craftsman"
    MACHINE_OPERATOR = "machine_operator"
    FARM_OPERATOR = "farm_operator"
    FARM_WORKER = "farm_worker"
    LABOURER = "labourer"
    SERVICE_WORKER = "service_worker"
    OTHER = "other"


class Schooling(StrEnum):
    NOT_SCHOOLED = "not_schooled"
    PUBLIC = "public"
    PRIVATE = "private"


class Disability(StrEnum):
    NONE = "none"
    PHYSICAL = "physical"
    VISUAL = "visual"
    HEARING = "hearing"
    MENTAL = "mental"
    MULTIPLE = "multiple"


class HealthCoverage(StrEnum):
    """Health cover. AMO Tadamon replaced RAMED in 2022: it is the 'RAMED' of the formula."""

    NONE = "none"
    AMO_TADAMON = "amo_tadamon"
    AMO_SALARIED = "amo_salaried"
    AMO_PUBLIC = "amo_public"
    AMO_SELF_EMPLOYED = "amo_self_employed"
    PRIVATE_INSURANCE = "private_insurance"
    OTHER = "other"


class DwellingType(StrEnum):
    """Dwelling types of RGPH 2024, the rural dwelling split by building material."""

    VILLA = "villa"
    APARTMENT = "apartment"
    MOROCCAN_HOUSE = "moroccan_house"
    BASIC_OR_SLUM = "basic_or_slum"
    RURAL_STONE = "rural_stone"
    RURAL_OTHER = "rural_other"
    OTHER = "other"


class ElectricityMeter(StrEnum):
    OWN = "own"
    SHARED = "shared"
    NONE = "none"


class CookingFuel(StrEnum):
    GAS = "gas"
    ELECTRICITY = "electricity"
    CHARCOAL = "charcoal"
    FIREWOOD = "firewood"
    OTHER = "other"


_LABEL_LIST: tuple[tuple[StrEnum, str], ...] = (
    (Sex.MALE, _("Male")),
    (Sex.FEMALE, _("Female")),
    (Milieu.URBAN, _("Urban")),
    (Milieu.RURAL, _("Rural")),
    (Relationship.HEAD, _("Household head")),
    (Relationship.SPOUSE, _("Spouse")),
    (Relationship.CHILD, _("Son or daughter")),
    (Relationship.PARENT, _("Father or mother")),
    (Relationship.SIBLING, _("Brother or sister")),
    (Relationship.GRANDCHILD, _("Grandchild")),
    (Relationship.CHILD_IN_LAW, _("Son- or daughter-in-law")),
    (Relationship.OTHER_RELATIVE, _("Other relative")),
    (Relationship.NON_RELATIVE, _("Not related")),
    (MaritalStatus.SINGLE, _("Never married")),
    (MaritalStatus.MARRIED, _("Married")),
    (MaritalStatus.DIVORCED, _("Divorced")),
    (MaritalStatus.WIDOWED, _("Widowed")),
    (EducationLevel.NONE, _("No schooling")),
    (EducationLevel.PRESCHOOL, _("Preschool")),
    (EducationLevel.PRIMARY, _("Primary")),
    (EducationLevel.LOWER_SECONDARY, _("Lower secondary")),
    (EducationLevel.UPPER_SECONDARY, _("Upper secondary")),
    (EducationLevel.HIGHER, _("Higher education")),
    (Diploma.NONE, _("No diploma")),
    (Diploma.PRIMARY_CERTIFICATE, _("Primary school certificate")),
    (Diploma.LOWER_SECONDARY_CERTIFICATE, _("Lower secondary certificate")),
    (Diploma.BACCALAUREATE, _("Baccalaureate")),
    (Diploma.VOCATIONAL, _("Vocational or technical diploma")),
    (Diploma.HIGHER, _("Higher-education diploma")),
    (Activity.EMPLOYED, _("Working")),
    (Activity.UNEMPLOYED, _("Unemployed")),
    (Activity.STUDENT, _("Pupil or student")),
    (Activity.HOMEMAKER, _("Homemaker")),
    (Activity.RETIRED, _("Retired")),
    (Activity.ANNUITANT, _("Living on an annuity or income")),
    (Activity.UNABLE_TO_WORK, _("Unable to work")),
    (Activity.OTHER_INACTIVE, _("Other inactive")),
    (EmploymentStatus.NONE, _("Not working")),
    (EmploymentStatus.EMPLOYER, _("Employer")),
    (EmploymentStatus.SELF_EMPLOYED, _("Self-employed")),
    (EmploymentStatus.PUBLIC_EMPLOYEE, _("Public sector employee")),
    (EmploymentStatus.PRIVATE_EMPLOYEE, _("Private sector employee")),
    (EmploymentStatus.FAMILY_WORKER, _("Unpaid family worker")),
    (EmploymentStatus.APPRENTICE, _("Apprentice")),
    (EmploymentStatus.COOPERATIVE_MEMBER, _("Cooperative member or partner")),
    (EmploymentStatus.OTHER, _("Other")),
    (Occupation.NONE, _("No occupation")),
    (Occupation.SENIOR_EXECUTIVE, _("Senior executive or position of responsibility")),
    (Occupation.MIDDLE_MANAGER, _("Middle-level executive")),
    (Occupation.CLERICAL_EMPLOYEE, _("Clerical employee")),
    (Occupation.TRADER, _("Trader")),
    (Occupation.CRAFTSMAN, _("Craftsman")),
    (Occupation.MACHINE_OPERATOR, _("Equipment or machine operator")),
    (Occupation.FARM_OPERATOR, _("Farm operator")),
    (Occupation.FARM_WORKER, _("Farm worker")),
    (Occupation.LABOURER, _("Labourer")),
    (Occupation.SERVICE_WORKER, _("Service worker")),
    (Occupation.OTHER, _("Other occupation")),
    (Schooling.NOT_SCHOOLED, _("Not in school")),
    (Schooling.PUBLIC, _("Public school")),
    (Schooling.PRIVATE, _("Private school")),
    (Disability.NONE, _("No disability")),
    (Disability.PHYSICAL, _("Physical disability")),
    (Disability.VISUAL, _("Visual disability")),
    (Disability.HEARING, _("Hearing disability")),
    (Disability.MENTAL, _("Mental disability")),
    (Disability.MULTIPLE, _("Multiple disabilities")),
    (HealthCoverage.NONE, _("No health cover")),
    (HealthCoverage.AMO_TADAMON, _("AMO Tadamon (formerly RAMED)")),
    (HealthCoverage.AMO_SALARIED, _("AMO for private-sector employees (CNSS)")),
    (HealthCoverage.AMO_PUBLIC, _("AMO for public-sector employees (CNOPS)")),
    (HealthCoverage.AMO_SELF_EMPLOYED, _("AMO for the self-employed")),
    (HealthCoverage.PRIVATE_INSURANCE, _("Private insurance")),
    (HealthCoverage.OTHER, _("Other health cover")),
    (DwellingType.VILLA, _("Villa, or a floor of one")),
    (DwellingType.APARTMENT, _("Apartment")),
    (DwellingType.MOROCCAN_HOUSE, _("Moroccan house (traditional or modern)")),
    (DwellingType.BASIC_OR_SLUM, _("Basic house or slum")),
    (DwellingType.RURAL_STONE, _("Rural house of dry stone or stone bound with mud")),
    (DwellingType.RURAL_OTHER, _("Rural house of earth or other materials")),
    (DwellingType.OTHER, _("Other dwelling")),
    (ElectricityMeter.OWN, _("Own meter")),
    (ElectricityMeter.SHARED, _("Shared meter")),
    (ElectricityMeter.NONE, _("No meter")),
    (CookingFuel.GAS, _("Gas")),
    (CookingFuel.ELECTRICITY, _("Electricity")),
    (CookingFuel.CHARCOAL, _("Charcoal")),
    (CookingFuel.FIREWOOD, _("Firewood")),
    (CookingFuel.OTHER, _("Other fuel")),
)
# Keyed by (enumeration, member): values shared by several enumerations ("none", "other",
# "higher") are equal strings, so a dict keyed by the members alone would keep one label.
LABELS: dict[tuple[type[StrEnum], str], str] = {(type(m), m.name): t for m, t in _LABEL_LIST}


def label(value: StrEnum) -> str:
    """The English msgid of a value (translate it with gettext in the Django layer)."""
    return LABELS[(type(value), value.name)]
