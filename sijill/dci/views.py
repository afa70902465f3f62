"""The DCI Social Registry endpoints (plain Django views, outside the /api/v1 NinjaAPI: the
standard fixes their bodies and errors). Base path `/api/dci/`: a standard client is pointed at
`http://<host>/api/dci/` and posts to `registry/sync/search`, `registry/search`, ...

Every endpoint: a DCI partner's bearer token (401 `err.request.unauthorized` without one), the
body validated against the standard's OpenAPI document, the header checked, the signature
verified with the partner's key (unless the partner is configured without), then the action.
Errors: 401/403 → `{"errors": [{"code": "err.…", "message"}]}` (HttpErrorResponse); a bad
envelope → 400 with, on async paths, the acknowledgement `{"message": {"ack_status": "ERR",
"error": {"code": "err.…"}}}`, and on sync paths the callback envelope with header status
`rjct` (its `status_reason_code` when the standard has one, the err code in `header.meta`).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sijill.dci import services, signing
from sijill.dci.models import DciPartner

logger = logging.getLogger(__name__)
Handler = Callable[[DciPartner, dict[str, Any], dict[str, Any]], dict[str, Any]]

SYNC_ACTIONS = {"/registry/sync/search": "on-search",
                "/registry/sync/txn/status": "txn-on-status"}


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _error(path: str, exc: services.Rejection, partner: DciPartner | None) -> JsonResponse:
    if exc.http_status in {401, 403}:
        return _json({"errors": [{"code": exc.code, "message": exc.message}]}, exc.http_status)
    if path in SYNC_ACTIONS and partner is not None:
        header = services.callback_header(partner=partner, action=SYNC_ACTIONS[path],
                                          status="rjct", total=0, completed=0,
                                          reason=exc.reason, reason_message=exc.message)
        header["meta"] = {"error": {"code": exc.code, "message": exc.message[:999]}}
        return _json(services.envelope(header, None), exc.http_status)
    return _json({"message": {"ack_status": "ERR", "timestamp": services.now_iso(),
                              "error": {"code": exc.code, "message": exc.message[:999]},
                              "correlation_id": uuid.uuid4().hex}}, exc.http_status)


def endpoint(path: str, handler: Handler) -> Callable[[HttpRequest], HttpResponse]:
    @csrf_exempt
    @require_POST
    def view(request: HttpRequest) -> HttpResponse:
        partner = None
        try:
            partner = services.authenticate(request.headers.get("Authorization"))
            retry = services.rate_limit(partner)
            if retry:
                answer = _json_error_logged(path, services.Rejection(
                    429, "err.request.too_many_requests", "Too many requests."), partner)
                answer["Retry-After"] = str(retry)
                return answer
            header, message = services.open_envelope(partner, request.body, path)
            return _json(handler(partner, header, message))
        except services.Rejection as exc:
            return _json_error_logged(path, exc, partner)

    view.__name__ = "dci_" + path.strip("/").replace("/", "_").replace("-", "_")
    return view


def _json_error_logged(path: str, exc: services.Rejection,
                       partner: DciPartner | None) -> JsonResponse:
    logger.info("DCI %s refused (%s): %s", path, exc.code, exc.message)
    return _error(path, exc, partner)


sync_search = endpoint("/registry/sync/search", services.sync_search)
search = endpoint("/registry/search", services.async_search)
subscribe = endpoint("/registry/subscribe", services.subscribe)
unsubscribe = endpoint("/registry/unsubscribe", services.unsubscribe)
sync_txn_status = endpoint("/registry/sync/txn/status", services.sync_txn_status)
txn_status = endpoint("/registry/txn/status", services.async_txn_status)


def keys(request: HttpRequest) -> HttpResponse:
    """The registry's public signing key (to verify its answers and callbacks)."""
    return HttpResponse(json.dumps({"keys": [{
        "kid": f"{signing.registry_sender_id()}|{signing.REGISTRY_KEY_ID}|ed25519",
        "algorithm": "ed25519",
        "public_key": signing.public_key_b64(signing.registry_key())}]}),
        content_type="application/json")
