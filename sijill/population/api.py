"""Population register API (/api/v1/persons, /api/v1/enrolments, /api/v1/identity)."""

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from sijill.accounts.auth import AUTH
from sijill.accounts.roles import Perm
from sijill.core.api import ErrorOut
from sijill.core.idempotency import idempotent
from sijill.population import access, services
from sijill.population.matching import Identity
from sijill.population.models import HeldEnrolment, Person

router = Router(tags=["population"], auth=AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}



class EnrolmentIn(Schema):
    basis: Literal["document", "witnesses", "birth_certificate"]
    first_name_ar: str = Field(min_length=1, max_length=80)
    family_name_ar: str = Field(min_length=1, max_length=80)
    first_name_latin: str = Field(min_length=1, max_length=80)
    family_name_latin: str = Field(min_length=1, max_length=80)
    sex: Literal["M", "F"]
    birth_date: date | None = None
    birth_year: int | None = None
    birth_place_commune: str | None = Field(None, max_length=12)
    birth_place_abroad: str = Field("", max_length=120)
    nationality: str = Field("MA", min_length=2, max_length=2)
    residence_status: Literal["citizen", "resident", "refugee", "asylum_seeker"] = "citizen"
    cnie: str | None = Field(None, max_length=12)
    residence_card: str | None = Field(None, max_length=24)
    birth_certificate_ref: str = Field("", max_length=40)
    phone: str | None = Field(None, max_length=20)
    mother_idcs: str | None = Field(None, max_length=10)
    father_idcs: str | None = Field(None, max_length=10)
    witness_idcs: list[str] = Field(default_factory=list, max_length=2)
    channel: Literal["centre", "portal", "bulk", "civil_status"] = "centre"


class PersonRef(Schema):
    idcs: str


class PersonOut(Schema):
    idcs: str
    first_name_ar: str
    family_name_ar: str
    first_name_latin: str
    family_name_latin: str
    sex: str
    birth_date: date
    birth_year_only: bool
    birth_place_commune: str | None
    birth_place_abroad: str
    nationality: str
    residence_status: str
    cnie: str | None
    residence_card: str | None
    birth_certificate_ref: str
    phone: str
    mother_idcs: str | None
    father_idcs: str | None
    witness_idcs: list[str]
    status: str
    death_date: date | None
    merged_into_idcs: str | None
    enrolment_basis: str
    enrolment_channel: str
    version: int

    @staticmethod
    def of(p: Person) -> "PersonOut":
        return PersonOut(
            idcs=p.idcs, first_name_ar=p.first_name_ar, family_name_ar=p.family_name_ar,
            first_name_latin=p.first_name_latin, family_name_latin=p.family_name_latin,
            sex=p.sex, birth_date=p.birth_date, birth_year_only=p.birth_year_only,
            birth_place_commune=p.birth_place_commune_id, birth_place_abroad=p.birth_place_abroad,
            nationality=p.nationality, residence_status=p.residence_status, cnie=p.cnie,
            residence_card=p.residence_card, birth_certificate_ref=p.birth_certificate_ref,
            phone=p.phone, mother_idcs=p.mother.idcs if p.mother_id else None,  # type: ignore[union-attr]
            father_idcs=p.father.idcs if p.father_id else None,  # type: ignore[union-attr]
            witness_idcs=[w.idcs for w in (p.witness_1, p.witness_2) if w is not None],
            status=p.status, death_date=p.death_date,
            merged_into_idcs=p.merged_into.idcs if p.merged_into_id else None,  # type: ignore[union-attr]
            enrolment_basis=p.enrolment_basis, enrolment_channel=p.enrolment_channel,
            version=p.version,
        )


class CandidateOut(Schema):
    idcs: str
    score: float
    first_name_ar: str
    family_name_ar: str
    first_name_latin: str
    family_name_latin: str
    sex: str
    birth_date: date
    status: str


def _candidate(c: access.Candidate) -> CandidateOut:
    p = c.person
    return CandidateOut(idcs=p.idcs, score=c.score, first_name_ar=p.first_name_ar,
                        family_name_ar=p.family_name_ar, first_name_latin=p.first_name_latin,
                        family_name_latin=p.family_name_latin, sex=p.sex,
                        birth_date=p.birth_date, status=p.status)


class HeldOut(Schema):
    reference: str
    status: str
    created_at: datetime
    candidates: list[CandidateOut]


class EnrolmentOut(Schema):
    outcome: Literal["enrolled", "held"]
    person: PersonOut | None = None
    held: HeldOut | None = None


def _held_out(held: HeldEnrolment) -> HeldOut:
    people = {p.idcs: p for p in Person.objects.filter(
        idcs__in=[c["idcs"] for c in held.candidates])}
    return HeldOut(reference=held.reference, status=held.status, created_at=held.created_at,
                   candidates=[_candidate(access.Candidate(people[c["idcs"]], c["score"]))
                               for c in held.candidates if c["idcs"] in people])


@router.post("/persons", response={201: EnrolmentOut, 202: EnrolmentOut, **ERRORS},
             summary="Enrol a person (held for a decision when a probable duplicate exists)")
@idempotent
def enrol(request: HttpRequest, payload: EnrolmentIn):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    actor.require(Perm.PERSON_ENROL)
    outcome = services.person_enrol(actor=actor,
                                    data=services.EnrolmentInput(**payload.model_dump()))
    if outcome.person is not None:  # answered from what was written, not read back
        return Status(201, EnrolmentOut(outcome="enrolled", person=PersonOut.of(outcome.person)))
    assert outcome.held is not None
    return Status(202, EnrolmentOut(outcome="held", held=_held_out(outcome.held)))


class SearchQuery(Schema):
    cnie: str | None = None
    residence_card: str | None = None
    first_name_ar: str = ""
    family_name_ar: str = ""
    first_name_latin: str = ""
    family_name_latin: str = ""
    sex: Literal["M", "F"] | None = None
    birth_date: date | None = None
    purpose: str = Field("", max_length=200)


@router.get("/persons", response={200: list[CandidateOut], **ERRORS},
            summary="Search persons (staff): by document, or names + birth date")
def search(request: HttpRequest, q: Query[SearchQuery]):  # type: ignore[no-untyped-def]
    identity = None
    if q.birth_date and q.sex and (q.family_name_ar or q.family_name_latin):
        identity = Identity(q.first_name_ar, q.family_name_ar, q.first_name_latin,
                            q.family_name_latin, q.sex, q.birth_date)
    results = access.person_search(actor=request.auth, identity=identity,  # type: ignore[attr-defined]
                                   cnie=q.cnie, residence_card=q.residence_card,
                                   purpose=q.purpose)
    return [_candidate(c) for c in results]


@router.get("/persons/{idcs}", response={200: PersonOut, **ERRORS},
            summary="Read a person by IDCS")
def read(request: HttpRequest, idcs: str, purpose: str = ""):  # type: ignore[no-untyped-def]
    person = access.person_read(actor=request.auth, idcs=idcs, purpose=purpose)  # type: ignore[attr-defined]
    return PersonOut.of(person)


class PersonVersionOut(Schema):
    version: int
    reason: str
    actor: str
    changed_at: datetime
    data: dict


@router.get("/persons/{idcs}/history", response={200: list[PersonVersionOut], **ERRORS},
            summary="Every version of a person's record")
def history(request: HttpRequest, idcs: str, purpose: str = ""):  # type: ignore[no-untyped-def]
    versions = access.person_read_history(actor=request.auth, idcs=idcs, purpose=purpose)  # type: ignore[attr-defined]
    return [PersonVersionOut(version=v.version, reason=v.reason, actor=v.actor_label,
                       changed_at=v.changed_at, data=v.data) for v in versions]


class DeathIn(Schema):
    death_date: date
    source: Literal["civil_status", "agent"] = "civil_status"


@router.post("/persons/{idcs}/death", response={200: PersonOut, **ERRORS},
             summary="Record a death (civil status)")
@idempotent
def record_death(request: HttpRequest, idcs: str, payload: DeathIn):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    actor.require(Perm.PERSON_RECORD_DEATH)
    services.person_record_death(actor=actor, idcs=idcs, death_date=payload.death_date,
                                 source=payload.source)
    return PersonOut.of(access.person_get(idcs=idcs))  # type: ignore[arg-type]


@router.get("/enrolments/held", response={200: list[HeldOut], **ERRORS},
            summary="Enrolments held for a decision")
def held_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    actor.require(Perm.ENROLMENT_DECIDE)
    rows = HeldEnrolment.objects.filter(status=HeldEnrolment.Status.HELD)
    if actor.role != "admin":
        rows = rows.filter(centre_id=actor.centre_id)
    return [_held_out(h) for h in rows[:200]]


class EnrolmentDecisionIn(Schema):
    decision: Literal["new_person", "same_person", "reject"]
    reason: str = Field("", max_length=300)
    same_as_idcs: str | None = None


class EnrolmentDecisionOut(Schema):
    reference: str
    status: str
    person_idcs: str | None


@router.post("/enrolments/{reference}/decision", response={200: EnrolmentDecisionOut, **ERRORS},
             summary="Decide a held enrolment")
@idempotent
def decide(request: HttpRequest, reference: str, payload: EnrolmentDecisionIn):  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    actor.require(Perm.ENROLMENT_DECIDE)
    held = services.held_enrolment_decide(actor=actor, reference=reference,
                                          decision=payload.decision, reason=payload.reason,
                                          same_as_idcs=payload.same_as_idcs)
    return EnrolmentDecisionOut(reference=held.reference, status=held.status,
                       person_idcs=held.person.idcs if held.person else None)


class IdentityClaimIn(Schema):
    idcs: str
    first_name_ar: str | None = None
    family_name_ar: str | None = None
    first_name_latin: str | None = None
    family_name_latin: str | None = None
    birth_date: date | None = None
    sex: Literal["M", "F"] | None = None
    purpose: str = Field("", max_length=200)


class IdentityAnswerOut(Schema):
    idcs: str
    enrolled: bool
    alive: bool | None
    matches: dict[str, bool]


@router.post("/identity/verify", response={200: IdentityAnswerOut, 429: ErrorOut, **ERRORS},
             summary="Verify claimed identity attributes against the register")
def verify_identity(request: HttpRequest, payload: IdentityClaimIn):  # type: ignore[no-untyped-def]
    claims = payload.model_dump(exclude={"idcs", "purpose"})
    answer = access.identity_verify(actor=request.auth, idcs=payload.idcs, claims=claims,  # type: ignore[attr-defined]
                                    purpose=payload.purpose)
    return IdentityAnswerOut(idcs=answer.idcs, enrolled=answer.enrolled, alive=answer.alive,
                             matches=answer.matches)
