"""Staff sign-in: a password, then a TOTP code; first sign-in enrols the authenticator; the
session then carries the same Actor as the API's StaffSession."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from sijill.accounts.auth import actor_for_user
from sijill.backoffice.tests.conftest import signed_in, totp_now
from sijill.testing.factories import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _password(client: Client, username: str, password: str = DEMO_PASSWORD, **extra):
    return client.post("/backoffice/sign-in/", {"username": username, "password": password,
                                                **extra})


def test_an_agent_signs_in_with_a_password_then_a_code(agent_a):
    device = TOTPDevice.objects.create(user=agent_a, name="phone", confirmed=True)
    client = Client()
    answer = _password(client, "agent-a", next="/backoffice/persons/enrol/")
    assert answer.status_code == 302 and answer["Location"] == "/backoffice/sign-in/code/"
    # Between the two steps nobody is signed in: the pages still send to the sign-in.
    assert client.get("/backoffice/").status_code == 302
    answer = client.post("/backoffice/sign-in/code/", {"code": totp_now(device)})
    assert answer.status_code == 302 and answer["Location"] == "/backoffice/persons/enrol/"
    assert client.get("/backoffice/").status_code == 200


def test_the_session_acts_with_the_same_actor_as_the_api(agent_a):
    client = signed_in(agent_a)
    page = client.get("/backoffice/")
    assert page.wsgi_request.actor == actor_for_user(agent_a)
    # The API accepts the same session (StaffSession) with the same permissions.
    assert client.get("/api/v1/enrolments/held").status_code == 200


def test_it_refuses_a_wrong_code_and_a_reused_one(agent_a):
    device = TOTPDevice.objects.create(user=agent_a, name="phone", confirmed=True)
    client = Client()
    _password(client, "agent-a")
    with translation.override("en"):
        wrong = client.post("/backoffice/sign-in/code/", {"code": "000000"},
                            headers={"Accept-Language": "en"})
    assert wrong.status_code == 200 and client.get("/backoffice/").status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    code = totp_now(device)
    assert client.post("/backoffice/sign-in/code/", {"code": code}).status_code == 302
    other = Client()
    _password(other, "agent-a")
    again = other.post("/backoffice/sign-in/code/", {"code": code})
    assert again.status_code == 200  # the same code cannot be used twice


def test_a_wrong_password_or_a_citizen_account_is_refused_alike(citizen):
    client = Client()
    wrong = _password(client, "nobody", "bad-password-1")
    assert wrong.status_code == 200 and "sign-in/code" not in wrong.get("Location", "")
    as_citizen = _password(client, citizen.username)
    assert as_citizen.status_code == 200
    assert as_citizen.content.count(b'role="alert"') == wrong.content.count(b'role="alert"')


def test_the_first_sign_in_enrols_an_authenticator_shown_as_a_qr_code(agent_a):
    client = Client()
    answer = _password(client, "agent-a")
    assert answer["Location"] == "/backoffice/sign-in/authenticator/"
    page = client.get(answer["Location"])
    html = page.content.decode()
    assert "<svg" in html and "otpauth://totp/" in html and "<img" not in html
    device = TOTPDevice.objects.get(user=agent_a, confirmed=False)
    assert re.search(r"[A-Z2-7]{4} [A-Z2-7]{4}", html)  # the key, typed by hand if need be
    assert client.post(answer["Location"], {"code": totp_now(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed and client.get("/backoffice/").status_code == 200


def test_password_attempts_are_throttled(agent_a):
    client = Client()
    statuses = [_password(client, "agent-a", "wrong-password-9").status_code
                for _ in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    # Even the right password is refused while the account is throttled.
    assert _password(client, "agent-a").status_code == 429


def test_code_attempts_are_throttled(agent_a):
    TOTPDevice.objects.create(user=agent_a, name="phone", confirmed=True)
    client = Client()
    _password(client, "agent-a")
    statuses = [client.post("/backoffice/sign-in/code/", {"code": "123456"}).status_code
                for _ in range(11)]
    assert statuses[-1] == 429


def test_a_signed_in_session_without_the_second_factor_is_sent_to_sign_in(agent_a):
    client = Client()
    client.force_login(agent_a)  # a session that never passed the code
    answer = client.get("/backoffice/persons/enrol/")
    assert answer.status_code == 302 and answer["Location"].startswith("/backoffice/sign-in/")


def test_the_admin_is_for_super_users_and_its_password_form_is_the_staff_sign_in(
        admin_user, analyst):
    anonymous = Client()
    login = anonymous.get("/admin/login/?next=/admin/")
    assert login.status_code == 302 and login["Location"].startswith("/backoffice/sign-in/")
    assert signed_in(admin_user).get("/admin/").status_code == 200
    analyst.is_staff = True
    analyst.save()
    refused = signed_in(analyst).get("/admin/")
    assert refused.status_code == 302


def test_a_signed_in_agent_replaces_the_authenticator(agent_a):
    client = signed_in(agent_a)
    old = TOTPDevice.objects.get(user=agent_a, confirmed=True)
    page = client.get("/backoffice/account/authenticator/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    new = TOTPDevice.objects.get(user=agent_a, confirmed=False)
    answer = client.post("/backoffice/account/authenticator/", {"code": totp_now(new)})
    assert answer.status_code == 302
    assert list(TOTPDevice.objects.filter(user=agent_a).values_list("pk", flat=True)) == [new.pk]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert client.get("/backoffice/").status_code == 200  # still signed in, with the new one


def test_sign_in_ignores_a_next_address_on_another_site(agent_a):
    device = TOTPDevice.objects.create(user=agent_a, name="phone", confirmed=True)
    client = Client()
    _password(client, "agent-a", next="https://evil.example/")
    answer = client.post("/backoffice/sign-in/code/", {"code": totp_now(device)})
    assert answer["Location"] == "/backoffice/"


def test_the_pages_come_in_arabic_by_default_and_in_french_on_request(agent_a):
    client = signed_in(agent_a)
    arabic = client.get("/backoffice/").content.decode()
    assert 'lang="ar" dir="rtl"' in arabic
    client.cookies["django_language"] = "fr"
    french = client.get("/backoffice/").content.decode()
    assert 'lang="fr" dir="ltr"' in french


def test_a_super_user_resets_a_lost_authenticator_in_the_admin(admin_user, agent_a):
    device = TOTPDevice.objects.create(user=agent_a, name="lost phone", confirmed=True)
    client = signed_in(admin_user)
    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200 and "lost phone" in listing.content.decode()
    answer = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302 and not TOTPDevice.objects.filter(pk=device.pk).exists()
    # The agent's next sign-in enrols a new authenticator.
    assert _password(Client(), "agent-a")["Location"] == "/backoffice/sign-in/authenticator/"


def test_staff_pages_are_never_cached(agent_a):
    answer = signed_in(agent_a).get("/backoffice/")
    assert "no-store" in answer["Cache-Control"] and "private" in answer["Cache-Control"]
