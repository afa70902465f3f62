"""Audited access to personal data: reads, searches and the identity verification service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _

from sijill.accounts.actors import Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import AuditItem, audit_record, audit_record_many
from sijill.core.errors import NotFound, PermissionDenied, ValidationFailed
from sijill.population import normalize
from sijill.population.matching import Identity
from sijill.population.models import Person, PersonVersion
from sijill.population.selectors import (
    Candidate,
    person_find_by_document,
    person_get,
    person_history,
    person_probable_duplicates,
)
from sijill.population.validation import Problems, check_idcs
from sijill.security.throttle import throttle_hit


def _checked_idcs(idcs: str, name: str = "idcs") -> None:
    problems = Problems()
    check_idcs(problems, name, idcs)
    if problems:
        raise ValidationFailed(fields=problems.errors)


def person_read(*, actor: Actor, idcs: str, purpose: str = "") -> Person:
    """A person's record for an authorised actor; the read is audited.

    A citizen may read only their own record; anyone else asking gets 404 (no existence leak).
    """
    actor.require(Perm.PERSON_READ)
    _checked_idcs(idcs)
    if actor.role == "citizen" and actor.idcs != idcs:
        raise NotFound(_("No person is enrolled with this IDCS."))
    person = person_get(idcs=idcs)
    if person is None:
        raise NotFound(_("No person is enrolled with this IDCS."))
    audit_record(actor=actor, action="read", entity="person", entity_id=idcs, subject=idcs,
                 purpose=purpose)
    return person


def person_read_history(*, actor: Actor, idcs: str, purpose: str = "") -> list[PersonVersion]:
    person = person_read(actor=actor, idcs=idcs, purpose=purpose)
    return person_history(person=person)


def person_search(*, actor: Actor, identity: Identity | None = None, cnie: str | None = None,
                  residence_card: str | None = None, purpose: str = "",
                  limit: int = 20) -> list[Candidate]:
    """Staff search: by document (exact), or by identity (scored probable matches)."""
    actor.require(Perm.PERSON_SEARCH)
    if cnie or residence_card:
        found = person_find_by_document(cnie=cnie, residence_card=residence_card)
        results = [Candidate(found, 1.0)] if found else []
    elif identity is not None:
        results = person_probable_duplicates(identity=identity, limit=limit)
    else:
        raise ValidationFailed.single("query", "empty_query",
                                      _("Search by CNIE, residence card, or names and birth date."))
    # One append for all hits (one lock, one INSERT), the same entries as one per hit.
    audit_record_many(actor=actor, items=[
        AuditItem(action="search_hit", entity="person", entity_id=c.person.idcs,
                  subject=c.person.idcs, purpose=purpose) for c in results])
    return results


@dataclass(frozen=True)
class IdentityAnswer:
    idcs: str
    enrolled: bool
    alive: bool | None
    matches: dict[str, bool]


def identity_verify(*, actor: Actor, idcs: str, claims: dict[str, str | date | None],
                    purpose: str = "") -> IdentityAnswer:
    """Match / no match per claimed attribute, and alive or not; nothing else is revealed."""
    actor.require(Perm.IDENTITY_VERIFY)
    _checked_idcs(idcs)
    # Answers are yes/no per attribute: unthrottled, a caller could guess a birth date one
    # day at a time. 20 per hour per caller and person is far above any honest use.
    throttle_hit(scope="identity.verify", key=f"{actor.label}:{idcs}", limit=20,
                 window=timedelta(hours=1))
    person = Person.objects.filter(idcs=idcs).select_related("merged_into").first()
    if person is not None and person.status == Person.Status.RETIRED and person.merged_into:
        person = person.merged_into
    matches: dict[str, bool] = {}
    for name, claimed in claims.items():
        if claimed is None:
            continue
        if person is None:
            matches[name] = False
        elif name in {"first_name_ar", "family_name_ar"}:
            matches[name] = normalize.arabic_key(str(claimed)) == normalize.arabic_key(
                getattr(person, name))
        elif name in {"first_name_latin", "family_name_latin"}:
            matches[name] = normalize.latin(str(claimed)) == normalize.latin(
                getattr(person, name))
        elif name == "birth_date":
            matches[name] = (claimed == person.birth_date if not person.birth_year_only
                             else isinstance(claimed, date) and claimed.year == person.birth_year)
        elif name == "sex":
            matches[name] = claimed == person.sex
        else:
            raise PermissionDenied()
    audit_record(actor=actor, action="verify_identity", entity="person", entity_id=idcs,
                 subject=idcs if person else "", purpose=purpose,
                 detail={"attributes": sorted(matches)})
    return IdentityAnswer(idcs=idcs, enrolled=person is not None,
                          alive=None if person is None else person.status == Person.Status.ACTIVE,
                          matches=matches)
