"""Staff sign-in in two steps: password, then a TOTP code (django-otp).

1. `sign_in`: user name and password of a staff account (a citizen account is refused with
   the same message as a wrong password). Nobody is signed in yet: the account waits in the
   session for five minutes.
2. `sign_in_code`: the six-digit code of the account's authenticator. Only then is the session
   signed in (Django's login, with the device recorded by django-otp), so a session the API's
   StaffSession accepts has always passed both factors.
   `sign_in_enrol`: an account with no authenticator yet enrols one here (QR code and secret),
   proving it with a first code.

Throttled with sijill.security.throttle, by account and by client address, for the password
and for the code; the code is also throttled by django-otp's own per-device back-off.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sijill.accounts.auth import actor_for_user
from sijill.accounts.models import User
from sijill.audit.services import audit_record
from sijill.backoffice import otp
from sijill.backoffice.access import is_staff_user, staff_page
from sijill.core.errors import TooManyRequests
from sijill.security.throttle import throttle_hit, throttle_reset

PENDING = "backoffice_pending"
ENROLLING = "backoffice_enrolling_device"
PENDING_SECONDS = 300
WINDOW = timedelta(minutes=15)
PASSWORD_LIMIT_PER_ACCOUNT = 10
PASSWORD_LIMIT_PER_ADDRESS = 50
CODE_LIMIT_PER_ACCOUNT = 10


class SignInForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username",
                                                             "autocapitalize": "none"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "current-password"}))


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Six-digit code from your authenticator app"), regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Type the six digits shown by the app.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9]{6}", "maxlength": "6"}))


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("backoffice:home")


def _pending_user(request: HttpRequest) -> tuple[User | None, str]:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, ""
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None or not is_staff_user(user):
        return None, ""
    return user, pending.get("next", "")


def _throttled(request: HttpRequest, template: str, context: dict[str, Any],
               exc: TooManyRequests) -> HttpResponse:
    context["throttled"] = True
    context["error"] = exc.message
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "next": _next_url(request)}
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        try:
            # Count the attempt first (outside any transaction), then check the password.
            throttle_hit(scope="staff.password.account", key=username.lower(),
                         limit=PASSWORD_LIMIT_PER_ACCOUNT, window=WINDOW)
            throttle_hit(scope="staff.password.address", key=_client_address(request),
                         limit=PASSWORD_LIMIT_PER_ADDRESS, window=WINDOW)
        except TooManyRequests as exc:
            return _throttled(request, "backoffice/sign_in.html", context, exc)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None or not is_staff_user(user):
            context["error"] = _("The user name or the password is not right.")
            return render(request, "backoffice/sign_in.html", context, status=200)
        if request.user.is_authenticated:
            auth_logout(request)  # a different account signs in: start from a clean session
        request.session.cycle_key()
        request.session[PENDING] = {"user": user.pk, "at": time.time(),
                                    "next": context["next"]}
        if otp.confirmed_device(user) is None:  # type: ignore[arg-type]
            return redirect("backoffice:sign_in_enrol")
        return redirect("backoffice:sign_in_code")
    return render(request, "backoffice/sign_in.html", context)


def _complete(request: HttpRequest, user: User, device: Any, target: str) -> HttpResponse:
    user.otp_device = device  # type: ignore[attr-defined]  # django-otp records it on login
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop(PENDING, None)
    request.session.pop(ENROLLING, None)
    throttle_reset(scope="staff.password.account", key=user.get_username().lower())
    audit_record(actor=actor_for_user(user), action="sign_in", entity="user", entity_id=user.pk,
                 detail={"second_factor": "totp"})
    return HttpResponseRedirect(target or reverse("backoffice:home"))


def _code_hit(request: HttpRequest, user: User) -> None:
    throttle_hit(scope="staff.code.account", key=str(user.pk), limit=CODE_LIMIT_PER_ACCOUNT,
                 window=WINDOW)


@never_cache
def sign_in_code(request: HttpRequest) -> HttpResponse:
    user, target = _pending_user(request)
    if user is None:
        return redirect("backoffice:sign_in")
    device = otp.confirmed_device(user)
    if device is None:
        return redirect("backoffice:sign_in_enrol")
    form = CodeForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "username": user.get_username()}
    if request.method == "POST" and form.is_valid():
        try:
            _code_hit(request, user)
        except TooManyRequests as exc:
            return _throttled(request, "backoffice/sign_in_code.html", context, exc)
        if device.verify_token(form.cleaned_data["code"].strip()):
            return _complete(request, user, device, target)
        context["error"] = _("This code is not right, or it was already used. Wait for the "
                             "next code and try again.")
    return render(request, "backoffice/sign_in_code.html", context)


def _enrolment(request: HttpRequest, user: User, *, done_url: str | None) -> HttpResponse:
    device = otp.pending_device(user, request.session.get(ENROLLING))
    request.session[ENROLLING] = device.pk
    form = CodeForm(request.POST or None)
    secret = otp.secret_base32(device)
    context: dict[str, Any] = {
        "form": form, "username": user.get_username(), "secret": otp.grouped(secret),
        "otpauth": device.config_url,
        "qr": otp.qr_svg(device.config_url, label=str(_("QR code of your authenticator key"))),
        "signed_in": done_url is not None,
    }
    if request.method == "POST" and form.is_valid():
        try:
            _code_hit(request, user)
        except TooManyRequests as exc:
            return _throttled(request, "backoffice/enrol_device.html", context, exc)
        if otp.device_confirm(user=user, device=device, token=form.cleaned_data["code"].strip()):
            if done_url is None:
                return _complete(request, user, device, _pending_user(request)[1])
            user.otp_device = device  # type: ignore[attr-defined]
            from django_otp import login as otp_login

            otp_login(request, device)
            request.session.pop(ENROLLING, None)
            return HttpResponseRedirect(done_url)
        context["error"] = _("This code is not right. Check the time of your phone and type "
                             "the code shown now.")
    return render(request, "backoffice/enrol_device.html", context)


@never_cache
def sign_in_enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in of an account without an authenticator: enrol one, then sign in."""
    user, _target = _pending_user(request)
    if user is None:
        return redirect("backoffice:sign_in")
    if otp.confirmed_device(user) is not None:
        return redirect("backoffice:sign_in_code")
    return _enrolment(request, user, done_url=None)


@never_cache
@staff_page()
def device_replace(request: HttpRequest) -> HttpResponse:
    """A signed-in staff member replaces their authenticator (new phone)."""
    return _enrolment(request, request.user, done_url=reverse("backoffice:home"))  # type: ignore[arg-type]


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("backoffice:sign_in")
