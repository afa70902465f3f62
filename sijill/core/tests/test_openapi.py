"""The OpenAPI schema is pinned: an API change must be deliberate.

After an intended change, accept it with `make snapshots` (UPDATE_SNAPSHOTS=1) and commit the file.
"""

import json
import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")


def _schema():
    from sijill.core.api import api

    return json.loads(json.dumps(api.get_openapi_schema(), sort_keys=True, default=str))


def test_the_openapi_schema_matches_its_snapshot():
    current = _schema()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True, ensure_ascii=False)
                            + "\n")
    pinned = json.loads(SNAPSHOT.read_text())
    changed = sorted(set(current["paths"]) ^ set(pinned["paths"]))
    assert current == pinned, (
        f"the API changed (paths added or removed: {changed or 'none'}); if deliberate, run "
        "`make snapshots` and commit sijill/core/tests/openapi.snapshot.json")


@pytest.mark.django_db
def test_the_schema_is_served_at_api_openapi_json(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Sijill API"
    assert "/api/v1/persons" in response.json()["paths"]


@pytest.mark.django_db
def test_the_docs_page_is_served(client):
    assert client.get("/api/docs").status_code == 200


@pytest.mark.django_db
def test_the_front_door_is_the_citizen_portal(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b'<main id="main"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_answers_in_the_error_shape(client, settings, debug):
    """Also with DEBUG on (the demo), where Django would answer with its HTML debug page."""
    settings.DEBUG = debug
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    for path in ("/api/v1/nothing-here", "/api/v1/households/MEN-0/nothing"):
        for method in (client.get, client.post, client.delete):
            response = method(path, headers={"Accept-Language": "fr"})
            assert response.status_code == 404
            assert response.json() == {
                "error": {"code": "not_found", "message": "Introuvable."}}


def test_no_two_api_schemas_share_a_name():
    """OpenAPI names a component after its class: two schemas of one name collapse into one,
    and an operation is then documented with another's body."""
    from ninja import Schema

    from sijill.core.api import api

    api.get_openapi_schema()  # every router imported
    seen: dict[str, list[str]] = {}
    stack = list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("sijill.") and ".tests" not in cls.__module__:
            seen.setdefault(cls.__name__, []).append(cls.__module__)
    assert {name: mods for name, mods in seen.items() if len(mods) > 1} == {}


def test_every_idempotent_write_documents_its_idempotency_key_header():
    schema = _schema()
    registration = schema["paths"]["/api/v1/households"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header"
               for p in registration["parameters"])
    stated = sum(1 for methods in schema["paths"].values() for op in methods.values()
                 if any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", [])))
    assert stated >= 25
    # A read takes none.
    assert not any(p.get("name") == "Idempotency-Key" for p in schema["paths"][
        "/api/v1/households/{reference}"]["get"].get("parameters", []))
