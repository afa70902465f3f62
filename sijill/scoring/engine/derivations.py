"""How each formula variable's value is derived from a declaration: one definition per variable.

Two layers, both written once and evaluated on Python scalars (one household) and on NumPy
columns (a chunk of households):

* a *member feature* is a yes/no fact about one member (e.g. "aged 15+ without a diploma"),
  read from the member context `m`; the engine counts it per household as `h.n_<feature>`;
* a *derivation* computes a variable's value from the household context `h`: the declared
  household fields (enum fields as codes, see `codes`), `h.size` (number of members),
  `h.head_<field>` (the head's member fields and `head_age`) and the counts `h.n_<feature>`.

Write derivations with arithmetic, comparisons, `&`, `|` and the helpers of `ops`; never `not`,
`~`, `and`, `or` or `if` on values (they do not mean the same on scalars and arrays). Which
fields each definition reads is found by tracing it once, so the engine can tell which
verified values fed which variable. The batch kernel (`kernel`) compiles the definitions from
their source: keep to one-argument functions of `name = expression` lines and a `return`, with
module constants, `isin`/`maximum` and `abs`/`min`/`max`/`float`/`int`; anything else makes
large batches fall back to the slower NumPy path (with a warning in the log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS
from sijill.declaration.vocab import (
    Activity,
    Diploma,
    DwellingType,
    EducationLevel,
    ElectricityMeter,
    EmploymentStatus,
    HealthCoverage,
    Occupation,
    Relationship,
    Schooling,
)
from sijill.scoring.engine.codes import code, codes
from sijill.scoring.engine.ops import isin, maximum

#: Member-level columns of the engine input: the declared member fields plus identity facts
#: joined from the population register (age in completed years at the reference date, sex).
MEMBER_CONTEXT_FIELDS: tuple[str, ...] = (
    *(f for f in MEMBER_FIELDS if f != "idcs"),
    "age",
    "sex",
)
HOUSEHOLD_CONTEXT_FIELDS: tuple[str, ...] = HOUSEHOLD_FIELDS


@dataclass(frozen=True, slots=True)
class MemberFeature:
    name: str
    fn: Callable[[Any], Any]
    doc: str
    member_fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class Derivation:
    key: str
    fn: Callable[[Any], Any]
    doc: str
    household_fields: frozenset[str]
    head_fields: frozenset[str]
    features: frozenset[str]
    member_fields: frozenset[str]


MEMBER_FEATURES: dict[str, MemberFeature] = {}
DERIVATIONS: dict[str, Derivation] = {}


class _Probe:
    """Records the attributes a definition reads; every attribute reads as 1."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> int:
        self.read.add(name)
        return 1


def _doc(fn: Callable[..., Any]) -> str:
    return (fn.__doc__ or "").strip()


def member_feature(name: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register a yes/no fact about a member, counted per household as `h.n_<name>`."""

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        probe = _Probe()
        fn(probe)
        unknown = probe.read - set(MEMBER_CONTEXT_FIELDS)
        if unknown:
            raise ValueError(f"member feature {name!r} reads unknown fields {sorted(unknown)}")
        MEMBER_FEATURES[name] = MemberFeature(name, fn, _doc(fn), frozenset(probe.read))
        return fn

    return register


def derivation(key: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register the derivation of a variable value from the household context."""

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        probe = _Probe()
        fn(probe)
        household, head, features = set(), set(), set()
        for name in probe.read:
            if name in HOUSEHOLD_CONTEXT_FIELDS:
                household.add(name)
            elif name.startswith("head_") and name[5:] in MEMBER_CONTEXT_FIELDS:
                head.add(name[5:])
            elif name.startswith("n_") and name[2:] in MEMBER_FEATURES:
                features.add(name[2:])
            elif name != "size":
                raise ValueError(f"derivation {key!r} reads unknown field {name!r}")
        member_fields = frozenset().union(*(MEMBER_FEATURES[f].member_fields for f in features))
        DERIVATIONS[key] = Derivation(
            key,
            fn,
            _doc(fn),
            frozenset(household),
            frozenset(head),
            frozenset(features),
            member_fields,
        )
        return fn

    return register


# --- codes used below -------------------------------------------------------------------------

_SPOUSE = code(Relationship.SPOUSE)
_OUTSIDE_HEAD_NUCLEUS = codes(
    *(
        r
        for r in Relationship
        if r not in (Relationship.HEAD, Relationship.SPOUSE, Relationship.CHILD)
    )
)
_COVER_OTHER_THAN_RAMED = codes(
    *(c for c in HealthCoverage if c not in (HealthCoverage.NONE, HealthCoverage.AMO_TADAMON))
)
_PRIVATE, _PUBLIC = code(Schooling.PRIVATE), code(Schooling.PUBLIC)
_NO_DIPLOMA, _HIGHER_DIPLOMA = code(Diploma.NONE), code(Diploma.HIGHER)
_EMPLOYED = code(Activity.EMPLOYED)
_RETIRED_OR_ANNUITANT = codes(Activity.RETIRED, Activity.ANNUITANT)
_SENIOR = code(Occupation.SENIOR_EXECUTIVE)
_MIDDLE = code(Occupation.MIDDLE_MANAGER)
_TRADER = code(Occupation.TRADER)
_CRAFTSMAN = code(Occupation.CRAFTSMAN)
_MACHINE_OPERATOR = code(Occupation.MACHINE_OPERATOR)
_FARM_OPERATOR = code(Occupation.FARM_OPERATOR)
_EMPLOYER = code(EmploymentStatus.EMPLOYER)
_HIGHER_LEVEL = code(EducationLevel.HIGHER)
_BASIC_LEVEL = codes(EducationLevel.PRIMARY, EducationLevel.LOWER_SECONDARY)
_OWN_METER = code(ElectricityMeter.OWN)
_SOLID_DWELLING = codes(
    DwellingType.VILLA,
    DwellingType.APARTMENT,
    DwellingType.MOROCCAN_HOUSE,
    DwellingType.RURAL_STONE,
)

# --- member features --------------------------------------------------------------------------


@member_feature("spouse")
def _spouse(m: Any) -> Any:
    """The member is the head's spouse."""
    return m.relationship == _SPOUSE


@member_feature("outside_head_nucleus")
def _outside_head_nucleus(m: Any) -> Any:
    """The member is neither the head, the head's spouse nor the head's child."""
    return isin(m.relationship, _OUTSIDE_HEAD_NUCLEUS)


@member_feature("covered_other_than_ramed")
def _covered_other_than_ramed(m: Any) -> Any:
    """The member has a health cover other than none and AMO Tadamon (the former RAMED)."""
    return isin(m.health_coverage, _COVER_OTHER_THAN_RAMED)


@member_feature("aged_6_14_private_school")
def _aged_6_14_private(m: Any) -> Any:
    """The member is aged 6 to 14 and goes to a private school."""
    return (m.age >= 6) & (m.age <= 14) & (m.schooling == _PRIVATE)


@member_feature("aged_6_14_public_school")
def _aged_6_14_public(m: Any) -> Any:
    """The member is aged 6 to 14 and goes to a public school."""
    return (m.age >= 6) & (m.age <= 14) & (m.schooling == _PUBLIC)


@member_feature("aged_15_plus_without_diploma")
def _aged_15_without_diploma(m: Any) -> Any:
    """The member is aged 15+ and holds no diploma."""
    return (m.age >= 15) & (m.diploma == _NO_DIPLOMA)


@member_feature("aged_15_plus_with_diploma")
def _aged_15_with_diploma(m: Any) -> Any:
    """The member is aged 15+ and holds a diploma of any kind."""
    return (m.age >= 15) & (m.diploma != _NO_DIPLOMA)


@member_feature("aged_15_plus_working")
def _aged_15_working(m: Any) -> Any:
    """The member is aged 15+ and works (activity status employed)."""
    return (m.age >= 15) & (m.activity == _EMPLOYED)


@member_feature("aged_15_plus_machine_operator")
def _aged_15_machine_operator(m: Any) -> Any:
    """The member is aged 15+ and operates equipment or machines."""
    return (m.age >= 15) & (m.occupation == _MACHINE_OPERATOR)


@member_feature("senior_executive")
def _senior_executive(m: Any) -> Any:
    """The member is a senior executive or holds a position of responsibility."""
    return m.occupation == _SENIOR


@member_feature("aged_15_plus_literate")
def _aged_15_literate(m: Any) -> Any:
    """The member is aged 15+ and can read and write."""
    return (m.age >= 15) & m.literate


@member_feature("aged_15_plus_higher_diploma")
def _aged_15_higher_diploma(m: Any) -> Any:
    """The member is aged 15+ and holds a higher-education diploma."""
    return (m.age >= 15) & (m.diploma == _HIGHER_DIPLOMA)


@member_feature("aged_15_plus_trader")
def _aged_15_trader(m: Any) -> Any:
    """The member is aged 15+ and works in trade."""
    return (m.age >= 15) & (m.occupation == _TRADER)


@member_feature("aged_19_29")
def _aged_19_29(m: Any) -> Any:
    """The member is aged 19 to 29."""
    return (m.age >= 19) & (m.age <= 29)


@member_feature("aged_30_59")
def _aged_30_59(m: Any) -> Any:
    """The member is aged 30 to 59."""
    return (m.age >= 30) & (m.age <= 59)


@member_feature("aged_60_plus")
def _aged_60_plus(m: Any) -> Any:
    """The member is aged 60 or over."""
    return m.age >= 60


# --- household composition --------------------------------------------------------------------


@derivation("household_size")
def _household_size(h: Any) -> Any:
    """Number of members, head included."""
    return h.size


@derivation("household_size_squared")
def _household_size_squared(h: Any) -> Any:
    """Number of members, squared."""
    return h.size * h.size


@derivation("single_person_or_couple_without_children")
def _single_or_couple(h: Any) -> Any:
    """1 if the head lives alone, or with the spouse only."""
    return (h.size == 1) | ((h.size == 2) & (h.n_spouse == 1))


@derivation("more_than_one_family_nucleus")
def _more_than_one_nucleus(h: Any) -> Any:
    """1 if any member is neither the head, the spouse nor a child of the head."""
    return h.n_outside_head_nucleus >= 1


@derivation("members_aged_19_29")
def _members_19_29(h: Any) -> Any:
    """Number of members aged 19 to 29, head included."""
    return h.n_aged_19_29


@derivation("members_aged_30_59")
def _members_30_59(h: Any) -> Any:
    """Number of members aged 30 to 59, head included."""
    return h.n_aged_30_59


@derivation("members_aged_60_plus")
def _members_60_plus(h: Any) -> Any:
    """Number of members aged 60 or over, head included."""
    return h.n_aged_60_plus


@derivation("children_6_14_in_private_school")
def _children_private(h: Any) -> Any:
    """Number of members aged 6 to 14 in a private school (any relationship)."""
    return h.n_aged_6_14_private_school


@derivation("children_6_14_in_public_school")
def _children_public(h: Any) -> Any:
    """Number of members aged 6 to 14 in a public school (any relationship)."""
    return h.n_aged_6_14_public_school


# --- shares (denominator: all members, as in the published transcription) ---------------------


@derivation("share_15plus_without_diploma")
def _share_without_diploma(h: Any) -> Any:
    """Members aged 15+ without a diploma, divided by the household size."""
    return h.n_aged_15_plus_without_diploma / h.size


@derivation("share_15plus_with_certificate_or_technical_diploma")
def _share_with_diploma(h: Any) -> Any:
    """Members aged 15+ holding any diploma, divided by the household size."""
    return h.n_aged_15_plus_with_diploma / h.size


@derivation("share_15plus_income_generating_activity")
def _share_working(h: Any) -> Any:
    """Members aged 15+ who work, divided by the household size."""
    return h.n_aged_15_plus_working / h.size


@derivation("share_15plus_operating_equipment")
def _share_machine_operators(h: Any) -> Any:
    """Members aged 15+ operating equipment or machines, divided by the household size."""
    return h.n_aged_15_plus_machine_operator / h.size


@derivation("share_senior_executives_or_managers")
def _share_senior(h: Any) -> Any:
    """Members who are senior executives or managers (any age), divided by the household size."""
    return h.n_senior_executive / h.size


@derivation("share_15plus_literate")
def _share_literate(h: Any) -> Any:
    """Members aged 15+ who can read and write, divided by the household size."""
    return h.n_aged_15_plus_literate / h.size


@derivation("share_15plus_higher_education_diploma")
def _share_higher_diploma(h: Any) -> Any:
    """Members aged 15+ with a higher-education diploma, divided by the household size."""
    return h.n_aged_15_plus_higher_diploma / h.size


@derivation("share_15plus_in_trade")
def _share_trade(h: Any) -> Any:
    """Members aged 15+ working in trade, divided by the household size."""
    return h.n_aged_15_plus_trader / h.size


# --- household head ---------------------------------------------------------------------------


@derivation("head_age")
def _head_age(h: Any) -> Any:
    """Age of the head in completed years at the reference date."""
    return h.head_age


@derivation("head_age_squared")
def _head_age_squared(h: Any) -> Any:
    """Age of the head, squared."""
    return h.head_age * h.head_age


@derivation("head_higher_education")
def _head_higher_education(h: Any) -> Any:
    """1 if the head's education level is higher education."""
    return h.head_education_level == _HIGHER_LEVEL


@derivation("head_basic_education")
def _head_basic_education(h: Any) -> Any:
    """1 if the head's level is basic (fundamental) education: primary or lower secondary."""
    return isin(h.head_education_level, _BASIC_LEVEL)


@derivation("head_senior_executive_or_manager")
def _head_senior(h: Any) -> Any:
    """1 if the head is a senior executive or holds a position of responsibility."""
    return h.head_occupation == _SENIOR


@derivation("head_middle_manager")
def _head_middle(h: Any) -> Any:
    """1 if the head is a middle-level executive."""
    return h.head_occupation == _MIDDLE


@derivation("head_employer")
def _head_employer(h: Any) -> Any:
    """1 if the head's status in employment is employer."""
    return h.head_employment_status == _EMPLOYER


@derivation("head_retired_or_annuitant")
def _head_retired(h: Any) -> Any:
    """1 if the head is retired or lives on an annuity or income."""
    return isin(h.head_activity, _RETIRED_OR_ANNUITANT)


@derivation("head_fixed_plant_or_machine_operator")
def _head_machine_operator(h: Any) -> Any:
    """1 if the head operates equipment or machines."""
    return h.head_occupation == _MACHINE_OPERATOR


@derivation("head_craftsman")
def _head_craftsman(h: Any) -> Any:
    """1 if the head is a craftsman."""
    return h.head_occupation == _CRAFTSMAN


@derivation("head_farm_operator")
def _head_farm_operator(h: Any) -> Any:
    """1 if the head is a farm operator."""
    return h.head_occupation == _FARM_OPERATOR


# --- dwelling ---------------------------------------------------------------------------------


@derivation("at_most_two_persons_per_room")
def _two_per_room(h: Any) -> Any:
    """1 if members / rooms <= 2 (real division; fewer than one room counts as one)."""
    return h.size / maximum(h.rooms, 1) <= 2


@derivation("at_most_three_persons_per_room")
def _three_per_room(h: Any) -> Any:
    """1 if members / rooms <= 3 (real division; nested with the two-persons item)."""
    return h.size / maximum(h.rooms, 1) <= 3


@derivation("dwelling_has_bathroom_or_shower")
def _bathroom(h: Any) -> Any:
    """1 if the dwelling has a bathroom or a shower."""
    return h.has_bathroom_or_shower


@derivation("individual_electricity_meter")
def _own_meter(h: Any) -> Any:
    """1 if the dwelling has its own electricity meter (not shared, not none)."""
    return h.electricity_meter == _OWN_METER


@derivation("dwelling_villa_apartment_traditional_or_stone_rural_house")
def _solid_dwelling(h: Any) -> Any:
    """1 for a villa, an apartment, a Moroccan (traditional) house or a stone rural house."""
    return isin(h.dwelling_type, _SOLID_DWELLING)


@derivation("has_garage")
def _garage(h: Any) -> Any:
    """1 if the household has a garage."""
    return h.has_garage


# --- assets, land, loans, cover ---------------------------------------------------------------


@derivation("has_computer")
def _computer(h: Any) -> Any:
    """1 if the household has one computer or more."""
    return h.computers >= 1


@derivation("has_satellite_dish")
def _dish(h: Any) -> Any:
    """1 if the household has a satellite dish."""
    return h.has_satellite_dish


@derivation("has_landline_phone")
def _landline(h: Any) -> Any:
    """1 if the household has a landline telephone."""
    return h.has_landline


@derivation("number_of_mobile_phones")
def _mobiles(h: Any) -> Any:
    """Number of mobile phones."""
    return h.mobile_phones


@derivation("number_of_cars")
def _cars(h: Any) -> Any:
    """Number of cars."""
    return h.cars


@derivation("owns_car")
def _owns_car(h: Any) -> Any:
    """1 if the household has one car or more."""
    return h.cars >= 1


@derivation("number_of_motorcycles")
def _motorcycles(h: Any) -> Any:
    """Number of motorcycles."""
    return h.motorcycles


@derivation("owns_motorcycle")
def _owns_motorcycle(h: Any) -> Any:
    """1 if the household has one motorcycle or more."""
    return h.motorcycles >= 1


@derivation("number_of_cows")
def _cows(h: Any) -> Any:
    """Number of cows (cattle)."""
    return h.cows


@derivation("has_secondary_residence")
def _secondary(h: Any) -> Any:
    """1 if the household has a secondary residence."""
    return h.has_secondary_residence


@derivation("has_professional_premises")
def _premises(h: Any) -> Any:
    """1 if the household has professional premises."""
    return h.has_professional_premises


@derivation("owns_non_agricultural_land")
def _non_agricultural_land(h: Any) -> Any:
    """1 if the household owns non-agricultural land."""
    return h.owns_non_agricultural_land


@derivation("owns_or_farms_irrigated_land")
def _irrigated_land(h: Any) -> Any:
    """1 if the household owns or farms irrigated land."""
    return h.owns_or_farms_irrigated_land


@derivation("has_loan")
def _loan(h: Any) -> Any:
    """1 if the household has a loan from a bank, a financial institution or an employer."""
    return h.has_loan


@derivation("health_coverage_other_than_ramed")
def _cover(h: Any) -> Any:
    """1 if at least one member has a health cover other than none and AMO Tadamon (ex-RAMED)."""
    return h.n_covered_other_than_ramed >= 1


# --- spending (declared monthly dirhams -> annual dirhams per member) --------------------------


@derivation("butane_spending_per_person_year")
def _butane(h: Any) -> Any:
    """Monthly butane spending x 12 / household size."""
    return h.monthly_butane_dh * 12 / h.size


@derivation("water_electricity_spending_per_person_year")
def _water_electricity(h: Any) -> Any:
    """(Monthly water + monthly electricity spending) x 12 / household size."""
    return (h.monthly_water_dh + h.monthly_electricity_dh) * 12 / h.size


@derivation("phone_internet_spending_per_person_year")
def _phone_internet(h: Any) -> Any:
    """Monthly telephone and internet spending x 12 / household size."""
    return h.monthly_phone_internet_dh * 12 / h.size
