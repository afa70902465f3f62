"""Errors come back in the caller's language (Accept-Language: ar, fr, en)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from sijill.households.tests.factories import registration_payload

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "sijill" / "locale"
TRANSLATED = all((LOCALE / lang / "LC_MESSAGES" / "django.mo").exists() for lang in ("ar", "fr"))


def _no_head_message(client, person_factory, lang: str) -> str:
    a, b = person_factory(), person_factory()
    r = client.post("households", registration_payload([(a, "spouse"), (b, "spouse")]),
                    lang=lang)
    assert r.status_code == 422
    return r.json()["error"]["fields"][0]["message"]


def test_errors_are_in_english_when_english_is_asked(as_agent_a, person_factory):
    assert _no_head_message(as_agent_a, person_factory, "en") == (
        "Name exactly one member as the household head.")


@pytest.mark.skipif(not TRANSLATED, reason="sijill/locale/{ar,fr} not compiled yet: the "
                    "household msgids await translation")
@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_errors_are_translated_into_arabic_and_french(as_agent_a, person_factory, lang):
    english = _no_head_message(as_agent_a, person_factory, "en")
    assert _no_head_message(as_agent_a, person_factory, lang) != english


def test_labels_of_declared_values_are_translatable():
    from django.utils import translation

    from sijill.households.choices import Relationship

    with translation.override("en"):
        assert str(Relationship.HEAD.label) == "Household head"


@pytest.mark.skipif(not TRANSLATED, reason="sijill/locale/{ar,fr} not compiled yet")
def test_the_rollout_refusal_is_explained_in_french(as_admin, person_factory):
    r = as_admin.post("households", registration_payload([(person_factory(), "head")],
                                                         commune="06.141.01.0"), lang="fr")
    assert r.json()["error"]["fields"][0]["message"] == (
        "L'inscription n'est pas encore ouverte à Casablanca et aucune date d'ouverture n'a "
        "été fixée.")


@pytest.mark.skipif(not TRANSLATED, reason="sijill/locale/{ar,fr} not compiled yet")
def test_the_conflict_names_the_person_in_arabic(as_agent_a, person_factory):
    from sijill.households.tests.factories import household_create

    taken = person_factory()
    household_create(members=[(taken, "head")])
    r = as_agent_a.post("households", registration_payload([(person_factory(), "head"),
                                                            (taken, "sibling")]), lang="ar")
    assert r.status_code == 409
    message = r.json()["error"]["message"]
    assert taken.idcs in message and "أسرة أخرى" in message
