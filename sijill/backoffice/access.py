"""Who may open a back-office page: signed in with both factors, a staff role, a permission.

The actor of a page is built by `sijill.accounts.auth.actor_for_user`, the very function behind
the API's StaffSession: the pages and the API share one permission model (`Actor.can`), and the
object-level limits (an agent's provinces, a held enrolment's centre) stay in the services.

- not signed in, or signed in without the second factor: redirect to the staff sign-in;
- a citizen account, or a staff role without the page's permission: 403;
- a domain error raised by a service: PermissionDenied -> 403, NotFound -> 404 (the error page
  says so in the caller's language; existence of another centre's data is not revealed);
- every answer is marked not to be cached (personal data on shared computers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control

from sijill.accounts.actors import Actor
from sijill.accounts.auth import actor_for_user
from sijill.accounts.roles import Perm, Role
from sijill.core.errors import NotFound, PermissionDenied

STAFF_ROLES = frozenset(r.value for r in Role) - {Role.CITIZEN.value}

View = Callable[..., HttpResponse]


def is_staff_user(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in STAFF_ROLES)


def is_verified(request: HttpRequest) -> bool:
    """Signed in with the second factor (django-otp's middleware sets is_verified)."""
    verified = getattr(request.user, "is_verified", None)
    return bool(verified and verified())


def sign_in_redirect(request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('backoffice:sign_in')}?{query}")


def forbidden(request: HttpRequest, message: Any = None) -> HttpResponse:
    return render(request, "backoffice/error.html",
                  {"status": 403, "message": message or PermissionDenied.default_message},
                  status=403)


def not_found(request: HttpRequest, message: Any = None) -> HttpResponse:
    return render(request, "backoffice/error.html",
                  {"status": 404, "message": message or NotFound.default_message}, status=404)


def staff_page(*perms: Perm, any_of: Iterable[Perm] = ()) -> Callable[[View], View]:
    """Decorate a view: staff signed in with both factors, holding every perm in `perms` and at
    least one of `any_of` when given. The view receives `request.actor`."""
    wanted_any = tuple(any_of)

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return sign_in_redirect(request)
            if not is_staff_user(user):
                return forbidden(request)
            if not is_verified(request):
                return sign_in_redirect(request)
            actor: Actor = actor_for_user(user)  # type: ignore[arg-type]
            request.actor = actor  # type: ignore[attr-defined]
            if not all(actor.can(p) for p in perms):
                return forbidden(request)
            if wanted_any and not any(actor.can(p) for p in wanted_any):
                return forbidden(request)
            try:
                response = view(request, *args, **kwargs)
            except PermissionDenied as exc:
                response = forbidden(request, exc.message)
            except NotFound as exc:
                response = not_found(request, exc.message)
            # Staff pages show personal data, often on a centre's shared computer: no copy in
            # any cache, the browser's back button included.
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
            return response

        wrapper.staff_perms = perms  # type: ignore[attr-defined]
        wrapper.staff_any_of = wanted_any  # type: ignore[attr-defined]
        return wrapper

    return decorate
