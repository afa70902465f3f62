"""Writers of the social registry: registration, declarations, members, lifecycle, deaths.

Every function here is the only way its rows change. Each change of members or declared data
writes a new immutable DeclarationVersion (nothing is overwritten), appends to the audit trail,
and sends its signals after commit.

Rules (each raises a field-level error in the caller's language):
- every member is enrolled in the RNP (IDCS well-formed, known) and alive;
- the declarant is an adult member; exactly one member is the head;
- a person belongs to at most one active household: checked here, and enforced by the partial
  unique index on Membership (a concurrent registration naming the same person loses with a 409
  Conflict that names the person);
- a member of another household joins only when the move is declared (`moving`): the old
  membership ends and a new one starts, history kept;
- registration is refused where the roll-out has not opened, saying when it opens;
- an agent works only in their centre's provinces, a citizen only on their own household
  (404 otherwise: existence is not revealed); on the citizen side only the declarant changes a
  household (403 for its other members, who read it), and a citizen moves a member of another
  household out of it only when they declare that household (or move themselves).

Drafts already hold their members: a person named in a draft cannot be registered elsewhere
until the draft is cancelled or they are moved.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from sijill.accounts.actors import SYSTEM, Actor
from sijill.accounts.roles import Perm
from sijill.audit.services import audit_record
from sijill.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from sijill.core.inserts import insert_rows
from sijill.core.precompiled import precompiled
from sijill.declaration.model import HOUSEHOLD_FIELDS, MEMBER_FIELDS, Declaration, HouseholdData
from sijill.declaration.model import MemberData as MemberRecord
from sijill.declaration.vocab import Relationship
from sijill.geography.models import Commune
from sijill.geography.selectors import commune_milieux
from sijill.households.models import (
    RANGES,
    DeclarationVersion,
    Household,
    MemberDeclaration,
    Membership,
    RegistrationEvent,
    RolloutWindow,
)
from sijill.households.selectors import commune_get, household_readable
from sijill.households.signals import household_changed, household_submitted
from sijill.population.models import Person
from sijill.population.validation import Problems, age_on, check_idcs

S = Household.Status

#: Allowed lifecycle steps. An update of the declaration sends a household back to "submitted"
#: (reverified and rescored) from any state but draft and cancelled.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.VERIFYING, S.REJECTED, S.CANCELLED}),
    S.VERIFYING: frozenset({S.SCORED, S.REJECTED, S.CANCELLED}),
    S.SCORED: frozenset({S.NOTIFIED, S.CANCELLED}),
    S.NOTIFIED: frozenset({S.CANCELLED}),
    S.REJECTED: frozenset({S.CANCELLED}),
    S.CANCELLED: frozenset(),
}
PROCESSING_STEPS = frozenset({S.VERIFYING, S.SCORED, S.NOTIFIED, S.REJECTED})


@dataclass(frozen=True)
class RegistrationInput:
    """What a registration states: where the household lives, who declares, what it declares."""

    commune: str
    milieu: str
    address: str
    declarant_idcs: str
    declaration: Declaration
    notice_language: str = "ar"
    #: IDCS of members who leave their current household to join this one.
    moving: frozenset[str] = field(default_factory=frozenset)


# ---------------------------------------------------------------------------------------------
# Helpers


def _today() -> date:
    return timezone.localdate()


def _reference() -> str:
    return "MEN-" + secrets.token_hex(4).upper()


def _fail(problems: Problems) -> None:
    if problems:
        raise ValidationFailed(fields=problems.errors)


def _not_found() -> NotFound:
    return NotFound(_("No household has this reference."))


def _check_commune(problems: Problems, code: str, actor: Actor) -> Commune | None:
    commune = commune_get(code)
    if commune is None:
        problems.add("commune", "unknown_commune", _("No commune has this code."))
        return None
    if actor.role == "agent" and commune.province_id not in actor.province_codes:
        raise NotFound(_("This commune is not served by your citizen service centre."))
    return commune


def _check_milieu(problems: Problems, commune: Commune | None, milieu: str) -> None:
    """Urban or rural, and one the 2024 census found in the commune (a municipality is urban
    save a few with rural douars; a rural commune is rural unless it holds an urban centre).
    The milieu picks the formula's model: a wrong one changes the whole index."""
    if milieu not in ("urban", "rural"):
        problems.add("milieu", "invalid_choice", _("The milieu is urban or rural."))
    elif commune is not None and (found := commune_milieux(commune.code)) and milieu not in found:
        problems.add("milieu", "milieu_not_in_commune", milieu_message(commune, found))


def milieu_message(commune: Commune, found: frozenset[str]) -> str:
    if "urban" in found:
        return str(_("The 2024 census counts only urban households in %(commune)s: its "
                     "households are urban.") % {"commune": commune.name})
    return str(_("The 2024 census counts only rural households in %(commune)s: its households "
                 "are rural.") % {"commune": commune.name})


def rollout_window_for(commune: Commune) -> RolloutWindow | None:
    """The most specific roll-out window covering a commune (commune, province, region)."""
    codes = [commune.code, commune.province_id, commune.province.region_id]
    windows = {w.code: w for w in precompiled(
        "households.rollout", lambda *c: RolloutWindow.objects.filter(code__in=c), codes)}
    return next((windows[code] for code in codes if code in windows), None)


def rollout_check(*, commune: Commune, day: date) -> None:
    """Refuse registration where the roll-out has not opened, saying when it opens."""
    window = rollout_window_for(commune)
    if window is None or window.opens_on is None:
        raise ValidationFailed(fields=[FieldError(
            "commune", "rollout_not_scheduled",
            _("Registration has not opened yet in %(commune)s and no opening date has been "
              "set.") % {"commune": commune.name})], extra={"opens_on": None})
    if window.opens_on > day:
        raise ValidationFailed(fields=[FieldError(
            "commune", "rollout_not_open",
            _("Registration is not open yet in %(commune)s: it opens on %(date)s.")
            % {"commune": commune.name, "date": window.opens_on.isoformat()})],
            extra={"opens_on": window.opens_on.isoformat()})


def _check_household_data(problems: Problems, data: HouseholdData) -> None:
    for name, (low, high) in RANGES.items():
        value = getattr(data, name)
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(f"household.{name}", "not_an_integer", _("Give a whole number."))
        elif not low <= value <= high:
            problems.add(f"household.{name}", "out_of_range",
                         _("This value must be between %(low)s and %(high)s.")
                         % {"low": low, "high": high})


def _persons_locked(*idcs: str) -> QuerySet[Person]:
    """The persons with these IDCS, locked in primary-key order (a concurrent death or
    registration of the same person waits), each with the household they are an active member
    of (`active_household_id`, None if none): `_leave_other_households` reads memberships only
    when one is elsewhere."""
    active = (Membership.objects.filter(person=OuterRef("pk"), end_date__isnull=True)
              .order_by().values("household_id")[:1])
    return (Person.objects.select_for_update(of=("self",)).filter(idcs__in=idcs)
            .annotate(active_household_id=Subquery(active)).order_by("pk"))


def _check_members(problems: Problems, members: Sequence[MemberRecord], *,
                   declarant_idcs: str | None, day: date) -> dict[str, Person]:
    """Check the members and the declarant; return the persons by IDCS (locked for update)."""
    if not members:
        problems.add("members", "no_members", _("A household has at least one member."))
    wanted: list[str] = []
    seen: set[str] = set()
    for i, m in enumerate(members):
        name = f"members.{i}.idcs"
        before = len(problems.errors)
        check_idcs(problems, name, m.idcs)
        if len(problems.errors) > before:
            continue
        if m.idcs in seen:
            problems.add(name, "duplicate_member", _("This person is listed twice."))
            continue
        seen.add(m.idcs)
        wanted.append(m.idcs)
    persons = {p.idcs: p for p in
               precompiled(("households.persons", len(wanted)), _persons_locked, wanted)
               } if wanted else {}
    for i, m in enumerate(members):
        if m.idcs not in wanted:
            continue
        person = persons.get(m.idcs)
        name = f"members.{i}.idcs"
        if person is None:
            problems.add(name, "not_enrolled",
                         _("No person is enrolled in the population register with IDCS "
                           "%(idcs)s: enrol them first.") % {"idcs": m.idcs})
        elif person.status == Person.Status.DECEASED:
            problems.add(name, "deceased", _("The person with IDCS %(idcs)s is recorded "
                                             "deceased.") % {"idcs": m.idcs})
        elif person.status == Person.Status.RETIRED:
            problems.add(name, "retired", _("IDCS %(idcs)s was retired: use the person's "
                                            "current IDCS.") % {"idcs": m.idcs})
    heads = [i for i, m in enumerate(members) if m.relationship == Relationship.HEAD]
    if members and not heads:
        problems.add("members", "no_head", _("Name exactly one member as the household head."))
    for i in heads[1:]:
        problems.add(f"members.{i}.relationship", "several_heads",
                     _("A household has exactly one head."))
    if declarant_idcs is not None:
        before = len(problems.errors)
        check_idcs(problems, "declarant_idcs", declarant_idcs)
        if len(problems.errors) == before:
            declarant = persons.get(declarant_idcs)
            if declarant_idcs not in seen:
                problems.add("declarant_idcs", "declarant_not_member",
                             _("The declarant must be a member of the household."))
            elif declarant is not None and (
                    age_on(declarant.birth_date, day) < settings.SIJILL["ADULT_AGE"]):
                problems.add("declarant_idcs", "declarant_not_adult",
                             _("The declarant must be an adult (%(age)s or older).")
                             % {"age": settings.SIJILL["ADULT_AGE"]})
    return persons


def _validate_declaration(declaration: Declaration, *, declarant_idcs: str | None,
                          day: date) -> dict[str, Person]:
    problems = Problems()
    _check_household_data(problems, declaration.household)
    persons = _check_members(problems, declaration.members, declarant_idcs=declarant_idcs,
                             day=day)
    _fail(problems)
    return persons


def _conflict(people: Iterable[Person], members: Sequence[MemberRecord]) -> Conflict:
    idcs = sorted({p.idcs for p in people})
    index = {m.idcs: i for i, m in enumerate(members)}
    return Conflict(
        ngettext_lazy(
            "The person with IDCS %(idcs)s already belongs to another household. A person "
            "belongs to one household at a time: declare the move to bring them here.",
            "The persons with IDCS %(idcs)s already belong to other households. A person "
            "belongs to one household at a time: declare their move to bring them here.",
            len(idcs)) % {"idcs": ", ".join(idcs)},
        fields=[FieldError(f"members.{index.get(i, 0)}.idcs", "in_another_household",
                           _("IDCS %(idcs)s already belongs to another household.")
                           % {"idcs": i}) for i in idcs],
        extra={"idcs": idcs})


def _visible(actor: Actor, household: Household) -> bool:
    if actor.role == "admin":
        return True
    if actor.role == "agent":
        return household.commune.province_id in actor.province_codes
    if actor.role == "citizen":
        return bool(actor.idcs) and (
            household.memberships.filter(person__idcs=actor.idcs, end_date__isnull=True).exists()
            or household.declarant.idcs == actor.idcs)
    return actor.role in {"verifier", "reviewer"}


def _require_declarant(actor: Actor, household: Household) -> None:
    """On the citizen side only the declarant changes a household; its other members read it
    (403: they know the household exists). A declarant who has left a household of minors stays
    recorded until an adult is declared (`_remove_members`) but no longer changes it."""
    if actor.role == "citizen" and (household.declarant.idcs != actor.idcs or (
            household.status != S.CANCELLED and not household.memberships.filter(
                person_id=household.declarant_id, end_date__isnull=True).exists())):
        raise PermissionDenied(_("Only the household's declarant can change or cancel its "
                                 "registration. The other members can follow it and file "
                                 "complaints."))


def _locked(actor: Actor, reference: str, perm: Perm) -> Household:
    """The household, row-locked for a change, if the actor may change it: 404 when they may
    not see it, 403 for a citizen member who is not its declarant."""
    actor.require(perm)
    household = (Household.objects.select_for_update(of=("self",))
                 .select_related("commune__province", "declarant").filter(reference=reference)
                 .first())
    if household is None or not _visible(actor, household):
        raise _not_found()
    _require_declarant(actor, household)
    return household


def _event(household: Household, *, to: str, actor: Actor, note: str = "") -> None:
    RegistrationEvent.objects.create(household=household, from_status=household.status,
                                     to_status=to, actor_label=actor.label, note=note[:300])
    household.status = to


def _current(household: Household) -> Declaration | None:
    version = (DeclarationVersion.objects.filter(household=household,
                                                 version=household.current_version).first())
    return declaration_of(version) if version else None


def declaration_of(version: DeclarationVersion) -> Declaration:
    """The contract record of a stored version (members in declared order)."""
    members = version.members.select_related("person").order_by("position")
    return Declaration.from_dict({
        "household": {name: getattr(version, name) for name in HOUSEHOLD_FIELDS},
        "members": [{name: (m.person.idcs if name == "idcs" else getattr(m, name))
                     for name in MEMBER_FIELDS} for m in members],
    })


def _write_version(*, household: Household, declaration: Declaration,
                   persons: dict[str, Person], declarant: Person, actor: Actor,
                   reason: str) -> DeclarationVersion:
    household.current_version += 1
    version = _version_rows(household=household, declaration=declaration, persons=persons,
                            declarant=declarant, actor=actor, reason=reason)
    # No head only after the head's death, until an updated declaration names one.
    household.head = _head_of(declaration, persons)
    household.declarant = declarant
    household.save()
    return version


def _head_of(declaration: Declaration, persons: dict[str, Person]) -> Person | None:
    return next((persons[m.idcs] for m in declaration.members
                 if m.relationship == Relationship.HEAD), None)


_MEMBER_DATA_FIELDS = tuple(f for f in MEMBER_FIELDS if f != "idcs")


def _plain(record: Any, names: Sequence[str]) -> dict[str, Any]:
    """The fields of a flat declaration record, enumerations as their stored values (what
    `dataclasses.asdict` gave, without its deep copies)."""
    out = {}
    for name in names:
        v = getattr(record, name)
        out[name] = v.value if hasattr(v, "value") else v
    return out


def _version_rows(*, household: Household, declaration: Declaration,
                  persons: dict[str, Person], declarant: Person, actor: Actor,
                  reason: str) -> DeclarationVersion:
    """Insert version `household.current_version` and its members (two statements)."""
    version = DeclarationVersion(
        household=household, version=household.current_version, reason=reason,
        created_by=actor.label, declarant=declarant, commune_id=household.commune_id,
        milieu=household.milieu, address=household.address,
        **_plain(declaration.household, HOUSEHOLD_FIELDS))
    insert_rows([version])
    insert_rows([MemberDeclaration(declaration=version, position=i, person=persons[m.idcs],
                                   **_plain(m, _MEMBER_DATA_FIELDS))
                 for i, m in enumerate(declaration.members)])
    return version


def _end(memberships: Iterable[Membership], *, reason: str, day: date) -> None:
    ids = [m.pk for m in memberships]
    if ids:
        Membership.objects.filter(pk__in=ids, end_date__isnull=True).update(end_date=day,
                                                                           end_reason=reason)


def _leave_other_households(*, household: Household | None, persons: dict[str, Person],
                            declaration: Declaration, moving: frozenset[str], actor: Actor,
                            day: date) -> None:
    """Members already in another household: a Conflict unless their move is declared; a
    declared move ends the old membership and writes the old household's next version.

    The persons' `active_household_id` (read with their lock) spares the read of memberships
    when nobody is elsewhere and no move is declared. A membership that a concurrent
    registration committed meanwhile is then refused by the partial unique index, which the
    writers turn into the same Conflict (`_taken`)."""
    pk = household.pk if household is not None else None
    if not moving and all(getattr(p, "active_household_id", -1) in (None, pk)
                          for p in persons.values()):
        return
    others = list(Membership.objects.select_related("person")
                  .filter(person__in=list(persons.values()), end_date__isnull=True)
                  .exclude(household=household))
    blocked = [m.person for m in others if m.person.idcs not in moving]
    if blocked:
        raise _conflict(blocked, declaration.members)
    by_household: dict[int, list[Membership]] = {}
    for m in others:
        by_household.setdefault(m.household_id, []).append(m)
    for household_id in sorted(by_household):
        leaving = by_household[household_id]
        old = Household.objects.select_for_update(of=("self",)).select_related("declarant").get(
            pk=household_id)
        others_moved = sorted(m.person.idcs for m in leaving if m.person.idcs != actor.idcs)
        if actor.role == "citizen" and others_moved and old.declarant.idcs != actor.idcs:
            # A citizen may move themselves out of any household, others only out of a
            # household they declare.
            raise PermissionDenied(
                _("IDCS %(idcs)s belongs to a household that you do not declare: only its "
                  "declarant, or a citizen service centre, can move them out of it.")
                % {"idcs": ", ".join(others_moved)}, extra={"idcs": others_moved})
        _remove_members(household=old, leaving=leaving, reason=Membership.EndReason.MOVED,
                        actor=actor, day=day)


def _remove_members(*, household: Household, leaving: list[Membership], reason: str,
                    actor: Actor, day: date) -> bool:
    """End memberships and write the household's next version without those members; True when
    the household must now wait for an updated declaration naming an adult declarant.

    A household left with nobody is cancelled. A head cannot leave while others remain (the
    household must first name a new head), except by death: the household then waits, headless,
    for an updated declaration.

    When the declarant leaves (moves out, dies), the next declarant is an adult (ADULT_AGE on
    `day`) who remains: the head, else the oldest adult member. When only minors remain, the
    household is kept, the departed declarant stays recorded (a declarant is never a minor), and
    it goes back to "submitted" with an event saying an adult declarant must be declared; it is
    not sent to verification until an updated declaration names one (an agent's, or the
    declarant's of the household an adult moves from).
    """
    leaving_ids = {m.person_id for m in leaving}
    remaining = list(household.memberships.filter(end_date__isnull=True)
                     .exclude(person_id__in=leaving_ids).select_related("person"))
    head_leaves = any(m.relationship == Relationship.HEAD for m in leaving)
    if head_leaves and remaining and reason != Membership.EndReason.DECEASED:
        raise Conflict(
            _("IDCS %(idcs)s is the head of a household that has other members: that household "
              "must first name a new head.")
            % {"idcs": next(m.person.idcs for m in leaving
                            if m.relationship == Relationship.HEAD)},
            extra={"idcs": [m.person.idcs for m in leaving]})
    _end(leaving, reason=reason, day=day)
    if not remaining:
        if household.status != S.CANCELLED:
            _event(household, to=S.CANCELLED, actor=actor,
                   note="no member left" if reason != Membership.EndReason.DECEASED
                   else "last member deceased")
            household.save(update_fields=["status", "updated_at"])
        return False
    current = _current(household)
    if current is None:
        return False
    kept = tuple(m for m in current.members if m.idcs in {r.person.idcs for r in remaining})
    persons = {r.person.idcs: r.person for r in remaining}
    declarant: Person | None = household.declarant
    if household.declarant_id in leaving_ids:
        declarant = _next_declarant(household, [r.person for r in remaining], day=day)
    _write_version(household=household, declaration=replace(current, members=kept),
                   persons=persons, declarant=declarant or household.declarant, actor=actor,
                   reason=f"member_{reason}")
    if declarant is None and household.status != S.CANCELLED:
        _await_update(household, actor=actor,
                      note=f"declarant {reason}: an adult member must be declared as declarant")
    audit_record(actor=actor, action="remove_member", entity="household",
                 entity_id=household.reference, subject=household.declarant.idcs,
                 detail={"idcs": sorted(m.person.idcs for m in leaving), "reason": reason,
                         "version": household.current_version})
    _after_commit_changed(household, reason=f"member_{reason}")
    return declarant is None


def _next_declarant(household: Household, remaining: list[Person], *, day: date,
                    ) -> Person | None:
    """Who declares once the declarant has left: the remaining head if adult, else the oldest
    remaining adult; None when only minors remain."""
    adults = sorted((p for p in remaining
                     if age_on(p.birth_date, day) >= settings.SIJILL["ADULT_AGE"]),
                    key=lambda p: (p.birth_date, p.pk))
    head = next((p for p in adults if p.pk == household.head_id), None)
    return head or (adults[0] if adults else None)


def _await_update(household: Household, *, actor: Actor, note: str) -> None:
    """The declaration cannot be verified nor scored as it stands (no head, no adult
    declarant): the household goes back to "submitted" without being sent to verification,
    and waits for an updated declaration, whose update resubmits it; its last notified index
    stays current. The event says what is awaited."""
    if household.status != S.SUBMITTED:
        _event(household, to=S.SUBMITTED, actor=actor, note=note)
        household.save(update_fields=["status", "updated_at"])
    else:
        RegistrationEvent.objects.create(
            household=household, from_status=household.status, to_status=household.status,
            actor_label=actor.label, note=note[:300])


def _sync_memberships(*, household: Household, declaration: Declaration,
                      persons: dict[str, Person], day: date, new: bool = False,
                      ) -> list[Membership]:
    """Make the active memberships match the declaration: end what left or changed
    relationship, start what joined (returned). The partial unique indexes guard the result.
    A `new` household has no membership yet (nothing to read)."""
    active = {} if new else {m.person_id: m for m in
                             household.memberships.filter(end_date__isnull=True)}
    declared = {persons[m.idcs].pk: str(m.relationship) for m in declaration.members}
    gone = [m for pid, m in active.items() if pid not in declared]
    changed = [m for pid, m in active.items()
               if pid in declared and m.relationship != declared[pid]]
    _end(gone, reason=Membership.EndReason.LEFT, day=day)
    _end(changed, reason=Membership.EndReason.RELATIONSHIP_CHANGED, day=day)
    keep = {pid for pid, m in active.items() if pid in declared and m not in changed}
    by_pk = {p.pk: p for p in persons.values()}
    joining = [Membership(household=household, person=by_pk[pid], relationship=rel,
                          start_date=day)
               for pid, rel in sorted(declared.items()) if pid not in keep]
    # A concurrent transaction may have given one of these persons another household first:
    # the partial unique index refuses the insert and the writer, once its transaction or
    # savepoint is rolled back, names them (`_taken`).
    insert_rows(joining)
    return joining


def _taken(declaration: Declaration, *, reference: str | None = None) -> Conflict | None:
    """After the database refused a write: the Conflict naming the declared members that
    another household holds (what the partial unique index decided), or None."""
    rows = Membership.objects.select_related("person").filter(
        person__idcs__in=[m.idcs for m in declaration.members], end_date__isnull=True)
    if reference is not None:
        rows = rows.exclude(household__reference=reference)
    taken = [m.person for m in rows]
    return _conflict(taken, declaration.members) if taken else None


def _after_commit_changed(household: Household, *, reason: str) -> None:
    pk, ref, version = household.pk, household.reference, household.current_version
    transaction.on_commit(lambda: household_changed.send(
        sender=Household, household_id=pk, reference=ref, version=version, reason=reason))


def _after_commit_submitted(household: Household, *, recorded: bool = False) -> None:
    """The current version goes to verification once this commits: the request is recorded
    with the household (`verification_requested_at`, already set when `recorded`), so the
    sweeper finds it if its start task is lost."""
    if not recorded:
        household.verification_requested_at = timezone.now()
        Household.objects.filter(pk=household.pk).update(
            verification_requested_at=household.verification_requested_at)
    pk, ref, version = household.pk, household.reference, household.current_version
    transaction.on_commit(lambda: household_submitted.send(
        sender=Household, household_id=pk, reference=ref, version=version))


def _audit(actor: Actor, action: str, household: Household, **detail: Any) -> None:
    audit_record(actor=actor, action=action, entity="household", entity_id=household.reference,
                 subject=household.declarant.idcs, detail=detail)


# ---------------------------------------------------------------------------------------------
# Writers


def household_register(*, actor: Actor, data: RegistrationInput, submit: bool = True,
                       ) -> Household:
    """Register a household with its first declaration, as a draft or submitted."""
    return household_registration(actor=actor, data=data, submit=submit).household


def household_registration(*, actor: Actor, data: RegistrationInput, submit: bool = True,
                           ) -> HouseholdView:
    """Register a household (as `household_register`) and return it as written, to answer the
    caller without reading it back: the household, its memberships and its first version."""
    actor.require(Perm.HOUSEHOLD_REGISTER)
    day = _today()
    problems = Problems()
    commune = _check_commune(problems, data.commune, actor)
    _check_milieu(problems, commune, data.milieu)
    if not data.address.strip():
        problems.add("address", "required", _("Give the address of the dwelling."))
    if data.notice_language not in Household.Language.values:
        problems.add("notice_language", "invalid_choice", _("Choose ar, fr or en."))
    if actor.role == "citizen" and data.declarant_idcs != actor.idcs:
        raise PermissionDenied(_("You can only register a household that you declare yourself."))
    _fail(problems)
    assert commune is not None
    rollout_check(commune=commune, day=day)
    # A drawn reference already taken (1 in ~460 at national scale) is drawn again: the
    # registration's transaction (or savepoint) is rolled back whole and redone.
    for _attempt in range(8):
        reference = _reference()
        try:
            return _register(actor=actor, data=data, submit=submit, commune=commune, day=day,
                             reference=reference)
        except IntegrityError:
            if Household.objects.filter(reference=reference).exists():
                continue
            conflict = _taken(data.declaration)
            if conflict is not None:
                raise conflict from None
            raise
    raise RuntimeError("could not draw a free household reference after 8 draws")


def _register(*, actor: Actor, data: RegistrationInput, submit: bool, commune: Commune,
              day: date, reference: str) -> HouseholdView:
    """One attempt of `household_registration`, in its own transaction (a savepoint when the
    caller has one): no savepoint inside, a refused insert rolls it back whole."""
    with transaction.atomic():
        persons = _validate_declaration(data.declaration, declarant_idcs=data.declarant_idcs,
                                        day=day)
        _leave_other_households(household=None, persons=persons, declaration=data.declaration,
                                moving=data.moving, actor=actor, day=day)
        declarant = persons[data.declarant_idcs]
        # Inserted in its final state (first version, head, status): the events below still
        # record each step (draft, then submitted).
        household = Household(reference=reference, commune=commune, milieu=data.milieu,
                              address=data.address.strip(), declarant=declarant,
                              head=_head_of(data.declaration, persons), current_version=1,
                              notice_language=data.notice_language, created_by=actor.label,
                              centre_id=actor.centre_id,
                              status=S.SUBMITTED if submit else S.DRAFT,
                              verification_requested_at=timezone.now() if submit else None)
        insert_rows([household])
        insert_rows(lifecycle_events(household_ids=[household.pk], actor_label=actor.label,
                                     submitted=submit))
        version = _version_rows(household=household, declaration=data.declaration,
                                persons=persons, declarant=declarant, actor=actor,
                                reason="registration")
        members = _sync_memberships(household=household, declaration=data.declaration,
                                    persons=persons, day=day, new=True)
        if submit:
            _after_commit_submitted(household, recorded=True)
        _audit(actor, "register", household, members=sorted(persons), submitted=submit,
               version=household.current_version)
        _after_commit_changed(household, reason="registration")
    version.declarant = declarant
    return HouseholdView(household=household, members=members, declaration=version,
                         current=data.declaration)


def lifecycle_events(*, household_ids: Sequence[int], actor_label: str, submitted: bool,
                     note: str = "") -> list[RegistrationEvent]:
    """The events of new registrations: created as a draft, then submitted (if `submitted`).
    Shared by the API registration and the bulk writers, so every path records the same
    lifecycle."""
    now = timezone.now()
    steps = [("", S.DRAFT)] + ([(S.DRAFT, S.SUBMITTED)] if submitted else [])
    return [RegistrationEvent(household_id=pk, from_status=a, to_status=b, at=now,
                              actor_label=actor_label, note=note)
            for pk in household_ids for a, b in steps]


def household_submit(*, actor: Actor, reference: str) -> Household:
    """Submit a draft registration (the roll-out is checked again)."""
    with transaction.atomic():
        household = _locked(actor, reference, Perm.HOUSEHOLD_REGISTER)
        if household.status == S.SUBMITTED:
            return household
        if household.status != S.DRAFT:
            raise Conflict(_("Only a draft can be submitted."))
        rollout_check(commune=household.commune, day=_today())
        _event(household, to=S.SUBMITTED, actor=actor)
        household.save(update_fields=["status", "updated_at"])
        _audit(actor, "submit", household, version=household.current_version)
        _after_commit_submitted(household)
    return household


@dataclass(frozen=True)
class Place:
    """Where a household lives: a commune, urban or rural, and the address."""

    commune: str
    milieu: str
    address: str


def _relocate(household: Household, place: Place, *, actor: Actor, day: date) -> None:
    problems = Problems()
    commune = _check_commune(problems, place.commune, actor)
    _check_milieu(problems, commune, place.milieu)
    if not place.address.strip():
        problems.add("address", "required", _("Give the address of the dwelling."))
    _fail(problems)
    assert commune is not None
    if commune.pk != household.commune_id:
        rollout_check(commune=commune, day=day)
    household.commune = commune
    household.milieu = place.milieu
    household.address = place.address.strip()


def household_declaration_update(*, actor: Actor, reference: str, declaration: Declaration,
                                 declarant_idcs: str | None = None,
                                 moving: frozenset[str] = frozenset(),
                                 place: Place | None = None,
                                 review: str | None = None) -> Household:
    """Submit an updated declaration: a new version, memberships brought in line with it.

    `review` names the score review whose decided correction this is (cases.review_decide has
    checked it is open and assigned to the actor): a reviewer then writes with review.decide,
    without holding household.register, and the audit entry names the review.

    With `place`, the household has moved (commune, milieu, address; the roll-out must be open
    in a new commune, and an agent must serve it). A registered household goes back to
    "submitted" (reverified and rescored); a draft stays a draft.
    """
    day = _today()
    try:
        with transaction.atomic():
            household = _locked(actor, reference,
                                Perm.REVIEW_DECIDE if review else Perm.HOUSEHOLD_REGISTER)
            if household.status == S.CANCELLED:
                raise Conflict(_("This registration was cancelled."))
            if place is not None:
                _relocate(household, place, actor=actor, day=day)
            declarant_idcs = declarant_idcs or household.declarant.idcs
            persons = _validate_declaration(declaration, declarant_idcs=declarant_idcs,
                                            day=day)
            _leave_other_households(household=household, persons=persons,
                                    declaration=declaration, moving=moving, actor=actor,
                                    day=day)
            _write_version(household=household, declaration=declaration, persons=persons,
                           declarant=persons[declarant_idcs], actor=actor, reason="update")
            _sync_memberships(household=household, declaration=declaration, persons=persons,
                              day=day)
            _resubmit(household, actor=actor, note="declaration updated")
            _audit(actor, "update_declaration", household, members=sorted(persons),
                   version=household.current_version,
                   **({"review": review} if review else {}))
            _after_commit_changed(household, reason="update")
    except IntegrityError:
        # A concurrent registration gave a joining member another household first.
        conflict = _taken(declaration, reference=reference)
        if conflict is not None:
            raise conflict from None
        raise
    return household


def _resubmit(household: Household, *, actor: Actor, note: str) -> None:
    if household.status not in (S.DRAFT, S.CANCELLED):
        if household.status != S.SUBMITTED:
            _event(household, to=S.SUBMITTED, actor=actor, note=note)
            household.save(update_fields=["status", "updated_at"])
        _after_commit_submitted(household)


def household_member_add(*, actor: Actor, reference: str, member: MemberRecord,
                         moving: bool = False) -> Household:
    """Add a member (a birth, a marriage, a move in): the next version lists them."""
    with transaction.atomic():
        household = _locked(actor, reference, Perm.HOUSEHOLD_REGISTER)
        current = _current(household)
        assert current is not None
        if any(m.idcs == member.idcs for m in current.members):
            raise Conflict(_("This person is already a member of this household."))
        declaration = replace(current, members=(*current.members, member))
        return household_declaration_update(
            actor=actor, reference=reference, declaration=declaration,
            moving=frozenset({member.idcs}) if moving else frozenset())


def household_member_remove(*, actor: Actor, reference: str, idcs: str) -> Household:
    """A member leaves (the head cannot leave while others remain: name a new head first)."""
    with transaction.atomic():
        household = _locked(actor, reference, Perm.HOUSEHOLD_REGISTER)
        membership = (household.memberships.select_related("person")
                      .filter(person__idcs=idcs, end_date__isnull=True).first())
        if membership is None:
            raise NotFound(_("This person is not a current member of this household."))
        if membership.relationship == Relationship.HEAD and \
                household.memberships.filter(end_date__isnull=True).count() > 1:
            raise ValidationFailed.single(
                "idcs", "head_cannot_leave",
                _("The head cannot leave while other members remain: declare a new head first."))
        if membership.person_id == household.declarant_id and \
                household.memberships.filter(end_date__isnull=True).count() > 1:
            raise ValidationFailed.single(
                "idcs", "declarant_cannot_leave",
                _("The declarant cannot leave: declare another adult member as declarant "
                  "first."))
        if not _remove_members(household=household, leaving=[membership],
                               reason=Membership.EndReason.LEFT, actor=actor, day=_today()):
            _resubmit(household, actor=actor, note="member left")
    return household


def household_transition(*, actor: Actor, reference: str, to: str, note: str = "") -> Household:
    """Move a registration along its lifecycle (verification, scoring, notices; or cancel)."""
    with transaction.atomic():
        perm = Perm.HOUSEHOLD_PROCESS if to in PROCESSING_STEPS else Perm.HOUSEHOLD_REGISTER
        household = _locked(actor, reference, perm)
        if to not in TRANSITIONS.get(household.status, frozenset()):
            raise Conflict(_("A registration cannot go from %(from)s to %(to)s.")
                           % {"from": household.status, "to": to})
        _event(household, to=to, actor=actor, note=note)
        household.save(update_fields=["status", "updated_at"])
        if to == S.CANCELLED:
            _end(household.memberships.filter(end_date__isnull=True),
                 reason=Membership.EndReason.HOUSEHOLD_CANCELLED, day=_today())
        _audit(actor, "transition", household, to=to)
        _after_commit_changed(household, reason=f"status_{to}")
    return household


def household_member_deceased(*, actor: Actor = SYSTEM, person: Person) -> None:
    """A member died (sent by the population register): their membership ends."""
    with transaction.atomic():
        membership = (Membership.objects.select_related("person")
                      .filter(person=person, end_date__isnull=True).first())
        if membership is None:
            return
        household = (Household.objects.select_for_update(of=("self",))
                     .select_related("declarant", "head").get(pk=membership.household_id))
        day = max(person.death_date or _today(), membership.start_date)
        waiting = _remove_members(household=household, leaving=[membership],
                                  reason=Membership.EndReason.DECEASED, actor=actor, day=day)
        if household.status == S.CANCELLED:
            return
        if membership.relationship == Relationship.HEAD:
            # A headless declaration cannot be verified nor scored (the index needs the head).
            _await_update(household, actor=actor, note="head deceased: a new head must be declared")
            return
        if not waiting:
            _resubmit(household, actor=actor, note="member deceased")


# ---------------------------------------------------------------------------------------------
# Audited reads


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    members: list[Membership]
    declaration: DeclarationVersion | None
    #: The contract record of `declaration` when the writer has it at hand (not read again).
    current: Declaration | None = None


def household_read(*, actor: Actor, reference: str, purpose: str = "") -> HouseholdView:
    """A household with its current members and current declaration; the read is audited."""
    actor.require(Perm.HOUSEHOLD_READ)
    view = household_view(reference=reference)
    if view is None or not _visible(actor, view.household):
        raise _not_found()
    audit_record(actor=actor, action="read", entity="household", entity_id=reference,
                 subject=view.household.declarant.idcs, purpose=purpose,
                 detail={"members": sorted(m.person.idcs for m in view.members)})
    return view


def household_view(*, reference: str) -> HouseholdView | None:
    """The household as a writer just left it, to answer its caller: no access check and no
    audit entry of its own (the write it answers was checked and audited)."""
    household = (Household.objects.select_related("commune__province", "declarant", "head")
                 .filter(reference=reference).first())
    if household is None:
        return None
    members = list(household.memberships.filter(end_date__isnull=True)
                   .select_related("person").order_by("start_date", "id"))
    version = (DeclarationVersion.objects.filter(household=household,
                                                 version=household.current_version)
               .select_related("declarant").first())
    return HouseholdView(household=household, members=members, declaration=version)


def household_events(*, actor: Actor, reference: str, purpose: str = "",
                     ) -> list[RegistrationEvent]:
    household = household_readable(actor=actor, reference=reference)
    audit_record(actor=actor, action="read_history", entity="household", entity_id=reference,
                 subject=household.declarant.idcs, purpose=purpose)
    return list(household.events.order_by("at", "id"))


def household_membership_history(*, actor: Actor, reference: str, purpose: str = "",
                                 ) -> list[Membership]:
    """Every membership the household ever had, ended ones included."""
    household = household_readable(actor=actor, reference=reference)
    audit_record(actor=actor, action="read_members", entity="household", entity_id=reference,
                 subject=household.declarant.idcs, purpose=purpose)
    return list(household.memberships.select_related("person").order_by("start_date", "id"))
