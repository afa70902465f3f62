"""Social registry API (/api/v1/households): registration, members, declarations, history.

Submissions honour the Idempotency-Key header: a retried request creates nothing new and
returns the first answer.

No `from __future__ import annotations` here: ninja resolves the annotations of a view wrapped
by @idempotent in the decorator's module, where the schema names are unknown.
"""

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema, Status

from sijill.accounts.auth import AUTH
from sijill.core.api import ErrorOut
from sijill.core.errors import ValidationFailed
from sijill.core.idempotency import idempotent
from sijill.declaration import vocab
from sijill.declaration.model import MEMBER_FIELDS, Declaration
from sijill.declaration.model import MemberData as MemberRecord
from sijill.households import selectors, services
from sijill.households.models import RANGES, DeclarationVersion, Household, Membership

router = Router(tags=["households"], auth=AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}


def _count(name: str) -> int:
    low, high = RANGES[name]
    return Field(..., ge=low, le=high)  # type: ignore[no-any-return]


class MemberDataIn(Schema):
    """What is declared about one member (sijill.declaration.model.MemberData)."""

    idcs: str = Field(..., max_length=20)
    relationship: vocab.Relationship
    marital_status: vocab.MaritalStatus
    education_level: vocab.EducationLevel
    diploma: vocab.Diploma
    literate: bool
    activity: vocab.Activity
    employment_status: vocab.EmploymentStatus
    occupation: vocab.Occupation
    schooling: vocab.Schooling
    disability: vocab.Disability
    health_coverage: vocab.HealthCoverage


class HouseholdDataIn(Schema):
    """What is declared about the dwelling, assets and spending (HouseholdData)."""

    dwelling_type: vocab.DwellingType
    rooms: int = _count("rooms")
    has_bathroom_or_shower: bool
    has_kitchen: bool
    has_toilet: bool
    has_running_water: bool
    electricity_meter: vocab.ElectricityMeter
    cooking_fuel: vocab.CookingFuel
    has_garage: bool
    has_secondary_residence: bool
    has_professional_premises: bool
    owns_non_agricultural_land: bool
    owns_or_farms_irrigated_land: bool
    cows: int = _count("cows")
    mobile_phones: int = _count("mobile_phones")
    computers: int = _count("computers")
    has_satellite_dish: bool
    has_landline: bool
    cars: int = _count("cars")
    motorcycles: int = _count("motorcycles")
    has_loan: bool
    monthly_water_dh: int = _count("monthly_water_dh")
    monthly_electricity_dh: int = _count("monthly_electricity_dh")
    monthly_butane_dh: int = _count("monthly_butane_dh")
    monthly_phone_internet_dh: int = _count("monthly_phone_internet_dh")


class DeclarationIn(Schema):
    household: HouseholdDataIn
    members: list[MemberDataIn] = Field(..., min_length=1, max_length=40)
    declarant_idcs: str | None = Field(None, max_length=20,
                                       description="Change of declarant (an adult member).")
    moving: list[str] = Field(default_factory=list, max_length=40,
                              description="IDCS of members who leave their current household.")
    commune: str | None = Field(None, max_length=12,
                                description="The household moved: its new commune (HCP code).")
    milieu: vocab.Milieu | None = Field(None, description="With commune: the new milieu.")
    address: str | None = Field(None, min_length=1, max_length=300,
                                description="With commune: the new address.")

    def to_declaration(self) -> Declaration:
        return Declaration.from_dict({"household": self.household.model_dump(),
                                      "members": [m.model_dump() for m in self.members]})


class RegistrationIn(DeclarationIn):
    commune: str = Field(..., max_length=12, description="HCP code of the commune.")
    milieu: vocab.Milieu
    address: str = Field(..., min_length=1, max_length=300)
    declarant_idcs: str = Field(..., max_length=20)  # type: ignore[assignment]
    notice_language: Literal["ar", "fr", "en"] = "ar"
    submit: bool = Field(True, description="False keeps the registration as a draft.")


class MemberAddIn(Schema):
    member: MemberDataIn
    moving: bool = Field(False, description="The person leaves their current household.")


class DeclarationOut(Schema):
    version: int
    reason: str
    created_at: datetime
    created_by: str
    declarant_idcs: str
    household: HouseholdDataIn
    members: list[MemberDataIn]


class MemberOut(Schema):
    idcs: str
    first_name_ar: str
    family_name_ar: str
    first_name_latin: str
    family_name_latin: str
    sex: str
    birth_date: date
    relationship: str
    start_date: date
    end_date: date | None = None
    end_reason: str = ""


class HouseholdOut(Schema):
    reference: str
    status: str
    commune: str
    commune_name: str
    province: str
    region: str
    milieu: str
    address: str
    declarant_idcs: str
    head_idcs: str | None
    notice_language: str
    created_at: datetime
    members: list[MemberOut]
    declaration: DeclarationOut | None


class RegistrationEventOut(Schema):
    from_status: str
    to_status: str
    at: datetime
    actor: str
    note: str


# The answers are built with `model_construct` from values that are already typed (rows just
# written or read, records whose enumerations are the schemas' own): ninja's per-field
# validation of each nested schema cost more than the rest of building the answer, and
# `test_query_budget` checks that validating the answer changes nothing.


def _member_out(m: Membership) -> MemberOut:
    p = m.person
    return MemberOut.model_construct(
        idcs=p.idcs, first_name_ar=p.first_name_ar, family_name_ar=p.family_name_ar,
        first_name_latin=p.first_name_latin, family_name_latin=p.family_name_latin, sex=p.sex,
        birth_date=p.birth_date, relationship=m.relationship, start_date=m.start_date,
        end_date=m.end_date, end_reason=m.end_reason)


_HOUSEHOLD_OUT = tuple(HouseholdDataIn.model_fields)
_MEMBER_OUT = tuple(MemberDataIn.model_fields)


def _declaration_out(v: DeclarationVersion, d: Declaration | None = None) -> DeclarationOut:
    d = d or services.declaration_of(v)
    return DeclarationOut.model_construct(
        version=v.version, reason=v.reason, created_at=v.created_at, created_by=v.created_by,
        declarant_idcs=v.declarant.idcs,
        household=HouseholdDataIn.model_construct(
            **{name: getattr(d.household, name) for name in _HOUSEHOLD_OUT}),
        members=[MemberDataIn.model_construct(**{name: getattr(m, name) for name in _MEMBER_OUT})
                 for m in d.members])


def _out(view: services.HouseholdView) -> HouseholdOut:
    h: Household = view.household
    return HouseholdOut.model_construct(
        reference=h.reference, status=h.status, commune=h.commune_id,
        commune_name=h.commune.name, province=h.commune.province_id,
        region=h.commune.province.region_id, milieu=h.milieu, address=h.address,
        declarant_idcs=h.declarant.idcs, head_idcs=h.head.idcs if h.head else None,
        notice_language=h.notice_language, created_at=h.created_at,
        members=[_member_out(m) for m in view.members],
        declaration=(_declaration_out(view.declaration, view.current) if view.declaration
                     else None))


def _read(request: HttpRequest, reference: str) -> HouseholdOut:
    return _out(services.household_read(actor=request.auth, reference=reference))  # type: ignore[attr-defined]


def _written(reference: str) -> HouseholdOut:
    """The answer to a write: the household as the (checked, audited) write left it."""
    view = services.household_view(reference=reference)
    assert view is not None
    return _out(view)


@router.post("/households", response={201: HouseholdOut, **ERRORS},
             summary="Register a household with its full declaration (submitted, or a draft)")
@idempotent
def register(request: HttpRequest, payload: RegistrationIn):  # type: ignore[no-untyped-def]
    data = services.RegistrationInput(
        commune=payload.commune, milieu=payload.milieu.value, address=payload.address,
        declarant_idcs=payload.declarant_idcs, declaration=payload.to_declaration(),
        notice_language=payload.notice_language, moving=frozenset(payload.moving))
    view = services.household_registration(actor=request.auth, data=data,  # type: ignore[attr-defined]
                                           submit=payload.submit)
    return Status(201, _out(view))


@router.get("/households/{reference}", response={200: HouseholdOut, **ERRORS},
            summary="A household: current members and current declaration")
def read(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    return _read(request, reference)


@router.post("/households/{reference}/submit", response={200: HouseholdOut, **ERRORS},
             summary="Submit a draft registration")
@idempotent
def submit(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    services.household_submit(actor=request.auth, reference=reference)  # type: ignore[attr-defined]
    return _written(reference)


@router.post("/households/{reference}/declarations", response={200: HouseholdOut, **ERRORS},
             summary="Submit an updated declaration (a new version; members follow it)")
@idempotent
def update_declaration(request: HttpRequest, reference: str, payload: DeclarationIn):  # type: ignore[no-untyped-def]
    place = None
    if payload.commune or payload.milieu or payload.address:
        if not (payload.commune and payload.milieu and payload.address):
            raise ValidationFailed.single(
                "commune", "incomplete_place",
                gettext_lazy("A move gives the commune, the milieu and the address together."))
        place = services.Place(commune=payload.commune, milieu=payload.milieu.value,
                               address=payload.address)
    services.household_declaration_update(
        actor=request.auth, reference=reference, declaration=payload.to_declaration(),  # type: ignore[attr-defined]
        declarant_idcs=payload.declarant_idcs, moving=frozenset(payload.moving), place=place)
    return _written(reference)


@router.post("/households/{reference}/members", response={200: HouseholdOut, **ERRORS},
             summary="Add a member (with what is declared about them)")
@idempotent
def add_member(request: HttpRequest, reference: str, payload: MemberAddIn):  # type: ignore[no-untyped-def]
    member = MemberRecord(**{name: getattr(payload.member, name) for name in MEMBER_FIELDS})
    services.household_member_add(actor=request.auth, reference=reference, member=member,  # type: ignore[attr-defined]
                                  moving=payload.moving)
    return _written(reference)


@router.delete("/households/{reference}/members/{idcs}", response={200: HouseholdOut, **ERRORS},
               summary="A member leaves the household (membership ended, history kept)")
@idempotent
def remove_member(request: HttpRequest, reference: str, idcs: str):  # type: ignore[no-untyped-def]
    services.household_member_remove(actor=request.auth, reference=reference, idcs=idcs)  # type: ignore[attr-defined]
    return _written(reference)


class DeclarationVersionOut(Schema):
    version: int
    reason: str
    created_at: datetime
    created_by: str
    declarant_idcs: str


@router.get("/households/{reference}/declarations",
            response={200: list[DeclarationVersionOut], **ERRORS},
            summary="Every declaration version of the household, newest first")
def declarations(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    rows = selectors.household_declarations(actor=request.auth, reference=reference)  # type: ignore[attr-defined]
    return [DeclarationVersionOut(version=v.version, reason=v.reason, created_at=v.created_at,
                                  created_by=v.created_by, declarant_idcs=v.declarant.idcs)
            for v in rows]


@router.get("/households/{reference}/declarations/{version}",
            response={200: DeclarationOut, **ERRORS},
            summary="One declaration version as it was submitted (older ones included)")
def declaration(request: HttpRequest, reference: str, version: int):  # type: ignore[no-untyped-def]
    found = selectors.household_declaration(actor=request.auth, reference=reference,  # type: ignore[attr-defined]
                                            version=version)
    return _declaration_out(found)


@router.get("/households/{reference}/memberships", response={200: list[MemberOut], **ERRORS},
            summary="Every membership, ended ones included")
def member_history(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    rows = services.household_membership_history(actor=request.auth, reference=reference)  # type: ignore[attr-defined]
    return [_member_out(m) for m in rows]


@router.get("/households/{reference}/history", response={200: list[RegistrationEventOut], **ERRORS},
            summary="Status history of the registration")
def history(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    events = services.household_events(actor=request.auth, reference=reference)  # type: ignore[attr-defined]
    return [RegistrationEventOut(from_status=e.from_status, to_status=e.to_status, at=e.at,
                     actor=e.actor_label, note=e.note) for e in events]


class TransitionIn(Schema):
    to: Literal["submitted", "verifying", "scored", "notified", "rejected", "cancelled"]
    note: str = Field("", max_length=300)


@router.post("/households/{reference}/transitions", response={200: HouseholdOut, **ERRORS},
             summary="Move the registration along its lifecycle (staff), or cancel it")
@idempotent
def transition(request: HttpRequest, reference: str, payload: TransitionIn):  # type: ignore[no-untyped-def]
    services.household_transition(actor=request.auth, reference=reference, to=payload.to,  # type: ignore[attr-defined]
                                  note=payload.note)
    return _written(reference)
