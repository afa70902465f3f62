"""Security headers on pages, API answers, errors and the API docs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _directives(policy: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1]
            for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/persons/0000000000", "/api/openapi.json",
                                  "/no-such-page", "/admin/login/"])
def test_every_response_carries_the_security_headers(path):
    response = Client().get(path)
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


def test_api_answers_are_not_cached(as_anonymous):
    response = as_anonymous.get("persons/0000000000")
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


def test_the_api_docs_load_swagger_from_our_own_static_files_with_a_narrow_relaxation():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html
    # No inline executable script: the settings are a JSON data block, the init is a file.
    assert "<script>" not in html.replace(" ", "")
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self' 'unsafe-inline'"  # Swagger UI injects a <style>
    assert csp["img-src"] == "'self' data:"  # Swagger UI's icons
    assert csp["frame-ancestors"] == "'none'"


def test_only_the_docs_page_is_relaxed():
    for path in ("/api/docs/x", "/api/openapi.json", "/admin/login/"):
        assert "unsafe-inline" not in Client().get(path)["Content-Security-Policy"]


def _production_setting(expression: str) -> str:
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='sijill.settings'; "
            "django.setup(); from django.conf import settings as s; print(" + expression + ")")
    env = {**os.environ, "SIJILL_PROFILE": "production", "DEBUG": "false",
           "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "rsu.example.ma",
           "SIJILL_FIELD_KEYS": "f" * 40}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip()


def test_production_cookies_are_secure_host_only_and_http_only():
    assert _production_setting(
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT"
    ) == "True True True True __Host-sessionid __Host-csrftoken 31536000 True"


def test_cookie_flags_that_need_no_https_are_on_in_every_profile():
    # The settings module itself: tests here swap the password hasher for speed.
    from sijill import settings

    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_the_security_app_and_its_middleware_are_installed():
    from django.conf import settings

    assert "sijill.security" in settings.INSTALLED_APPS
    assert "ninja" in settings.INSTALLED_APPS  # docs assets from our static files
    middleware = settings.MIDDLEWARE
    assert middleware.index("sijill.security.middleware.SecurityHeadersMiddleware") == 1
