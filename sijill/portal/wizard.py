"""The guided registration (and update) of a household, one step per page, no JavaScript.

What each step accepted is kept in the session until the last step hands the whole
declaration to the households service (`household_register` or
`household_declaration_update`), which checks everything again and is the only writer. An
error it reports is shown on the step its field belongs to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sijill.core.errors import SijillError
from sijill.declaration.model import Declaration
from sijill.households import services as households
from sijill.households.models import Household
from sijill.population.models import Person
from sijill.population.validation import Problems, check_idcs
from sijill.portal import selectors
from sijill.portal.forms import (
    ASSET_FIELDS,
    DWELLING_FIELDS,
    MEMBER_FIELDS,
    AssetsForm,
    ChangeForm,
    DwellingForm,
    MemberDataForm,
    MemberRowFormSet,
    PlaceForm,
    jsonable,
)
from sijill.portal.views import actor_of, citizen_required, error_messages, language

KEY = "portal_wizard"
STEPS: list[tuple[str, Any]] = [
    ("place", gettext_lazy("Where you live")),
    ("members", gettext_lazy("Members")),
    ("people", gettext_lazy("About each member")),
    ("dwelling", gettext_lazy("Dwelling")),
    ("assets", gettext_lazy("Assets and spending")),
    ("review", gettext_lazy("Check and send")),
]
STEP_NAMES = [s for s, _label in STEPS]


def _name(person: Person) -> str:
    if language() == "ar":
        return f"{person.first_name_ar} {person.family_name_ar}"
    return f"{person.first_name_latin} {person.family_name_latin}"


def _state(request: HttpRequest) -> dict[str, Any] | None:
    return request.session.get(KEY)


def _save(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[KEY] = state
    request.session.modified = True


def _start_state(request: HttpRequest, mode: str) -> dict[str, Any] | HttpResponse:
    actor = actor_of(request)
    household = selectors.household_of_citizen(actor=actor)
    me = Person.objects.get(idcs=actor.idcs)
    if mode == "register":
        if household is not None:
            messages.info(request, _("You already belong to a registered household: declare "
                                     "a change instead."))
            return redirect("portal:dashboard")
        return {"mode": mode, "reference": None, "place": {}, "language": language(),
                "members": [{"idcs": me.idcs, "birth_date": me.birth_date.isoformat(),
                             "name": _name(me), "moving": False}],
                "people": [{"relationship": "head"}], "dwelling": {}, "assets": {}}
    if household is None:
        return redirect("portal:dashboard")
    if household.declarant.idcs != actor.idcs:
        # Refused at the start, not after six steps (the service refuses it all the same).
        messages.info(request, _("Only the household's declarant can change or cancel its "
                                 "registration. The other members can follow it and file "
                                 "complaints."))
        return redirect("portal:dashboard")
    view = households.household_read(actor=actor, reference=household.reference,
                                      purpose="portal: update own household")
    assert view.declaration is not None
    declaration = households.declaration_of(view.declaration)
    persons = {p.idcs: p for p in Person.objects.filter(
        idcs__in=[m.idcs for m in declaration.members])}
    data = declaration.to_dict()
    # The declarant comes first (the members step keeps the first row fixed).
    first = household.declarant.idcs
    order = sorted(range(len(declaration.members)),
                   key=lambda n: declaration.members[n].idcs != first)
    declaration = Declaration(household=declaration.household,
                              members=tuple(declaration.members[n] for n in order))
    data["members"] = [data["members"][n] for n in order]
    return {
        "mode": mode, "reference": household.reference,
        "place": {"commune": household.commune_id, "milieu": household.milieu,
                  "address": household.address, "notice_language": household.notice_language},
        "members": [{"idcs": m.idcs, "birth_date": persons[m.idcs].birth_date.isoformat(),
                     "name": _name(persons[m.idcs]), "moving": False}
                    for m in declaration.members],
        "people": [{k: v for k, v in m.items() if k != "idcs"} for m in data["members"]],
        "dwelling": {k: data["household"][k] for k in DWELLING_FIELDS},
        "assets": {k: data["household"][k] for k in ASSET_FIELDS},
    }


@citizen_required
def wizard_start(request: HttpRequest, mode: str) -> HttpResponse:
    state = _start_state(request, mode)
    if isinstance(state, HttpResponse):
        return state
    _save(request, state)
    return redirect("portal:wizard_step", step="place")


def _context(state: dict[str, Any], step: str, **extra: Any) -> dict[str, Any]:
    return {"steps": STEPS, "step": step, "index": STEP_NAMES.index(step) + 1,
            "total": len(STEPS), "mode": state["mode"], "nav": "household", **extra}


def _go(step: str, delta: int) -> HttpResponse:
    return redirect("portal:wizard_step", step=STEP_NAMES[STEP_NAMES.index(step) + delta])


def _communes() -> list[tuple[str, Any]]:
    return selectors.open_communes(day=timezone.localdate(), language=language())


def _member_rows(request: HttpRequest, state: dict[str, Any]) -> HttpResponse:
    fixed = state["members"][0]
    others = state["members"][1:]
    if request.method == "POST":
        formset = MemberRowFormSet(request.POST, prefix="m")
        if formset.is_valid():
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("idcs")]
            problems, members = _check_rows(rows, fixed["idcs"])
            if "add" in request.POST and not problems:
                formset = MemberRowFormSet(prefix="m", initial=[*(
                    {"idcs": m["idcs"], "birth_date": m["birth_date"], "moving": m["moving"]}
                    for m in members), {}])
                state["members"] = [fixed, *members]
                _save(request, state)
                return render(request, "portal/wizard_members.html",
                              _context(state, "members", formset=formset, fixed=fixed))
            if not problems:
                old = {m["idcs"]: p for m, p in zip(state["members"], state["people"],
                                                     strict=False)}
                state["members"] = [fixed, *members]
                state["people"] = [old.get(m["idcs"], {"relationship": "child"})
                                   for m in state["members"]]
                _save(request, state)
                return _go("members", -1 if "back" in request.POST else 1)
            return render(request, "portal/wizard_members.html",
                          _context(state, "members", formset=formset, fixed=fixed,
                                   errors=problems), status=422)
    else:
        initial = [{"idcs": m["idcs"], "birth_date": m["birth_date"], "moving": m["moving"]}
                   for m in others] or [{}]
        formset = MemberRowFormSet(prefix="m", initial=initial)
    return render(request, "portal/wizard_members.html",
                  _context(state, "members", formset=formset, fixed=fixed))


def _check_rows(rows: list[dict[str, Any]], declarant: str,
                ) -> tuple[list[str], list[dict[str, Any]]]:
    """Each other member: a well-formed IDCS of a living enrolled person, with the birth date
    the register holds (so no one learns a stranger's name from an IDCS alone), once."""
    problems: list[str] = []
    members: list[dict[str, Any]] = []
    seen = {declarant}
    for n, row in enumerate(rows, start=2):
        idcs = row["idcs"].strip()
        check = Problems()
        check_idcs(check, "idcs", idcs)
        if check:
            problems += [_("Member %(n)s: %(problem)s") % {"n": n, "problem": e.message}
                         for e in check.errors]
            continue
        if idcs in seen:
            problems.append(_("Member %(n)s: this IDCS is already in the list.") % {"n": n})
            continue
        person = Person.objects.filter(idcs=idcs, birth_date=row["birth_date"],
                                       status=Person.Status.ACTIVE).first()
        if person is None:
            problems.append(_("Member %(n)s: no living person enrolled in the register has "
                              "this IDCS and this birth date.") % {"n": n})
            continue
        seen.add(idcs)
        members.append({"idcs": idcs, "birth_date": person.birth_date.isoformat(),
                        "name": _name(person), "moving": bool(row.get("moving"))})
    return problems, members


@citizen_required
def wizard_step(request: HttpRequest, step: str) -> HttpResponse:
    state = _state(request)
    if state is None:
        return redirect("portal:dashboard")
    if step == "members":
        return _member_rows(request, state)
    if step == "review":
        return _review(request, state)
    back = request.method == "POST" and "back" in request.POST
    if step == "place":
        initial = state["place"] or {"notice_language": state.get("language", "ar")}
        step_forms: list[Form] = [PlaceForm(request.POST or None, initial=initial,
                                            communes=_communes())]
    elif step == "people":
        step_forms = [MemberDataForm(request.POST or None, prefix=f"p{n}", initial=initial)
                      for n, initial in enumerate(state["people"])]
    elif step in ("dwelling", "assets"):
        cls = DwellingForm if step == "dwelling" else AssetsForm
        step_forms = [cls(request.POST or None, initial=state[step])]
    else:
        return render(request, "portal/not_found.html", status=404)
    if request.method == "POST":
        if back:
            return _go(step, -1) if step != "place" else redirect("portal:dashboard")
        if all(f.is_valid() for f in step_forms):
            if step == "people":
                state["people"] = [jsonable(f.cleaned_data) for f in step_forms]
            else:
                state[step] = jsonable(step_forms[0].cleaned_data)
            _save(request, state)
            return _go(step, 1)
    people = list(zip(state["members"], step_forms, strict=False)) if step == "people" else None
    return render(request, f"portal/wizard_{step}.html",
                  _context(state, step, form=step_forms[0], people=people),
                  status=422 if request.method == "POST" else 200)


def declaration_from(state: dict[str, Any]) -> Declaration:
    return Declaration.from_dict({
        "household": {**state["dwelling"], **state["assets"]},
        "members": [{"idcs": m["idcs"], **p} for m, p in zip(state["members"], state["people"],
                                                            strict=True)],
    })


def step_of_field(field: str) -> str:
    """The step of the wizard where a field the households service reports is answered."""
    if field in ("commune", "milieu", "address", "notice_language"):
        return "place"
    if field.startswith("household."):
        return "dwelling" if field.split(".", 1)[1] in DWELLING_FIELDS else "assets"
    if field in ("members", "declarant_idcs") or field.endswith(".idcs"):
        return "members" if field != "members" else "people"
    if field.startswith("members."):
        return "people"
    return "review"


def _fixes(error: SijillError) -> list[tuple[Any, str]]:
    """Links to the steps holding the fields an error names, in the wizard's order."""
    steps = {step_of_field(f.field) for f in error.fields} - {"review"}
    labels = dict(STEPS)
    return [(labels[s], wizard_url(s)) for s in STEP_NAMES if s in steps]


def _complete(state: dict[str, Any]) -> str | None:
    """The first step not filled in yet, if any."""
    if not state["place"]:
        return "place"
    if len(state["people"]) != len(state["members"]) or not all(
            set(MEMBER_FIELDS) <= set(p) for p in state["people"]):
        return "people"
    for step in ("dwelling", "assets"):
        if not state[step]:
            return step
    return None


def _review(request: HttpRequest, state: dict[str, Any]) -> HttpResponse:
    missing = _complete(state)
    if missing:
        return redirect("portal:wizard_step", step=missing)
    errors: list[str] = []
    fixes: list[tuple[Any, str]] = []
    change = ChangeForm(request.POST or None) if state["mode"] == "update" else None
    if request.method == "POST":
        if "back" in request.POST:
            return _go("review", -1)
        actor = actor_of(request)
        place = state["place"]
        try:
            declaration = declaration_from(state)
            moving = frozenset(m["idcs"] for m in state["members"] if m["moving"])
            if state["mode"] == "register":
                household = households.household_register(
                    actor=actor, submit=True, data=households.RegistrationInput(
                        commune=place["commune"], milieu=place["milieu"],
                        address=place["address"], declarant_idcs=actor.idcs or "",
                        notice_language=place["notice_language"], declaration=declaration,
                        moving=moving))
                messages.success(request, _("Your household is registered under reference "
                                            "%(reference)s. Its index will be computed after "
                                            "verification.") % {"reference": household.reference})
            elif change is not None and change.is_valid():
                from sijill.cases.services import Correction, change_declare

                household = Household.objects.get(reference=state["reference"])
                new_place = households.Place(commune=place["commune"], milieu=place["milieu"],
                                             address=place["address"])
                moved = (new_place.commune, new_place.milieu, new_place.address) != (
                    household.commune_id, household.milieu, household.address)
                change_declare(actor=actor, reference=state["reference"],
                               kind=change.cleaned_data["kind"],
                               note=change.cleaned_data["note"],
                               correction=Correction(declaration=declaration, moving=moving,
                                                     place=new_place if moved else None))
                messages.success(request, _("Your update is recorded. Your household will be "
                                            "verified and scored again."))
            else:
                errors = [_("Say what changed.")]
        except SijillError as error:
            errors, fixes = error_messages(error), _fixes(error)
        except (KeyError, ValueError):
            errors = [_("Some answers are missing: go back through the steps.")]
        else:
            if not errors:
                del request.session[KEY]
                return redirect("portal:household")
    place = state["place"]
    commune_name = dict(c for _p, group in _communes() for c in group).get(place["commune"], "")
    return render(request, "portal/wizard_review.html", _context(
        state, "review", errors=errors, fixes=fixes, place=place, commune_name=commune_name,
        change=change,
        members=list(zip(state["members"], _people_labels(state), strict=False)),
        household=_household_labels(state)), status=422 if errors else 200)


def _people_labels(state: dict[str, Any]) -> list[list[tuple[Any, Any]]]:
    out = []
    for data in state["people"]:
        form = MemberDataForm()
        out.append([(form.fields[k].label, _display(form.fields[k], v)) for k, v in data.items()
                    if k in form.fields])
    return out


def _household_labels(state: dict[str, Any]) -> list[tuple[Any, Any]]:
    out = []
    for cls, key in ((DwellingForm, "dwelling"), (AssetsForm, "assets")):
        form = cls()
        out += [(form.fields[k].label, _display(form.fields[k], v))
                for k, v in state[key].items() if k in form.fields]
    return out


def _display(field: Any, value: Any) -> Any:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    choices = getattr(field, "choices", None)
    if choices:
        return dict(choices).get(value, value)
    return value


def wizard_url(step: str) -> str:
    return reverse("portal:wizard_step", kwargs={"step": step})


