"""Households after two IDCS were found to be one person (a duplicate merge in `sijill.dedup`).

The register retires one IDCS and points it to the survivor, and memberships move to the
survivor. The households' *declarations* must follow: a current declaration that still lists
the retired IDCS would be refused at the next update ("retired", "the declarant is not a
member") for fields nobody sent. A new version replaces the retired IDCS by the survivor; the
old versions stay as they were declared. The identity facts may differ (birth date, sex), so
the household is submitted again: verified and rescored.
"""

from __future__ import annotations

import dataclasses

from sijill.accounts.actors import Actor
from sijill.audit.services import audit_record
from sijill.declaration.model import Declaration
from sijill.declaration.vocab import Relationship
from sijill.households import services
from sijill.households.models import DeclarationVersion, Household, MemberDeclaration
from sijill.population.models import Person


def _merged(declaration: Declaration, retired: str, survivor: str) -> Declaration:
    """The declaration with `retired`'s record carrying `survivor`'s IDCS. Listed twice (one
    household, two records of one person): one record is kept, the head's if either is it."""
    records = {m.idcs: m for m in declaration.members}
    theirs, mine = records.get(retired), records.get(survivor)
    keep = theirs if mine is None or (theirs is not None
                                      and theirs.relationship == Relationship.HEAD) else mine
    members = []
    for m in declaration.members:
        if m.idcs in (retired, survivor):
            if m is keep:
                members.append(dataclasses.replace(m, idcs=survivor))
            continue
        members.append(m)
    return dataclasses.replace(declaration, members=tuple(members))


def households_identity_merged(*, actor: Actor, retired: Person, survivor: Person) -> list[str]:
    """Write the next declaration version of every household whose current declaration names
    `retired` (as a member or the declarant), with `survivor` in its place. Call inside the
    merge's transaction. Returns the references of the households changed."""
    ids = set(MemberDeclaration.objects.filter(person=retired)
              .values_list("declaration__household_id", flat=True))
    ids |= set(DeclarationVersion.objects.filter(declarant=retired)
               .values_list("household_id", flat=True))
    changed = []
    for household in (Household.objects.select_for_update(of=("self",))
                      .select_related("declarant", "head").filter(pk__in=ids).order_by("pk")):
        current = (DeclarationVersion.objects.select_related("declarant")
                   .filter(household=household, version=household.current_version).first())
        if current is None or not (current.declarant_id == retired.pk
                                   or current.members.filter(person=retired).exists()):
            continue  # only an older version names them: history stays as declared
        declaration = _merged(services.declaration_of(current), retired.idcs, survivor.idcs)
        persons = {p.idcs: p for p in Person.objects.filter(
            idcs__in=[m.idcs for m in declaration.members])}
        declarant = survivor if current.declarant_id == retired.pk else current.declarant
        services._write_version(household=household, declaration=declaration,
                                persons=persons, declarant=declarant, actor=actor,
                                reason="identity_merged")
        services._resubmit(household, actor=actor, note="duplicate identities merged")
        audit_record(actor=actor, action="update_declaration", entity="household",
                     entity_id=household.reference, subject=survivor.idcs,
                     detail={"version": household.current_version,
                             "merged": {"retired": retired.idcs, "survivor": survivor.idcs}})
        services._after_commit_changed(household, reason="update")
        changed.append(household.reference)
    return changed
