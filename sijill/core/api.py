"""The one NinjaAPI instance, its error handlers and the shared error schema.

Every router is added here under /api/v1/. Schema validation errors from ninja are reshaped into
the domain error shape with translated messages, so callers see one format whatever failed.
"""

from __future__ import annotations

from typing import Any

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from sijill.core.errors import FieldError, SijillError, Unavailable, ValidationFailed


class FieldErrorOut(Schema):
    field: str
    code: str
    message: str


class ErrorPositionOut(Schema):
    field: str
    line: int
    column: int


class ErrorBody(Schema):
    code: str
    message: str
    fields: list[FieldErrorOut] | None = None
    # Present only with the errors that carry them:
    idcs: list[str] | None = Field(
        default=None, description="409 conflict: the people it names (e.g. already members "
                                  "of another household).")
    opens_on: str | None = Field(
        default=None, description="Registration not open yet in this commune: the date it "
                                  "opens (ISO 8601), null when no date is set.")
    closed_on: str | None = Field(
        default=None, description="Review window closed: the date it closed (ISO 8601), null "
                                  "when the index was never notified.")
    review: str | None = Field(default=None,
                               description="A review already open: its reference.")
    reason: str | None = Field(default=None,
                               description="Why, as a code (e.g. not_scored, not_eligible).")
    positions: list[ErrorPositionOut] | None = Field(
        default=None, description="Program condition errors: where in the expression.")


class ErrorOut(Schema):
    error: ErrorBody


_TYPE_ERRORS = {
    "string_type", "int_type", "int_parsing", "float_type", "float_parsing", "bool_type",
    "bool_parsing", "date_type", "date_parsing", "date_from_datetime_parsing", "model_type",
    "list_type", "dict_type", "model_attributes_type", "json_invalid", "int_from_float",
}


def _pydantic_message(error: dict[str, Any]) -> str:
    """Translate a pydantic error into the caller's language."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in _TYPE_ERRORS:
        return _("This value has the wrong type or format.")
    if kind == "enum" or kind == "literal_error":
        # pydantic lists them in English ("'a', 'b' or 'c'"): a plain list in every language.
        return _("This value is not one of the allowed choices: %(expected)s.") % {
            "expected": str(ctx.get("expected", "")).replace("' or '", "', '")}
    if kind == "too_short" and "min_length" in ctx:
        return _("This list must have at least %(min)s item(s).") % {"min": ctx["min_length"]}
    if kind == "string_too_long":
        return _("This value is too long (at most %(max)s characters).") % {
            "max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("This value is too short (at least %(min)s characters).") % {
            "min": ctx.get("min_length")}
    if kind == "string_pattern_mismatch":
        return _("This value does not have the expected format.")
    if kind in {"greater_than_equal", "greater_than"}:
        return _("This value must be at least %(limit)s.") % {
            "limit": ctx.get("ge", ctx.get("gt"))}
    if kind in {"less_than_equal", "less_than"}:
        return _("This value must be at most %(limit)s.") % {
            "limit": ctx.get("le", ctx.get("lt"))}
    if kind == "extra_forbidden":
        return _("This field is not expected.")
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "")))
    return _("This value is not valid.")


def _field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    # ninja prefixes the parameter source and name: ("body", "payload", "birth_date")
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    return ".".join(parts) or "__all__"


#: The header an idempotent write takes (sijill.core.idempotency), as OpenAPI states it.
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "Any unique string per intended write (a UUID): a retry with the same key "
                   "applies nothing twice and gets the first answer again; the same key with "
                   "another body is refused (409 idempotency_key_reused).",
}


class SijillAPI(NinjaAPI):
    """The API, whose OpenAPI also states the Idempotency-Key header of idempotent writes."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        if kwargs.get("path_prefix") is None:  # resolves the URLs: every router is added
            kwargs["path_prefix"] = self.get_root_path(kwargs.get("path_params") or {})
        for bound in self._get_bound_routers():
            for path_view in bound.path_operations.values():
                for operation in path_view.operations:
                    if getattr(operation.view_func, "idempotent", False):
                        operation.openapi_extra = {"x-idempotent": True}
        schema = super().get_openapi_schema(**kwargs)
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                if isinstance(operation, dict) and operation.get("x-idempotent"):
                    parameters = operation.setdefault("parameters", [])
                    if IDEMPOTENCY_PARAMETER not in parameters:
                        parameters.append(IDEMPOTENCY_PARAMETER)
        return schema


api = SijillAPI(
    title="Sijill API",
    version="1",
    description=(
        "National population register and unified social registry. Errors share one shape: "
        "`{\"error\": {\"code\", \"message\", \"fields\": [{\"field\", \"code\", \"message\"}]}}`, "
        "in the language asked with Accept-Language (ar, fr, en).\n\n"
        "Sign-in: staff sign in on /backoffice/ and call the API with that session; a write "
        "then sends the CSRF cookie's value in the X-CSRFToken header (403 csrf_failed "
        "otherwise). Partner bodies, programs and DCI clients use their bearer token "
        "(Authorization: Bearer ...). Writes marked x-idempotent take an Idempotency-Key "
        "header."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def error_response(request: HttpRequest, exc: SijillError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(SijillError)
def _on_domain_error(request: HttpRequest, exc: SijillError) -> HttpResponse:
    return error_response(request, exc)


@api.exception_handler(NinjaValidationError)
def _on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = [
        FieldError(_field_path(e.get("loc", ())), e.get("type", "invalid"), _pydantic_message(e))
        for e in exc.errors
    ]
    return error_response(request, ValidationFailed(fields=fields))


@api.exception_handler(AuthenticationError)
def _on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    from sijill.core.errors import NotAuthenticated

    return error_response(request, NotAuthenticated())


@api.exception_handler(HttpError)
def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # ninja's words for a body that is not JSON: said in the caller's language.
        body = {"error": {"code": "malformed_body",
                          "message": str(_("The request body is not valid JSON."))}}
    elif exc.status_code == 403 and str(exc).startswith("CSRF check Failed"):
        # A write with a staff session cookie and no CSRF token (ninja's words otherwise).
        body = {"error": {"code": "csrf_failed", "message": str(_(
            "Signed in with a session: send the value of the CSRF cookie in the X-CSRFToken "
            "header (and, over HTTPS, a Referer from this site), or use an API token."))}}
    else:
        body = {"error": {"code": "http_error", "message": str(exc)}}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(OperationalError)
def _on_database_down(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    return error_response(request, Unavailable())
