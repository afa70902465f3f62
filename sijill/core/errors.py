"""One domain exception hierarchy, mapped to one API error shape.

    {"error": {"code": "validation_error", "message": "...",
               "fields": [{"field": "birth_date", "code": "in_future", "message": "..."}]}}

Messages are lazy translations: they render in the caller's language (Accept-Language: ar, fr, en).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str | Promise

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": str(self.message)}


class SijillError(Exception):
    """Base of every error a caller may see. Subclasses set the status and the code."""

    status: int = 400
    code: str = "bad_request"
    default_message: str | Promise = _("The request could not be processed.")

    def __init__(self, message: str | Promise | None = None, *,
                 fields: list[FieldError] | None = None, extra: dict[str, Any] | None = None):
        self.message = message if message is not None else self.default_message
        self.fields = fields or []
        self.extra = extra or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = [f.as_dict() for f in self.fields]
        if self.extra:
            body.update(self.extra)
        return {"error": body}


class ValidationFailed(SijillError):
    status = 422
    code = "validation_error"
    default_message = _("Some fields are not valid.")

    @classmethod
    def single(cls, field: str, code: str, message: str | Promise) -> ValidationFailed:
        return cls(fields=[FieldError(field, code, message)])


class NotAuthenticated(SijillError):
    status = 401
    code = "not_authenticated"
    default_message = _("Sign in to continue.")


class PermissionDenied(SijillError):
    status = 403
    code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class NotFound(SijillError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(SijillError):
    status = 409
    code = "conflict"
    default_message = _("This conflicts with the current state of the register.")


class TooManyRequests(SijillError):
    """Too many attempts in a window (sijill.security.throttle); answered with Retry-After."""

    status = 429
    code = "too_many_requests"
    default_message = _("Too many attempts. Try again later.")

    def __init__(self, message: str | Promise | None = None, *, retry_after: int = 1,
                 **kwargs: Any):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, **kwargs)


class Unavailable(SijillError):
    status = 503
    code = "unavailable"
    default_message = _("The service is temporarily unavailable. Try again later.")
