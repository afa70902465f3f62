"""Security headers on every response: a strict content security policy and its companions.

The policy allows nothing but this origin, no inline script, no framing. One page is relaxed,
narrowly: the API's interactive docs (Swagger UI, served from our own static files because
`ninja` is in INSTALLED_APPS) inject a <style> element and use data: images for their icons.
Scripts stay 'self' there too.

Django's SecurityMiddleware already sets X-Content-Type-Options, Referrer-Policy and
Cross-Origin-Opener-Policy from settings; this middleware makes sure they are present whatever
the settings say, and adds what Django 5.2 does not: Content-Security-Policy, Permissions-Policy,
Cross-Origin-Resource-Policy, and `Cache-Control: no-store` on API answers (personal data must
not sit in shared or browser caches).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CSP_DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Only for the API docs page (Swagger UI): an injected <style> element and data: icons.
DOCS_RELAXED: dict[str, str] = {
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
}
DOCS_PATHS = frozenset({"/api/docs"})

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen",
    "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment",
    "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "usb",
    "xr-spatial-tracking",
))

STATIC_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",
}


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CSP = _policy(CSP_DIRECTIVES)
CSP_DOCS = _policy({**CSP_DIRECTIVES, **DOCS_RELAXED})


def content_security_policy(path: str) -> str:
    return CSP_DOCS if path.rstrip("/") in DOCS_PATHS else CSP


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy",
                                    content_security_policy(request.path))
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response
