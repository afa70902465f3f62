"""Every API error has one shape and speaks the caller's language, even ninja's own."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "words"), [
    ("fr", "Le corps de la requête n'est pas un JSON valide."),
    ("ar", "محتوى الطلب ليس JSON صالحًا."),
    ("en", "The request body is not valid JSON."),
])
def test_a_body_that_is_not_json_is_a_400_in_the_callers_language(as_agent_a, language, words):
    r = as_agent_a.post("households", "{not json", lang=language)
    assert r.status_code == 400
    assert r.json() == {"error": {"code": "malformed_body", "message": words}}


@pytest.mark.parametrize(("language", "words"), [
    ("fr", "Connecté par session : envoyez la valeur du cookie CSRF dans l'en-tête X-CSRFToken"),
    ("ar", "X-CSRFToken"),
    ("en", "Signed in with a session: send the value of the CSRF cookie in the X-CSRFToken"),
])
def test_a_staff_write_without_its_csrf_token_is_told_how_to_send_it(agent_a, language, words):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_a)
    r = client.post("/api/v1/households", {}, content_type="application/json",
                    headers={"Accept-Language": language})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "csrf_failed"
    assert words in r.json()["error"]["message"]
    assert language != "ar" or "جلسة" in r.json()["error"]["message"]
    # With the token (the cookie's value in the header) the same write reaches validation.
    client.cookies["csrftoken"] = "k" * 32
    r = client.post("/api/v1/households", {}, content_type="application/json",
                    headers={"X-CSRFToken": "k" * 32})
    assert r.status_code == 422


def test_a_value_outside_an_enumeration_lists_the_choices_without_an_english_or(as_agent_a):
    from sijill.households.tests.factories import registration_payload
    from sijill.testing.factories import person_create

    body = registration_payload([(person_create(), "head")])
    body["household"]["dwelling_type"] = "castle"
    r = as_agent_a.post("households", body, lang="fr")
    assert r.status_code == 422
    [error] = [f for f in r.json()["error"]["fields"] if f["field"] == "household.dwelling_type"]
    assert error["message"].startswith("Cette valeur ne fait pas partie des choix autorisés")
    assert "'villa'" in error["message"] and " or " not in error["message"]


def test_an_empty_member_list_says_at_least_one_is_needed(as_agent_a):
    from sijill.households.tests.factories import registration_payload
    from sijill.testing.factories import person_create

    body = registration_payload([(person_create(), "head")])
    body["members"] = []
    r = as_agent_a.post("households", body, lang="fr")
    assert r.status_code == 422
    [error] = [f for f in r.json()["error"]["fields"] if f["field"] == "members"]
    assert (error["code"], error["message"]) == (
        "too_short", "Cette liste doit compter au moins 1 élément(s).")
