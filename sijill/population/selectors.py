"""Reads of the population register (no audit here: the services that expose data audit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Q

from sijill.population import normalize
from sijill.population.matching import Identity, score
from sijill.population.models import Person, PersonVersion

_BLOCK_LIMIT = 300


@dataclass(frozen=True)
class Candidate:
    person: Person
    score: float


def person_probable_duplicates(*, identity: Identity, limit: int = 10,
                               min_score: float | None = None) -> list[Candidate]:
    """Scored candidates for an identity, best first.

    Blocking uses indexed keys: the family name (either script) within a year of the birth
    date, or the first name with the exact, or day-month-swapped, birth date. The block is
    then scored with matching.score.
    """
    if min_score is None:
        min_score = settings.SIJILL["DUPLICATE_SHOW_SCORE"]
    year = identity.birth_date.year
    years = (year - 1, year + 1)
    fam_lat = normalize.latin_key(identity.family_name_latin)
    fam_ar = normalize.arabic_key(identity.family_name_ar)
    first_lat = normalize.latin_key(identity.first_name_latin)
    first_ar = normalize.arabic_key(identity.first_name_ar)
    dates = [identity.birth_date]
    b = identity.birth_date
    if b.day <= 12 and b.day != b.month:
        dates.append(date(b.year, b.day, b.month))
    block = Q()
    if fam_lat:
        block |= Q(family_key_latin=fam_lat, birth_year__range=years)
    if fam_ar:
        block |= Q(family_key_ar=fam_ar, birth_year__range=years)
    if first_lat:
        block |= Q(first_key_latin=first_lat, birth_date__in=dates)
    if first_ar:
        block |= Q(first_key_ar=first_ar, birth_date__in=dates)
    rows = (Person.objects.filter(block).exclude(status=Person.Status.RETIRED)
            .values_list("pk", "first_name_ar", "family_name_ar", "first_name_latin",
                         "family_name_latin", "sex", "birth_date", "birth_year_only")
            [:_BLOCK_LIMIT])
    scored = sorted(((score(identity, Identity(*row[1:])), row[0]) for row in rows),
                    reverse=True)
    best = [(value, pk) for value, pk in scored[:limit] if value >= min_score]
    people = Person.objects.in_bulk([pk for _, pk in best])
    return [Candidate(people[pk], value) for value, pk in best]


def person_get(*, idcs: str) -> Person | None:
    return (Person.objects.select_related("birth_place_commune", "mother", "father", "witness_1",
                                          "witness_2", "merged_into")
            .filter(idcs=idcs).first())


def person_history(*, person: Person) -> list[PersonVersion]:
    return list(PersonVersion.objects.filter(person=person).order_by("version"))


def person_find_by_document(*, cnie: str | None = None,
                            residence_card: str | None = None) -> Person | None:
    if cnie:
        return Person.objects.filter(cnie=cnie.strip().upper()).first()
    if residence_card:
        return Person.objects.filter(residence_card=residence_card.strip().upper()).first()
    return None
