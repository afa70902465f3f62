"""Back-office pages: agents (enrolment, households, receipts, queues), analysts and operators
(formulas, impact reports, programs and the targeting simulator).

Views are thin: a form shapes the input, a service of the domain app decides (and audits), and
the page shows the outcome. Permissions: `staff_page` (one permission model with the API);
object-level limits (an agent's provinces, a held enrolment's centre) are the services'.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sijill.accounts.roles import Perm
from sijill.audit.services import AuditItem, audit_record, audit_record_many
from sijill.backoffice import charts
from sijill.backoffice.access import staff_page
from sijill.backoffice.forms import (
    ClusterDecisionForm,
    EnrolmentForm,
    HeldDecisionForm,
    HouseholdDataForm,
    HouseholdPlaceForm,
    ImpactForm,
    MemberFormSet,
    SimulatorForm,
    apply_errors,
)
from sijill.backoffice.templatetags.bo import num, percent
from sijill.core.errors import Conflict, NotFound, ValidationFailed
from sijill.declaration.model import Declaration
from sijill.dedup import services as dedup_services
from sijill.dedup.models import DuplicateCluster
from sijill.geography.models import Commune, Region
from sijill.households import services as household_services
from sijill.population import access as population_access
from sijill.population import services as population_services
from sijill.population.models import HeldEnrolment, Person
from sijill.programs import services as program_services
from sijill.scoring import services as scoring_services

PURPOSE_ENROLMENT = "enrolment at a citizen service centre"
PURPOSE_HOUSEHOLD = "household registration at a citizen service centre"


# ---------------------------------------------------------------------------------------------
# Home


@staff_page()
def home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(request, "backoffice/home.html", {
        "can": {p.name: actor.can(p) for p in Perm},
        "held_count": (_held_rows(actor).count() if actor.can(Perm.ENROLMENT_DECIDE) else None),
        "cluster_count": (DuplicateCluster.objects.filter(status="open").count()
                          if actor.can(Perm.DEDUP_REVIEW) else None),
    })


# ---------------------------------------------------------------------------------------------
# Persons: enrolment and held enrolments


def _communes_for(actor: Any) -> list[tuple[str, str]]:
    rows = Commune.objects.order_by("code")
    if actor.role != "admin":
        rows = rows.filter(province_id__in=actor.province_codes)
    return [(c.code, f"{c.name} ({c.code})") for c in rows.only("code", "name_ar", "name_fr")]


@staff_page(Perm.PERSON_ENROL)
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = population_services.EnrolmentInput(**form.enrolment_values())
        try:
            outcome = population_services.person_enrol(actor=actor, data=data)
        except (ValidationFailed, Conflict) as exc:
            apply_errors(form, exc, EnrolmentForm.ERROR_ALIASES)
        else:
            if outcome.held is not None:
                messages.warning(request, _("This person resembles someone already enrolled. "
                                            "No IDCS was issued: decide below."))
                return redirect("backoffice:held_detail", reference=outcome.held.reference)
            assert outcome.person is not None
            messages.success(request, _("Enrolled. The new IDCS is %(idcs)s.")
                             % {"idcs": outcome.person.idcs})
            return redirect("backoffice:person_detail", idcs=outcome.person.idcs)
    return render(request, "backoffice/enrol.html",
                  {"form": form, "communes": _communes_for(actor)})


@staff_page(Perm.PERSON_READ)
def person_detail(request: HttpRequest, idcs: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    try:
        person = population_access.person_read(actor=actor, idcs=idcs,
                                               purpose=PURPOSE_ENROLMENT)
    except ValidationFailed as exc:
        raise NotFound(exc.message) from exc
    return render(request, "backoffice/person.html", {"person": person})


def _held_rows(actor: Any) -> Any:
    rows = HeldEnrolment.objects.filter(status=HeldEnrolment.Status.HELD)
    if actor.role != "admin":
        rows = rows.filter(centre_id=actor.centre_id)
    return rows.order_by("created_at")


@staff_page(Perm.ENROLMENT_DECIDE)
def held_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(request, "backoffice/held_list.html", {"rows": _held_rows(actor)[:200]})


def _held_for(actor: Any, reference: str) -> HeldEnrolment:
    """A held enrolment of the actor's own centre (any centre for an administrator)."""
    held = HeldEnrolment.objects.filter(reference=reference).first()
    if held is None or (actor.role != "admin" and held.centre_id != actor.centre_id):
        raise NotFound(_("No held enrolment has this reference."))
    return held


@staff_page(Perm.ENROLMENT_DECIDE)
@require_http_methods(["GET", "POST"])
def held_detail(request: HttpRequest, reference: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    held = _held_for(actor, reference)
    scores = {c["idcs"]: c["score"] for c in held.candidates}
    people = {p.idcs: p for p in Person.objects.filter(idcs__in=list(scores))
              .select_related("birth_place_commune")}
    candidates = [{"person": people[i], "score": s} for i, s in scores.items() if i in people]
    form = HeldDecisionForm(request.POST or None, candidates=list(scores))
    if request.method == "POST" and held.status == HeldEnrolment.Status.HELD and form.is_valid():
        try:
            decided = population_services.held_enrolment_decide(
                actor=actor, reference=held.reference, decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                same_as_idcs=form.cleaned_data["same_as_idcs"] or None)
        except (ValidationFailed, Conflict) as exc:
            apply_errors(form, exc)
        else:
            if decided.status == HeldEnrolment.Status.ENROLLED and decided.person:
                messages.success(request, _("Enrolled. The new IDCS is %(idcs)s.")
                                 % {"idcs": decided.person.idcs})
            else:
                messages.success(request, _("Decision recorded."))
            return redirect("backoffice:held_list")
    if request.method == "GET" and candidates:
        # Showing the candidates is a read of their personal data: one append for all.
        audit_record_many(actor=actor, items=[
            AuditItem(action="read", entity="person", entity_id=c["person"].idcs,
                      subject=c["person"].idcs, purpose="probable duplicate check",
                      detail={"held_enrolment": held.reference}) for c in candidates])
    return render(request, "backoffice/held_detail.html",
                  {"held": held, "payload": held.payload, "candidates": candidates,
                   "form": form})


# ---------------------------------------------------------------------------------------------
# Households


def _member_formset(request: HttpRequest) -> Any:
    if request.method != "POST":
        return MemberFormSet(prefix="members")
    data = request.POST.copy()
    if "add_member" in data:
        total = int(data.get("members-TOTAL_FORMS", "1") or 1)
        data["members-TOTAL_FORMS"] = str(min(total + 1, 30))
    return MemberFormSet(data, prefix="members")


@staff_page(Perm.HOUSEHOLD_REGISTER)
@require_http_methods(["GET", "POST"])
def household_register(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    posted = request.POST if request.method == "POST" else None
    declarant = request.GET.get("declarant", "").strip()[:10]
    place = HouseholdPlaceForm(posted, communes=_communes_for(actor), prefix="place",
                               initial={"declarant_idcs": declarant})
    data_form = HouseholdDataForm(posted, prefix="household")
    members = _member_formset(request) if posted is not None else MemberFormSet(
        prefix="members", initial=[{"idcs": declarant, "relationship": "head"}] if declarant
        else None)
    adding = request.method == "POST" and "add_member" in request.POST
    if (request.method == "POST" and not adding and place.is_valid() and data_form.is_valid()
            and members.is_valid()):
        records = [m.record() for m in members.forms if m.cleaned_data]
        moving = frozenset(m.cleaned_data["idcs"].strip() for m in members.forms
                           if m.cleaned_data and m.cleaned_data.get("moving"))
        try:
            declaration = Declaration.from_dict({
                "household": {k: data_form.cleaned_data[k] for k in data_form.fields},
                "members": records})
            household = household_services.household_register(
                actor=actor, submit=True, data=household_services.RegistrationInput(
                    commune=place.cleaned_data["commune"], milieu=place.cleaned_data["milieu"],
                    address=place.cleaned_data["address"],
                    declarant_idcs=place.cleaned_data["declarant_idcs"].strip(),
                    declaration=declaration,
                    notice_language=place.cleaned_data["notice_language"], moving=moving))
        except (ValidationFailed, Conflict) as exc:
            _household_errors(exc, place, data_form, members)
        else:
            messages.success(request, _("Household registered with the reference "
                                        "%(reference)s.") % {"reference": household.reference})
            return redirect("backoffice:household_detail", reference=household.reference)
    return render(request, "backoffice/household_register.html",
                  {"place": place, "data_form": data_form, "members": members})


def _household_errors(exc: Any, place: Any, data_form: Any, members: Any) -> None:
    if not exc.fields:
        place.add_error(None, str(exc.message))
        return
    for problem in exc.fields:
        name, message = problem.field, str(problem.message)
        if name.startswith("members."):
            parts = name.split(".")
            index = int(parts[1]) if parts[1].isdigit() else 0
            field = parts[2] if len(parts) > 2 else None
            if index < len(members.forms):
                form = members.forms[index]
                form.add_error(field if field in form.fields else None, message)
                continue
        if name.startswith("household."):
            name = name.split(".", 1)[1]
        for form in (place, data_form):
            if name in form.fields:
                form.add_error(name, message)
                break
        else:
            place.add_error(None, f"{name}: {message}")


def _household_view(actor: Any, reference: str, purpose: str) -> Any:
    return household_services.household_read(actor=actor, reference=reference, purpose=purpose)


@staff_page(Perm.HOUSEHOLD_READ)
def household_find(request: HttpRequest) -> HttpResponse:
    reference = re.sub(r"[^A-Z0-9-]", "", request.GET.get("reference", "").upper())[:12]
    if reference:
        return redirect("backoffice:household_detail", reference=reference)
    return render(request, "backoffice/household_find.html", {})


@staff_page(Perm.HOUSEHOLD_READ)
def household_detail(request: HttpRequest, reference: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    view = _household_view(actor, reference, PURPOSE_HOUSEHOLD)
    score = None
    if actor.can(Perm.SCORE_READ):
        try:
            score = scoring_services.score_read(actor=actor, reference=reference,
                                                purpose=PURPOSE_HOUSEHOLD)
        except NotFound:
            score = None
    return render(request, "backoffice/household.html", {
        "view": view, "score": score,
        "can_discrepancies": actor.can(Perm.VERIFICATION_READ),
        "can_reviews": actor.can(Perm.REVIEW_READ)})


@staff_page(Perm.HOUSEHOLD_READ)
def household_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    view = _household_view(actor, reference, "registration receipt")
    return render(request, "backoffice/receipt.html",
                  {"view": view, "centre": getattr(request.user, "centre", None)})


# ---------------------------------------------------------------------------------------------
# Duplicate clusters (sijill.dedup)


@staff_page(Perm.DEDUP_REVIEW)
def cluster_list(request: HttpRequest) -> HttpResponse:
    band = request.GET.get("band") or None
    rows = (DuplicateCluster.objects.filter(status=DuplicateCluster.Status.OPEN)
            .prefetch_related("members__person"))
    if band in DuplicateCluster.Band.values:
        rows = rows.filter(band=band)
    return render(request, "backoffice/cluster_list.html",
                  {"rows": rows.order_by("-min_probability", "id")[:100], "band": band,
                   "bands": DuplicateCluster.Band.choices})


@staff_page(Perm.DEDUP_REVIEW)
@require_http_methods(["GET", "POST"])
def cluster_detail(request: HttpRequest, cluster_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    cluster = (DuplicateCluster.objects.prefetch_related("members__person")
               .filter(pk=cluster_id).first())
    if cluster is None:
        raise NotFound(_("No duplicate cluster has this number."))
    members = list(cluster.members.all())
    form = ClusterDecisionForm(request.POST or None, members=[m.person.idcs for m in members])
    if request.method == "POST":
        actor.require(Perm.DEDUP_DECIDE)
        if form.is_valid():
            try:
                if form.cleaned_data["decision"] == "merge":
                    dedup_services.cluster_merge(
                        actor=actor, cluster_id=cluster.pk,
                        survivor_idcs=form.cleaned_data["survivor_idcs"] or None,
                        reason=form.cleaned_data["reason"])
                else:
                    dedup_services.cluster_mark_distinct(actor=actor, cluster_id=cluster.pk,
                                                         reason=form.cleaned_data["reason"])
            except (ValidationFailed, Conflict) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Decision recorded."))
                return redirect("backoffice:cluster_list")
    else:
        audit_record_many(actor=actor, items=[
            AuditItem(action="read", entity="person", entity_id=m.person.idcs,
                      subject=m.person.idcs, purpose="duplicate review",
                      detail={"cluster": cluster.pk}) for m in members])
    in_household = dedup_services.persons_in_household([m.person_id for m in members])
    return render(request, "backoffice/cluster_detail.html",
                  {"cluster": cluster, "members": members, "in_household": in_household,
                   "form": form, "can_decide": actor.can(Perm.DEDUP_DECIDE)})


# ---------------------------------------------------------------------------------------------
# Analysts and operators: formulas, impact reports


@staff_page(Perm.FORMULA_MANAGE)
def formula_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(request, "backoffice/formula_list.html",
                  {"rows": scoring_services.formula_list(actor=actor)})


@staff_page(Perm.FORMULA_MANAGE)
@require_http_methods(["GET", "POST"])
def formula_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from sijill.backoffice.forms import ActivateForm

    actor = request.actor  # type: ignore[attr-defined]
    version = scoring_services.formula_get(actor=actor, pk=pk)
    activating = request.method == "POST" and request.POST.get("action") == "activate"
    form = ImpactForm(request.POST if request.method == "POST" and not activating else None)
    activate = ActivateForm(request.POST if activating else None, prefix="activate")
    if activating:
        actor.require(Perm.FORMULA_ACTIVATE)
        if activate.is_valid():
            try:
                run = scoring_services.formula_activate(actor=actor, pk=version.pk)
            except Conflict as exc:
                apply_errors(activate, exc)
            else:
                messages.success(request, _("Version activated: the registry is being "
                                            "rescored."))
                return redirect("backoffice:run_detail", pk=run.pk)
    elif request.method == "POST" and form.is_valid():
        try:
            run = scoring_services.impact_start(actor=actor, formula_pk=version.pk,
                                                comparison=form.cleaned_data["comparison"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Impact report queued."))
            return redirect("backoffice:run_detail", pk=run.pk)
    formula = scoring_services.formula_of(version)
    return render(request, "backoffice/formula_detail.html", {
        "version": version, "formula": formula, "form": form, "activate": activate,
        "can_activate": actor.can(Perm.FORMULA_ACTIVATE) and version.status != "active",
        "runs": scoring_services.run_list(actor=actor, formula_pk=version.pk, limit=20)})


def _region_names() -> dict[str, str]:
    return {r.code: r.name for r in Region.objects.all()}


def _milieu_name(code: str) -> str:
    return {"urban": _("Urban"), "rural": _("Rural")}.get(code, code)


@staff_page(Perm.FORMULA_MANAGE)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    run = scoring_services.run_get(actor=actor, pk=pk)
    regions = _region_names()
    rtl = get_language_bidi()
    thresholds = []
    for t in (run.result or {}).get("thresholds", []):
        rows = [(f"{regions.get(r['region'], r['region'])}", r["eligible_after"],
                 num(r["eligible_after"])) for r in t.get("by_region", [])]
        thresholds.append({**t, "chart": charts.hbars(rows, rtl=rtl),
                           "by_region": [{**r, "name": regions.get(r["region"], r["region"])}
                                         for r in t.get("by_region", [])],
                           "by_milieu": [{**r, "name": _milieu_name(r["milieu"])}
                                         for r in t.get("by_milieu", [])]})
    return render(request, "backoffice/run_detail.html",
                  {"run": run, "result": run.result or {}, "thresholds": thresholds})


# ---------------------------------------------------------------------------------------------
# Programs and the targeting simulator


@staff_page(any_of=(Perm.PROGRAM_SIMULATE, Perm.PROGRAM_MANAGE))
def program_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    programs = program_services.program_list(actor=actor)
    language = get_language() or "ar"
    return render(request, "backoffice/program_list.html",
                  {"rows": [{"program": p, "name": p.name(language)} for p in programs]})


@staff_page(any_of=(Perm.PROGRAM_SIMULATE, Perm.PROGRAM_MANAGE))
def program_simulator(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    program = program_services.program_read(actor=actor, code=code)
    form = SimulatorForm(request.GET or None)
    params: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        params = {"threshold": form.cleaned_data["threshold"],
                  "budget": form.cleaned_data["budget"],
                  "comparison": form.cleaned_data["comparison"] or None}
    result = program_services.program_simulate(actor=actor, code=program.code, bins=30,
                                               **params)
    rtl = get_language_bidi()
    regions = _region_names()
    by_region = [{**r, "name": regions.get(r["region"], r["region"])}
                 for r in result["by_region"]]
    by_milieu = [{**r, "name": _milieu_name(r["milieu"])} for r in result["by_milieu"]]
    by_both = [{**r, "name": regions.get(r["region"], r["region"]),
                "milieu_name": _milieu_name(r["milieu"])} for r in result["by_region_and_milieu"]]
    coverage = charts.hbars([(r["name"], r["coverage"] * 100, percent(r["coverage"]))
                             for r in by_region], rtl=rtl, maximum=100.0)
    cost = charts.hbars([(r["name"], r["monthly_cost"], num(r["monthly_cost"]))
                         for r in by_region], rtl=rtl)
    milieu_cov = charts.hbars([(r["name"], r["coverage"] * 100, percent(r["coverage"]))
                               for r in by_milieu], rtl=rtl, maximum=100.0)
    milieu_cost = charts.hbars([(r["name"], r["monthly_cost"], num(r["monthly_cost"]))
                                for r in by_milieu], rtl=rtl)
    language = get_language() or "ar"
    return render(request, "backoffice/simulator.html", {
        "program": program, "program_name": program.name(language), "form": form,
        "result": result, "histogram": charts.histogram(result["histogram"], rtl=rtl),
        "histogram_rows": _histogram_rows(result["histogram"]),
        "by_region": by_region, "by_milieu": by_milieu, "by_both": by_both,
        "coverage_chart": coverage, "cost_chart": cost, "milieu_coverage_chart": milieu_cov,
        "milieu_cost_chart": milieu_cost,
    })


def _histogram_rows(h: dict[str, Any]) -> list[dict[str, Any]]:
    edges = h.get("edges") or []
    return [{"low": edges[i], "high": edges[i + 1], "households": n,
             "eligible": h["eligible"][i]} for i, n in enumerate(h.get("households") or [])
            if n]


# ---------------------------------------------------------------------------------------------
# Operators: the index notice's time limit (sijill.notifications)


NOTICE_STATES = ("at_risk", "missed", "pending", "late", "on_time")


def _notice_state_name(state: str) -> str:
    return {"at_risk": _("At risk"), "missed": _("Missed"), "pending": _("Pending"),
            "late": _("Sent late"), "on_time": _("Sent on time")}.get(state, state)


@staff_page(Perm.NOTICE_MONITOR)
def notice_dashboard(request: HttpRequest) -> HttpResponse:
    from sijill.notifications import selectors as notice_selectors

    actor = request.actor  # type: ignore[attr-defined]
    wanted = [s for s in request.GET.getlist("state") if s in NOTICE_STATES] or [
        "at_risk", "missed"]
    rows = notice_selectors.notice_deadlines_read(actor=actor, states=tuple(wanted), limit=500)
    counts = notice_selectors.notice_deadline_counts_read(actor=actor, states=tuple(wanted))
    chart = charts.hbars([(str(_notice_state_name(s)), n, num(n)) for s, n in counts.items()],
                         rtl=get_language_bidi())
    outbox = notice_selectors.outbox_counts(actor=actor)
    return render(request, "backoffice/notice_dashboard.html", {
        "rows": [{"row": r, "state_name": _notice_state_name(r.state)} for r in rows],
        "counts": [{"state": s, "name": _notice_state_name(s), "count": n}
                   for s, n in counts.items()],
        "chart": chart, "outbox": outbox, "wanted": wanted,
        "states": [(s, _notice_state_name(s)) for s in NOTICE_STATES],
        "limit_days": notice_selectors.conf.notice_limit_days(),
        "can_open": actor.can(Perm.HOUSEHOLD_READ),
    })


# ---------------------------------------------------------------------------------------------
# Discrepancy queue (sijill.verification)


@staff_page(Perm.VERIFICATION_READ)
def discrepancy_list(request: HttpRequest) -> HttpResponse:
    from sijill.verification import selectors as verification_selectors

    actor = request.actor  # type: ignore[attr-defined]
    status = request.GET.get("status") or "open"
    severity = request.GET.get("severity") or None
    if status not in verification_selectors.STATUSES:
        status = "open"
    if severity not in verification_selectors.SEVERITIES:
        severity = None
    household = request.GET.get("household", "").strip().upper()[:12] or None
    rows = verification_selectors.discrepancy_queue(actor=actor, status=status,
                                                    severity=severity, household=household,
                                                    limit=100, purpose="discrepancy queue")
    return render(request, "backoffice/discrepancy_list.html",
                  {"rows": rows, "status": status, "severity": severity,
                   "household": household})


@staff_page(Perm.VERIFICATION_READ)
@require_http_methods(["GET", "POST"])
def discrepancy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from sijill.backoffice.forms import DiscrepancyDecisionForm
    from sijill.verification import services as verification_services
    from sijill.verification.models import Discrepancy
    from sijill.verification.selectors import visible_to

    actor = request.actor  # type: ignore[attr-defined]
    found = (Discrepancy.objects.select_related("household__commune", "household__declarant")
             .filter(pk=pk).first())
    if found is None or not visible_to(actor, found.household):
        raise NotFound()
    form = DiscrepancyDecisionForm(request.POST or None)
    if request.method == "POST":
        actor.require(Perm.VERIFICATION_DECIDE)
        if form.is_valid():
            try:
                verification_services.discrepancy_decide(
                    actor=actor, pk=found.pk, decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"])
            except (ValidationFailed, Conflict) as exc:
                apply_errors(form, exc, {"discrepancy": "decision"})
            else:
                messages.success(request, _("Decision recorded."))
                return redirect("backoffice:discrepancy_list")
    else:
        audit_record(actor=actor, action="read", entity="discrepancy", entity_id=found.pk,
                     subject=found.household.declarant.idcs, purpose="discrepancy review",
                     detail={"household": found.household.reference})
    return render(request, "backoffice/discrepancy_detail.html",
                  {"d": found, "form": form, "can_decide": actor.can(Perm.VERIFICATION_DECIDE)})


# ---------------------------------------------------------------------------------------------
# Review and complaint queues (sijill.cases)


@staff_page(Perm.REVIEW_READ)
def review_list(request: HttpRequest) -> HttpResponse:
    from sijill.cases import selectors as case_selectors

    actor = request.actor  # type: ignore[attr-defined]
    mine = request.GET.get("mine") == "1"
    show_all = request.GET.get("all") == "1"
    household = request.GET.get("household", "").strip().upper()[:12] or None
    rows = case_selectors.review_queue(actor=actor, open_only=not (show_all or household),
                                       assigned_to_me=mine, household=household, limit=100)
    return render(request, "backoffice/review_list.html",
                  {"rows": rows, "mine": mine, "show_all": show_all, "household": household})


@staff_page(Perm.REVIEW_READ)
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, reference: str) -> HttpResponse:
    from sijill.backoffice.forms import ReviewDecisionForm, ReviewEvidenceForm
    from sijill.cases import selectors as case_selectors
    from sijill.cases import services as case_services

    actor = request.actor  # type: ignore[attr-defined]
    action = request.POST.get("action") if request.method == "POST" else None
    evidence = ReviewEvidenceForm(request.POST if action == "evidence" else None,
                                  prefix="evidence")
    decision = ReviewDecisionForm(request.POST if action == "decide" else None,
                                  prefix="decision")
    if action:
        case_selectors.review_get(actor=actor, reference=reference)  # 404 before 403
        actor.require(Perm.REVIEW_DECIDE)
        try:
            if action == "assign":
                case_services.review_assign(actor=actor, reference=reference)
                messages.success(request, _("The review is assigned to you."))
                return redirect("backoffice:review_detail", reference=reference)
            if action == "evidence" and evidence.is_valid():
                case_services.review_add_evidence(actor=actor, reference=reference,
                                                  **evidence.cleaned_data)
                messages.success(request, _("Evidence recorded."))
                return redirect("backoffice:review_detail", reference=reference)
            if action == "decide" and decision.is_valid():
                case_services.review_decide(actor=actor, reference=reference,
                                            decision="confirmed",
                                            note=decision.cleaned_data["note"])
                messages.success(request, _("Decision recorded."))
                return redirect("backoffice:review_list")
        except (ValidationFailed, Conflict) as exc:
            apply_errors(decision if action == "decide" else evidence, exc)
    review = case_selectors.review_read(actor=actor, reference=reference)
    return render(request, "backoffice/review_detail.html", {
        "review": review, "events": list(review.events.order_by("at", "id")),
        "evidence_form": evidence, "decision_form": decision,
        "can_decide": actor.can(Perm.REVIEW_DECIDE),
        "mine": review.assigned_to_id == actor.user_id,
    })


@staff_page(Perm.COMPLAINT_HANDLE)
def complaint_list(request: HttpRequest) -> HttpResponse:
    from sijill.cases import selectors as case_selectors

    actor = request.actor  # type: ignore[attr-defined]
    mine = request.GET.get("mine") == "1"
    show_all = request.GET.get("all") == "1"
    rows = case_selectors.complaint_queue(actor=actor, open_only=not show_all,
                                          assigned_to_me=mine, limit=100)
    today = timezone.localdate()
    return render(request, "backoffice/complaint_list.html",
                  {"rows": rows, "mine": mine, "show_all": show_all, "today": today})


@staff_page(Perm.COMPLAINT_HANDLE)
@require_http_methods(["GET", "POST"])
def complaint_detail(request: HttpRequest, reference: str) -> HttpResponse:
    from sijill.backoffice.forms import ComplaintAnswerForm
    from sijill.cases import selectors as case_selectors
    from sijill.cases import services as case_services

    actor = request.actor  # type: ignore[attr-defined]
    action = request.POST.get("action") if request.method == "POST" else None
    form = ComplaintAnswerForm(request.POST if action == "answer" else None, prefix="answer")
    if action:
        try:
            if action == "assign":
                case_services.complaint_assign(actor=actor, reference=reference)
                messages.success(request, _("The complaint is assigned to you."))
                return redirect("backoffice:complaint_detail", reference=reference)
            if action == "answer" and form.is_valid():
                case_services.complaint_answer(actor=actor, reference=reference,
                                               response=form.cleaned_data["response"])
                messages.success(request, _("The answer is recorded and sent."))
                return redirect("backoffice:complaint_list")
        except (ValidationFailed, Conflict) as exc:
            apply_errors(form, exc)
    complaint = case_selectors.complaint_get(actor=actor, reference=reference,
                                             perm=Perm.COMPLAINT_HANDLE)
    audit_record(actor=actor, action="read", entity="complaint", entity_id=reference,
                 subject=complaint.complainant.idcs)
    return render(request, "backoffice/complaint_detail.html", {
        "complaint": complaint, "events": list(complaint.events.order_by("at", "id")),
        "form": form, "mine": complaint.assigned_to_id == actor.user_id,
        "overdue": complaint.status != "answered" and timezone.localdate() > complaint.due_on,
    })


def _initial_from(declaration: Declaration) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Form initial values from a declaration (yes/no answers as the radio buttons' values)."""
    from dataclasses import asdict

    def plain(values: dict[str, Any]) -> dict[str, Any]:
        return {k: ("true" if v else "false") if isinstance(v, bool) else
                (v.value if hasattr(v, "value") else v) for k, v in values.items()}

    return plain(asdict(declaration.household)), [plain(asdict(m)) for m in declaration.members]


@staff_page(Perm.REVIEW_DECIDE)
@require_http_methods(["GET", "POST"])
def review_correct(request: HttpRequest, reference: str) -> HttpResponse:
    """The reviewer corrects the household's data: the corrected declaration becomes the next
    version and the index is recomputed at once (cases.review_decide, decision "corrected")."""
    from sijill.backoffice.forms import ReviewDecisionForm
    from sijill.cases import selectors as case_selectors
    from sijill.cases import services as case_services

    actor = request.actor  # type: ignore[attr-defined]
    review = case_selectors.review_get(actor=actor, reference=reference)
    if review.status != "assigned" or (review.assigned_to_id != actor.user_id
                                       and actor.role != "admin"):
        messages.warning(request, _("Assign the review to yourself before correcting the data."))
        return redirect("backoffice:review_detail", reference=reference)
    view = household_services.household_read(actor=actor, reference=review.household.reference,
                                              purpose=f"score review {reference}")
    assert view.declaration is not None  # a household under review was declared and scored
    current = household_services.declaration_of(view.declaration)
    household_initial, members_initial = _initial_from(current)
    posted = request.POST if request.method == "POST" else None
    data_form = HouseholdDataForm(posted, prefix="household", initial=household_initial)
    if posted is not None:
        members = _member_formset(request)
    else:
        members = MemberFormSet(prefix="members", initial=members_initial)
    note = ReviewDecisionForm(posted, prefix="decision")
    adding = posted is not None and "add_member" in posted
    if posted is not None and not adding and data_form.is_valid() and members.is_valid() \
            and note.is_valid():
        try:
            declaration = Declaration.from_dict({
                "household": {k: data_form.cleaned_data[k] for k in data_form.fields},
                "members": [m.record() for m in members.forms if m.cleaned_data]})
            case_services.review_decide(
                actor=actor, reference=reference, decision="corrected",
                note=note.cleaned_data["note"],
                correction=case_services.Correction(declaration=declaration))
        except (ValidationFailed, Conflict) as exc:
            _household_errors(exc, note, data_form, members)
        else:
            messages.success(request, _("The data is corrected and the index recomputed."))
            return redirect("backoffice:review_detail", reference=reference)
    return render(request, "backoffice/review_correct.html",
                  {"review": review, "view": view, "data_form": data_form, "members": members,
                   "note": note})


@staff_page(Perm.PERSON_SEARCH)
def person_search(request: HttpRequest) -> HttpResponse:
    """Find an enrolled person: by document (exact), or by names, sex and birth date (scored
    probable matches). Every hit shown is audited (population.access.person_search)."""
    from sijill.backoffice.forms import PersonSearchForm
    from sijill.population.matching import Identity

    actor = request.actor  # type: ignore[attr-defined]
    form = PersonSearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        document = d["cnie"].strip().upper()
        identity = None
        if d["birth_date"] and d["sex"] and (d["family_name_latin"] or d["family_name_ar"]):
            identity = Identity("", d["family_name_ar"], d["first_name_latin"],
                                d["family_name_latin"], d["sex"], d["birth_date"])
        is_cnie = bool(re.fullmatch(r"[A-Z]{1,2}\d+", document))
        try:
            results = population_access.person_search(
                actor=actor, identity=identity, purpose=PURPOSE_ENROLMENT,
                cnie=document if is_cnie else None,
                residence_card=document if document and not is_cnie else None)
        except ValidationFailed as exc:
            apply_errors(form, exc)
    return render(request, "backoffice/person_search.html", {"form": form, "results": results})
