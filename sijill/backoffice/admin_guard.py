"""Django's admin is for super-users only, and only after the two-step staff sign-in.

- `has_permission`: an active super-user (a staff account that is not a super-user, an agent or
  an analyst, is refused: the admin answers with its sign-in redirect).
- The admin's own password-only sign-in page is replaced by a redirect to the back-office
  sign-in (password, then a TOTP code): no way into the admin with a password alone.
"""

from __future__ import annotations

from types import MethodType
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


def superuser_only(self: Any, request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


def staff_sign_in(self: Any, request: HttpRequest, extra_context: Any = None
                  ) -> HttpResponseRedirect:
    target = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('backoffice:sign_in')}?{urlencode({'next': target})}")


def install(site: admin.AdminSite = admin.site) -> None:
    site.has_permission = MethodType(superuser_only, site)  # type: ignore[method-assign]
    site.login = MethodType(staff_sign_in, site)  # type: ignore[method-assign]
