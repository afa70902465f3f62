"""Writers of the population register: enrolment, held-enrolment decisions, deaths.

Every write bumps the person's version and stores a full snapshot (PersonVersion), and appends to
the audit trail, in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.dispatch import Signal
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.audit.services import audit_record
from sijill.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from sijill.geography.models import Commune
from sijill.population import idcs as idcs_mod
from sijill.population import normalize
from sijill.population.matching import Identity
from sijill.population.models import HeldEnrolment, Person, PersonVersion
from sijill.population.selectors import Candidate, person_probable_duplicates
from sijill.population.validation import (
    CNIE,
    COUNTRY,
    RESIDENCE_CARD,
    Problems,
    age_on,
    check_birth_date,
    check_idcs,
    check_names,
    clean_cnie,
    clean_phone,
)

#: Sent after commit when a person is recorded deceased: households end the membership.
person_died = Signal()


@dataclass
class EnrolmentInput:
    """What an enrolment states. Exactly one of birth_date / birth_year."""

    basis: str
    first_name_ar: str
    family_name_ar: str
    first_name_latin: str
    family_name_latin: str
    sex: str
    birth_date: date | None = None
    birth_year: int | None = None
    birth_place_commune: str | None = None
    birth_place_abroad: str = ""
    nationality: str = "MA"
    residence_status: str = Person.ResidenceStatus.CITIZEN
    cnie: str | None = None
    residence_card: str | None = None
    birth_certificate_ref: str = ""
    phone: str | None = None
    mother_idcs: str | None = None
    father_idcs: str | None = None
    witness_idcs: list[str] = field(default_factory=list)
    channel: str = Person.Channel.CENTRE

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnrolmentInput:
        values = dict(data)
        if values.get("birth_date"):
            values["birth_date"] = date.fromisoformat(values["birth_date"])
        return cls(**values)


@dataclass(frozen=True)
class EnrolmentOutcome:
    """Either a person was enrolled, or the enrolment is held with its candidates."""

    person: Person | None = None
    held: HeldEnrolment | None = None
    candidates: list[Candidate] = field(default_factory=list)


def _snapshot(person: Person) -> dict[str, Any]:
    data = model_to_dict(person, exclude=["id"])
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


def idcs_allocate_many(*, count: int) -> list[str]:
    """Allocate `count` IDCS not yet in the register (for bulk loads; the unique constraint
    still guards the insert)."""

    def taken(numbers: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(numbers), 5000):
            found.update(Person.objects.filter(idcs__in=numbers[i:i + 5000])
                         .values_list("idcs", flat=True))
        return found

    return idcs_mod.allocate_batch(count, taken)


def _new_version(*, person: Person, actor: Actor, reason: str) -> None:
    PersonVersion.objects.create(person=person, version=person.version, data=_snapshot(person),
                                 reason=reason, actor_label=actor.label)


def _resolve_person(problems: Problems, name: str, value: str | None) -> Person | None:
    if not value:
        return None
    before = len(problems.errors)
    check_idcs(problems, name, value)
    if len(problems.errors) > before:
        return None
    person = Person.objects.filter(idcs=value).first()
    if person is None:
        problems.add(name, "not_enrolled", _("No person is enrolled with this IDCS."))
    return person


def _validate(data: EnrolmentInput, *, today: date) -> tuple[dict[str, Any], Problems]:
    """Check everything, collect every problem, and return the cleaned model fields."""
    p = Problems()
    adult_age = settings.SIJILL["ADULT_AGE"]
    if data.basis not in Person.Basis.values:
        p.add("basis", "invalid_choice", _("Unknown enrolment basis."))
    if data.sex not in Person.Sex.values:
        p.add("sex", "invalid_choice", _("Sex must be M or F."))
    if data.channel not in Person.Channel.values:
        p.add("channel", "invalid_choice", _("Unknown enrolment channel."))
    check_names(p, data.__dict__)

    birth: date | None = data.birth_date
    if (data.birth_date is None) == (data.birth_year is None):
        p.add("birth_date", "birth_date_or_year",
              _("Give either the full birth date or, when only that is known, the birth year."))
    elif data.birth_year is not None:
        birth = date(data.birth_year, 1, 1) if 1 <= data.birth_year <= 9999 else None
        if birth is None or data.birth_year > today.year or data.birth_year < 1890:
            p.add("birth_year", "invalid_year", _("The birth year is not plausible."))
            birth = None
    if birth is not None and data.birth_date is not None:
        check_birth_date(p, birth, today=today)
        if p.errors and p.errors[-1].field == "birth_date":
            birth = None

    nationality = (data.nationality or "").upper()
    if not COUNTRY.match(nationality):
        p.add("nationality", "invalid_country", _("Use a two-letter ISO country code."))
    foreign = nationality != "MA"
    if foreign and data.residence_status == Person.ResidenceStatus.CITIZEN:
        p.add("residence_status", "required_for_foreigner",
              _("A foreign national needs a residence status."))
    if not foreign and data.residence_status != Person.ResidenceStatus.CITIZEN:
        p.add("residence_status", "citizen_only", _("A Moroccan national has no residence status."))

    cnie = clean_cnie(data.cnie)
    if cnie is not None and not CNIE.match(cnie):
        p.add("cnie", "invalid_cnie",
              _("A CNIE number is one or two letters followed by digits, e.g. AB123456."))
    card = clean_cnie(data.residence_card)
    if card is not None and not RESIDENCE_CARD.match(card):
        p.add("residence_card", "invalid_residence_card",
              _("A residence card number has 6 to 20 letters and digits."))
    if foreign and cnie:
        p.add("cnie", "cnie_for_nationals", _("Only Moroccan nationals hold a CNIE."))

    if data.basis == Person.Basis.DOCUMENT:
        if not foreign and not cnie:
            p.add("cnie", "required", _("Enrolment by document needs the CNIE number."))
        if foreign and not card:
            p.add("residence_card", "required",
                  _("A foreign resident is enrolled with a residence card."))
    if data.basis == Person.Basis.BIRTH_CERTIFICATE and not data.birth_certificate_ref.strip():
        p.add("birth_certificate_ref", "required", _("Give the birth certificate reference."))

    commune = None
    if data.birth_place_commune:
        commune = Commune.objects.filter(code=data.birth_place_commune).first()
        if commune is None:
            p.add("birth_place_commune", "unknown_commune", _("Unknown commune code."))
    elif not data.birth_place_abroad.strip():
        p.add("birth_place_commune", "required",
              _("Give the commune of birth, or the place abroad."))

    phone = clean_phone(p, data.phone)

    mother = _resolve_person(p, "mother_idcs", data.mother_idcs)
    father = _resolve_person(p, "father_idcs", data.father_idcs)
    for name, parent, sex in (("mother_idcs", mother, "F"), ("father_idcs", father, "M")):
        if parent is not None and parent.sex != sex:
            p.add(name, "parent_sex", _("This person cannot be the stated parent (sex)."))
        if parent is not None and birth is not None and parent.birth_date >= birth:
            p.add(name, "parent_younger", _("A parent must be born before the child."))
    is_minor = birth is not None and age_on(birth, today) < adult_age
    if data.basis == Person.Basis.BIRTH_CERTIFICATE and is_minor and not (mother or father):
        p.add("mother_idcs", "parent_required",
              _("A child enrolled by birth certificate is linked to an enrolled parent."))

    witnesses: list[Person] = []
    if data.basis == Person.Basis.WITNESSES:
        if len(data.witness_idcs) != 2 or len(set(data.witness_idcs)) != 2:
            p.add("witness_idcs", "two_witnesses", _("Name exactly two different witnesses."))
        else:
            for i, value in enumerate(data.witness_idcs):
                name = f"witness_idcs.{i}"
                witness = _resolve_person(p, name, value)
                if witness is None:
                    continue
                if witness.status != Person.Status.ACTIVE:
                    p.add(name, "witness_not_active", _("A witness must be alive and active."))
                elif age_on(witness.birth_date, today) < adult_age:
                    p.add(name, "witness_minor", _("A witness must be an adult (18 or over)."))
                elif not witness.cnie:
                    p.add(name, "witness_without_cnie", _("A witness must hold a CNIE."))
                else:
                    witnesses.append(witness)
    elif data.witness_idcs:
        p.add("witness_idcs", "not_expected", _("Witnesses are only named for that basis."))

    cleaned = {
        "first_name_ar": normalize.arabic_name(data.first_name_ar),
        "family_name_ar": normalize.arabic_name(data.family_name_ar),
        "first_name_latin": " ".join(data.first_name_latin.split()),
        "family_name_latin": " ".join(data.family_name_latin.split()),
        "sex": data.sex,
        "birth_date": birth,
        "birth_year_only": data.birth_year is not None,
        "birth_place_commune": commune,
        "birth_place_abroad": data.birth_place_abroad.strip(),
        "nationality": nationality,
        "residence_status": data.residence_status,
        "cnie": cnie,
        "residence_card": card,
        "birth_certificate_ref": data.birth_certificate_ref.strip(),
        "phone": phone,
        "mother": mother,
        "father": father,
        "witness_1": witnesses[0] if len(witnesses) == 2 else None,
        "witness_2": witnesses[1] if len(witnesses) == 2 else None,
        "enrolment_basis": data.basis,
        "enrolment_channel": data.channel,
    }
    return cleaned, p


#: The blocking keys stored with a person: key column -> (name column, key function), applied
#: to the cleaned names. Enrolment and the bulk loader (sijill.synthetic.load) both use this table.
PERSON_NAME_KEYS: dict[str, tuple[str, Callable[[str], str]]] = {
    "first_key_ar": ("first_name_ar", normalize.arabic_key),
    "family_key_ar": ("family_name_ar", normalize.arabic_key),
    "first_key_latin": ("first_name_latin", normalize.latin_key),
    "family_key_latin": ("family_name_latin", normalize.latin_key),
}


def person_with_keys(values: dict[str, Any]) -> dict[str, Any]:
    """Cleaned person fields plus the derived, non-editable ones (name keys, birth year)."""
    birth: date = values["birth_date"]
    keys = {key: fn(values[name]) for key, (name, fn) in PERSON_NAME_KEYS.items()}
    return {**values, **keys, "birth_year": birth.year}


def _duplicate_conflicts(values: dict[str, Any]) -> None:
    fields: list[FieldError] = []
    if values["cnie"] and Person.objects.filter(cnie=values["cnie"]).exists():
        fields.append(FieldError("cnie", "already_enrolled",
                                 _("A person is already enrolled with this CNIE.")))
    if values["residence_card"] and Person.objects.filter(
            residence_card=values["residence_card"]).exists():
        fields.append(FieldError("residence_card", "already_enrolled",
                                 _("A person is already enrolled with this residence card.")))
    if fields:
        raise Conflict(_("This person is already enrolled."), fields=fields)


def _lock_identity_block(values: dict[str, Any]) -> None:
    """Serialise enrolments of look-alike identities, so two at once cannot both pass."""
    if connection.vendor == "postgresql":
        key = f"{values['family_key_latin']}|{values['birth_year']}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _insert_person(*, values: dict[str, Any], actor: Actor) -> Person:
    """Insert with a fresh IDCS; a (vanishingly rare) IDCS collision just draws again."""
    for _attempt in range(8):
        try:
            with transaction.atomic():
                person = Person.objects.create(idcs=idcs_mod.generate(), centre_id=actor.centre_id,
                                               **values)
        except IntegrityError:
            _duplicate_conflicts(values)  # a CNIE enrolled concurrently: a clean conflict
            continue
        return person
    raise RuntimeError("could not allocate an IDCS after 8 draws")


def person_enrol(*, actor: Actor, data: EnrolmentInput, today: date | None = None,
                 hold_on_duplicates: bool = True) -> EnrolmentOutcome:
    """Enrol a person, or hold the enrolment when it resembles someone already enrolled."""
    today = today or timezone.localdate()
    cleaned, problems = _validate(data, today=today)
    if problems:
        raise ValidationFailed(fields=problems.errors)
    values = person_with_keys(cleaned)
    with transaction.atomic():
        _duplicate_conflicts(values)
        _lock_identity_block(values)
        if hold_on_duplicates:
            candidates = person_probable_duplicates(identity=_identity(values))
            strong = [c for c in candidates
                      if c.score >= settings.SIJILL["DUPLICATE_HOLD_SCORE"]]
            if strong:
                held = HeldEnrolment.objects.create(
                    reference=_reference(), payload=data.as_json(),
                    candidates=[{"idcs": c.person.idcs, "score": c.score} for c in strong],
                    centre_id=actor.centre_id, created_by=actor.label)
                audit_record(actor=actor, action="hold", entity="held_enrolment",
                             entity_id=held.reference,
                             detail={"candidates": [c.person.idcs for c in strong]})
                return EnrolmentOutcome(held=held, candidates=strong)
        person = _insert_person(values=values, actor=actor)
        _new_version(person=person, actor=actor, reason="enrolment")
        audit_record(actor=actor, action="create", entity="person", entity_id=person.idcs,
                     subject=person.idcs, detail={"basis": person.enrolment_basis})
    return EnrolmentOutcome(person=person)


def _identity(values: dict[str, Any]) -> Identity:
    return Identity(values["first_name_ar"], values["family_name_ar"], values["first_name_latin"],
                    values["family_name_latin"], values["sex"], values["birth_date"],
                    values["birth_year_only"])


def _reference() -> str:
    return "HE-" + secrets.token_hex(5).upper()


def held_enrolment_decide(*, actor: Actor, reference: str, decision: str, reason: str = "",
                          same_as_idcs: str | None = None) -> HeldEnrolment:
    """Decide a held enrolment: a new person (IDCS issued), the same person, or reject."""
    with transaction.atomic():
        held = HeldEnrolment.objects.select_for_update().filter(reference=reference).first()
        if held is not None and actor.role != "admin" and held.centre_id != actor.centre_id:
            held = None  # another centre's enrolment: as if it did not exist
        if held is None:
            raise NotFound(_("No held enrolment has this reference."))
        if held.status != HeldEnrolment.Status.HELD:
            raise Conflict(_("This enrolment has already been decided."))
        if decision == "new_person":
            outcome = person_enrol(actor=actor, data=EnrolmentInput.from_json(held.payload),
                                   hold_on_duplicates=False)
            held.person = outcome.person
            held.status = HeldEnrolment.Status.ENROLLED
        elif decision == "same_person":
            if same_as_idcs not in {c["idcs"] for c in held.candidates}:
                raise ValidationFailed.single("same_as_idcs", "not_a_candidate",
                                              _("Name one of the proposed candidates."))
            held.person = Person.objects.get(idcs=same_as_idcs)
            held.status = HeldEnrolment.Status.SAME_PERSON
        elif decision == "reject":
            held.status = HeldEnrolment.Status.REJECTED
        else:
            raise ValidationFailed.single("decision", "invalid_choice",
                                          _("Decide new_person, same_person or reject."))
        held.decided_by = actor.label
        held.decided_at = timezone.now()
        held.decision_reason = reason
        held.save()
        audit_record(actor=actor, action="decide", entity="held_enrolment",
                     entity_id=held.reference, subject=held.person.idcs if held.person else "",
                     detail={"decision": decision})
    return held


def person_record_death(*, actor: Actor, idcs: str, death_date: date,
                        source: str = "civil_status") -> Person:
    """Record a death. Idempotent: the same death twice changes nothing the second time."""
    problems = Problems()
    check_idcs(problems, "idcs", idcs)
    if problems:
        raise ValidationFailed(fields=problems.errors)
    if death_date > timezone.localdate():
        raise ValidationFailed.single("death_date", "in_future",
                                      _("The date of death cannot be in the future."))
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(idcs=idcs).first()
        if person is None:
            raise NotFound(_("No person is enrolled with this IDCS."))
        if death_date < person.birth_date:
            raise ValidationFailed.single("death_date", "before_birth",
                                          _("The date of death is before the birth date."))
        if person.status == Person.Status.DECEASED:
            if person.death_date == death_date:
                return person
            raise Conflict(_("This person is already recorded deceased on another date."))
        if person.status == Person.Status.RETIRED:
            raise Conflict(_("This IDCS was retired; record the death on the surviving IDCS."))
        person.status = Person.Status.DECEASED
        person.death_date = death_date
        person.version += 1
        person.save()
        _new_version(person=person, actor=actor, reason=f"death:{source}")
        audit_record(actor=actor, action="record_death", entity="person", entity_id=person.idcs,
                     subject=person.idcs, detail={"source": source})
        transaction.on_commit(lambda: person_died.send(sender=Person, person=person,
                                                       actor=actor))
    return person
