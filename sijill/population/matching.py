"""Scoring of probable-duplicate candidates (pure Python, rapidfuzz for string similarity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rapidfuzz.distance import JaroWinkler

from sijill.population import normalize


@dataclass(frozen=True)
class Identity:
    first_name_ar: str
    family_name_ar: str
    first_name_latin: str
    family_name_latin: str
    sex: str
    birth_date: date
    birth_year_only: bool = False


def _name_similarity(ar_a: str, lat_a: str, ar_b: str, lat_b: str) -> float:
    """Best agreement of the two scripts (either may be missing or misspelt)."""
    scores = [0.0]
    if ar_a and ar_b:
        na, nb = normalize.arabic_key(ar_a), normalize.arabic_key(ar_b)
        scores.append(1.0 if na == nb else JaroWinkler.similarity(na, nb))
    if lat_a and lat_b:
        ka, kb = normalize.latin_key(lat_a), normalize.latin_key(lat_b)
        if ka and ka == kb:
            scores.append(0.97)  # same skeleton: a transliteration variant
        scores.append(JaroWinkler.similarity(normalize.latin(lat_a), normalize.latin(lat_b)))
    return max(scores)


def _date_similarity(a: date, a_year: bool, b: date, b_year: bool) -> float:
    if a_year or b_year:
        return 0.85 if a.year == b.year else (0.4 if abs(a.year - b.year) == 1 else 0.0)
    if a == b:
        return 1.0
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return 0.9  # day and month swapped
    same = (a.year == b.year) + (a.month == b.month) + (a.day == b.day)
    if same == 2:
        return 0.8  # one part mistyped
    if a.year == b.year:
        return 0.5
    return 0.3 if abs(a.year - b.year) == 1 and a.month == b.month and a.day == b.day else 0.0


def score(query: Identity, candidate: Identity) -> float:
    """A 0..1 likelihood that the two identities are the same person."""
    family = _name_similarity(query.family_name_ar, query.family_name_latin,
                              candidate.family_name_ar, candidate.family_name_latin)
    first = _name_similarity(query.first_name_ar, query.first_name_latin,
                             candidate.first_name_ar, candidate.first_name_latin)
    born = _date_similarity(query.birth_date, query.birth_year_only,
                            candidate.birth_date, candidate.birth_year_only)
    value = 0.38 * family + 0.32 * first + 0.30 * born
    if query.sex != candidate.sex:
        value *= 0.6
    return round(value, 4)
