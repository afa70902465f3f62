"""Citizen portal pages: server-rendered and thin. They call the apps' services and selectors
with the citizen's Actor (the same one the API builds from the session), and show the domain
errors those raise."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sijill.accounts.actors import Actor
from sijill.accounts.auth import actor_for_user
from sijill.accounts.roles import Role
from sijill.core.errors import NotFound, SijillError, TooManyRequests
from sijill.households import services as households
from sijill.portal import selectors, signin
from sijill.portal.chart import chart_build
from sijill.portal.forms import CodeForm, IdcsForm
from sijill.scoring import services as scoring

SIGNIN_IDCS = "portal_signin_idcs"


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def language() -> str:
    return (translation.get_language() or "ar")[:2]


def actor_of(request: HttpRequest) -> Actor:
    return actor_for_user(request.user)  # type: ignore[arg-type]


def forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/forbidden.html", status=403)


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous: to the sign-in page (and back). Staff: 403 (they use the back office)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('portal:signin')}?next={request.get_full_path()}")
        if getattr(user, "role", None) != Role.CITIZEN or not getattr(user, "idcs", None):
            return forbidden(request)
        return view(request, *args, **kwargs)

    return wrapper


def error_messages(error: SijillError) -> list[str]:
    messages = [str(f.message) for f in error.fields] or [str(error.message)]
    if isinstance(error, TooManyRequests):
        minutes = max(1, (error.retry_after + 59) // 60)
        messages = [_("Too many attempts. Try again in %(minutes)s minutes.")
                    % {"minutes": minutes}]
    return messages


# ---------------------------------------------------------------------------------------------
# Front door and sign-in


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and getattr(request.user, "role", None) == Role.CITIZEN:
        return redirect("portal:dashboard")
    return render(request, "portal/home.html")


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return reverse("portal:dashboard")


def signin_start(request: HttpRequest) -> HttpResponse:
    form = IdcsForm(request.POST or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST" and not form.is_valid():
        status = 422
    elif request.method == "POST":
        idcs = form.cleaned_data["idcs"]
        try:
            signin.signin_code_send(idcs=idcs, client=client_address(request))
        except SijillError as error:
            errors, status = error_messages(error), error.status
        else:
            request.session[SIGNIN_IDCS] = idcs
            return redirect(f"{reverse('portal:signin_code')}?next={_next(request)}")
    return render(request, "portal/signin.html", {"form": form, "errors": errors,
                                                  "next": _next(request)}, status=status)


def signin_code(request: HttpRequest) -> HttpResponse:
    idcs = request.session.get(SIGNIN_IDCS)
    if not idcs:
        return redirect("portal:signin")
    form = CodeForm(request.POST or None)
    errors: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = signin.signin_code_verify(idcs=idcs, code=form.cleaned_data["code"],
                                             client=client_address(request))
        except SijillError as error:
            errors, status = error_messages(error), error.status
        else:
            target = _next(request)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(target)
    return render(request, "portal/signin_code.html", {
        "form": form, "errors": errors, "idcs_tail": idcs[-3:], "next": _next(request),
        "minutes": int(signin.CODE_TTL.total_seconds() // 60)}, status=status)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")


# ---------------------------------------------------------------------------------------------
# The citizen's own pages


@citizen_required
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    household = selectors.household_of_citizen(actor=actor)
    return render(request, "portal/dashboard.html", {
        "household": household, "nav": "home",
        "is_declarant": household is not None and household.declarant.idcs == actor.idcs})


@citizen_required
def household_detail(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    household = selectors.household_of_citizen(actor=actor)
    if household is None:
        return redirect("portal:dashboard")
    purpose = "portal: own household"
    view = households.household_read(actor=actor, reference=household.reference,
                                     purpose=purpose)
    from sijill.cases.selectors import my_household_history

    history = my_household_history(actor=actor)
    events = list(reversed(history.events)) if history else []
    who = selectors.actors_described({e.actor_label for e in events}, me=actor)
    return render(request, "portal/household.html", {
        "household": view.household, "members": view.members, "declaration": view.declaration,
        "is_declarant": view.household.declarant.idcs == actor.idcs,
        "events": [{"event": e, "who": who[e.actor_label]} for e in events],
        "changes": list(reversed(history.changes)) if history else [],
        "nav": "household"})


@citizen_required
def index_detail(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    household = selectors.household_of_citizen(actor=actor)
    if household is None:
        return redirect("portal:dashboard")
    lang = language()
    explanation = None
    with contextlib.suppress(NotFound):
        explanation = scoring.score_explanation(actor=actor, reference=household.reference,
                                                language=lang, purpose="portal: own index")
    chart = None
    if explanation is not None:
        chart = chart_build(explanation["raised"] + explanation["lowered"],
                            rtl=translation.get_language_bidi())
    programs = selectors.eligibility_of_household(actor=actor, household=household,
                                                  language=lang)
    return render(request, "portal/index.html", {
        "household": household, "explanation": explanation, "chart": chart,
        "programs": programs, "nav": "index"})


@citizen_required
def accesses(request: HttpRequest) -> HttpResponse:
    from sijill.audit.services import accesses_read

    before = request.GET.get("before", "")
    page_size = 50
    rows = accesses_read(actor=actor_of(request), limit=page_size,
                         before_seq=int(before) if before.isdigit() and int(before) else None)
    older = rows[-1].seq if len(rows) == page_size else None
    return render(request, "portal/accesses.html", {"rows": rows, "older": older,
                                                    "nav": "accesses"})


@citizen_required
def notices(request: HttpRequest) -> HttpResponse:
    from sijill.notifications.selectors import notices_of_citizen

    return render(request, "portal/notices.html", {
        "rows": notices_of_citizen(actor=actor_of(request)), "nav": "notices"})
