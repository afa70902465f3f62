"""Only the declarant declares changes: other members are told so at once, not refused at the
last step of the wizard."""

from __future__ import annotations

import pytest
from django.test import Client

from sijill.households.tests.factories import household_create, person_create
from sijill.testing import factories

pytestmark = pytest.mark.django_db


def _signed_in(person) -> Client:
    user = factories.user_create(username=f"c-{person.idcs}", role="citizen", idcs=person.idcs)
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_a_member_who_is_not_the_declarant_sees_no_change_button_and_is_told_why():
    head, spouse = person_create(), person_create(sex="F")
    household_create(members=[(head, "head"), (spouse, "spouse")])
    member = _signed_in(spouse)
    for path in ("/me/", "/me/household/"):
        page = member.get(path).content.decode()
        assert "/me/update/" not in page
    assert "Only the household" in member.get("/me/household/").content.decode()
    r = member.get("/me/update/", follow=True)
    assert r.redirect_chain[-1][0].endswith("/me/")
    assert "Only the household" in r.content.decode()
    declarant = _signed_in(head)
    assert "/me/update/" in declarant.get("/me/household/").content.decode()
    assert declarant.get("/me/update/").status_code == 302  # into the wizard
