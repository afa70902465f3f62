"""Every portal page, as every role: no server error; a role that may not see a page is sent to
sign in (anonymous) or refused with 403 (staff); a citizen sees their pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from sijill.portal import urls as portal_urls
from sijill.portal.wizard import STEP_NAMES
from sijill.testing import factories

pytestmark = pytest.mark.django_db

PUBLIC = {"home", "signin", "signin_code"}
POST_ONLY = {"signout"}


def portal_paths() -> list[tuple[str, str]]:
    out = []
    for pattern in portal_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        name = pattern.name
        if name == "wizard_step":
            out += [(name, reverse("portal:wizard_step", kwargs={"step": s}))
                    for s in [*STEP_NAMES, "nonsense"]]
        elif name == "complaint":
            out.append((name, reverse("portal:complaint", kwargs={"reference": "REC-00000000"})))
        else:
            out.append((name, reverse(f"portal:{name}")))
    return sorted(out, key=lambda row: row[0] in POST_ONLY)  # signing out comes last


def _client_for(role: str, request: Any) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    if role == "citizen":
        person = factories.person_create()
        user = factories.user_create(username=f"c-{person.idcs}", role="citizen",
                                     idcs=person.idcs)
    elif role == "citizen_with_household":
        from sijill.households.tests.factories import household_create

        household = household_create()
        person = household.declarant
        user = factories.user_create(username=f"c-{person.idcs}", role="citizen",
                                     idcs=person.idcs)
    elif role == "agent":
        user = request.getfixturevalue("agent_a")
    else:
        user = factories.user_create(username=role, role=role)
    client.force_login(user)
    return client


ROLES = ["anonymous", "citizen", "citizen_with_household", "agent", "analyst", "admin",
         "verifier", "reviewer", "program", "partner"]


@pytest.mark.parametrize("role", ROLES)
def test_every_portal_page_answers_each_role_without_error(role, request):
    client = _client_for(role, request)
    for name, path in portal_paths():
        response = client.post(path) if name in POST_ONLY else client.get(path)
        status = response.status_code
        assert status < 500, (role, path, status)
        if name in PUBLIC or name in POST_ONLY:
            assert status in (200, 302), (role, path, status)
        elif role == "anonymous":
            assert status == 302 and response["Location"].startswith("/sign-in/"), (path, status)
        elif role.startswith("citizen"):
            assert status in (200, 302, 404), (role, path, status)
            if status == 302:
                assert not response["Location"].startswith("/sign-in/"), (role, path)
        else:
            assert status == 403, (role, path, status)


def test_a_citizen_with_a_household_sees_each_of_their_pages(request):
    client = _client_for("citizen_with_household", request)
    for path in ("/me/", "/me/household/", "/me/index/", "/me/accesses/", "/me/review/",
                 "/me/complaints/", "/me/notices/"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        # The content security policy allows no inline script or style (attributes included).
        assert "<script>" not in page and "style=" not in page and "<style" not in page, path
