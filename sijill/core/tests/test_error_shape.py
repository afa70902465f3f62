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
