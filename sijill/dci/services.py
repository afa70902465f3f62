"""DCI services: partners and their tokens, the envelope (authentication, schema, signature),
search (sync and async), subscribe/unsubscribe, notifications, transaction status.

Every access to registry records is audited (`entity="dci_partner"`, the partner's purpose,
its sender_id and the transaction in `detail`). Callbacks and notifications are DciDelivery rows
sent by `delivery.deliver` with retries.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sijill.accounts.actors import Actor
from sijill.accounts.models import hash_token
from sijill.audit.services import audit_record
from sijill.dci import query as q
from sijill.dci import records, signing, spec
from sijill.dci.models import DciPartner, DciSubscription, DciTransaction

VERSION = "1.0.0"
MAX_ITEMS = 100  # requests in one message
DEFAULT_PAGE_SIZE = 100
LOCALES = {"eng", "ara", "fra"}
EVENTS = {  # reg_event_type accepted in a subscription → what is notified
    "REGISTER": "register",
    "spdci-common:RegistryEventType:Register": "register",
    "ELIGIBILITY_CHANGE": "eligibility",
    "sijill:RegistryEventType:EligibilityChange": "eligibility",
}
ACTIONS = {"/registry/sync/search": "search", "/registry/search": "search",
           "/registry/subscribe": "subscribe", "/registry/unsubscribe": "unsubscribe",
           "/registry/sync/txn/status": "txn-status", "/registry/txn/status": "txn-status"}
CALLBACK_PATHS = {"on-search": "/registry/on-search", "on-subscribe": "/registry/on-subscribe",
                  "on-unsubscribe": "/registry/on-unsubscribe", "notify": "/registry/notify",
                  "txn-on-status": "/registry/txn/on-status"}


@dataclass
class Rejection(Exception):
    """A request refused as a whole: `code` is the standard's err.* code, `reason` the
    rjct.* header code of a sync answer when the standard has one."""

    http_status: int
    code: str
    message: str
    reason: str | None = None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actor_of(partner: DciPartner) -> Actor:
    return Actor(role="dci_partner", label=f"dci:{partner.pk}", purpose=partner.purpose)


# ---------------------------------------------------------------------------------------------
# Partners


def partner_create(*, actor: Actor, sender_id: str, name: str, purpose: str,
                   **options: Any) -> tuple[DciPartner, str]:
    """A partner and its bearer token (the raw token is returned once, stored hashed)."""
    raw = "dci_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        partner = DciPartner.objects.create(sender_id=sender_id, name=name, purpose=purpose,
                                            token_hash=hash_token(raw), token_prefix=raw[:8],
                                            **options)
        audit_record(actor=actor, action="dci.partner_create", entity="dci_partner",
                     entity_id=partner.pk, purpose=actor.purpose or "administration",
                     detail={"sender_id": sender_id, "purpose": purpose})
    return partner, raw


def partner_token_renew(*, actor: Actor, partner: DciPartner) -> str:
    raw = "dci_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        DciPartner.objects.filter(pk=partner.pk).update(token_hash=hash_token(raw),
                                                         token_prefix=raw[:8])
        audit_record(actor=actor, action="dci.partner_token_renew", entity="dci_partner",
                     entity_id=partner.pk, purpose=actor.purpose or "administration",
                     detail={"sender_id": partner.sender_id})
    return raw


def authenticate(authorization: str | None) -> DciPartner:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Rejection(401, "err.request.unauthorized", "A DCI partner token is required.")
    partner = (DciPartner.objects.select_related("program")
               .filter(token_hash=hash_token(token.strip()), active=True).first())
    if partner is None:
        raise Rejection(401, "err.request.unauthorized", "This token is not valid.")
    return partner


def rate_limit(partner: DciPartner) -> int:
    """Count one request of the partner; the seconds to wait when over its limit
    (`SIJILL_DCI_REQUESTS_PER_MINUTE`, default 600), else 0. Counted outside any transaction."""
    from django.conf import settings

    from sijill.core.errors import TooManyRequests
    from sijill.security.throttle import throttle_hit

    limit = getattr(settings, "SIJILL_DCI_REQUESTS_PER_MINUTE", 600)
    try:
        throttle_hit(scope="dci", key=partner.sender_id, limit=limit,
                     window=timedelta(minutes=1))
    except TooManyRequests as exc:
        return exc.retry_after
    return 0


# ---------------------------------------------------------------------------------------------
# The envelope


def open_envelope(partner: DciPartner, body: bytes, path: str) -> tuple[dict[str, Any],
                                                                         dict[str, Any]]:
    """Parse, validate (the standard's schema), check the header and the signature."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejection(400, "err.request.bad", "The body is not JSON.") from exc
    if not isinstance(data, dict):
        raise Rejection(400, "err.request.bad", "The body is not a JSON object.")
    header = data.get("header")
    if isinstance(header, dict) and header.get("is_msg_encrypted"):
        raise Rejection(400, "err.encryption.invalid", "Encrypted messages are not supported.")
    expected = ACTIONS[path]
    if isinstance(header, dict) and "action" in header and header["action"] != expected:
        raise Rejection(400, "err.request.bad", f"header.action is {expected!r} here.",
                        "rjct.action.invalid")
    problems = spec.errors(spec.request_pointer(path), data)
    if problems:
        raise Rejection(400, "err.request.bad", "; ".join(problems)[:999])
    header, message = data["header"], data["message"]
    if header.get("version", VERSION) != VERSION:
        raise Rejection(400, "err.version.not_supported", "Version 1.0.0 only.",
                        "rjct.version.invalid")
    if header["sender_id"] != partner.sender_id:
        raise Rejection(403, "err.sender_id.invalid", "sender_id is not this token's partner.")
    receiver = header.get("receiver_id")
    if receiver and receiver != signing.registry_sender_id():
        raise Rejection(400, "err.receiver_id.invalid",
                        f"receiver_id is {signing.registry_sender_id()!r}.")
    if partner.signature_required:
        if not partner.public_key:
            raise Rejection(401, "err.signature.invalid", "No key is registered for signatures.")
        try:
            signing.verify(data.get("signature"), public_key_b64=partner.public_key,
                           sender_id=partner.sender_id, header=header, message=message)
        except signing.SignatureError as exc:
            raise Rejection(401, exc.code, str(exc)) from exc
    return header, message


def _items(message: dict[str, Any], key: str, header: dict[str, Any]) -> list[dict[str, Any]]:
    items = message.get(key) or []
    if len(items) > MAX_ITEMS:
        raise Rejection(400, "err.request.bad", f"At most {MAX_ITEMS} requests in a message.",
                        "rjct.total_count.limit_exceeded")
    if header.get("total_count") not in (None, len(items)):
        raise Rejection(400, "err.request.bad", "total_count is not the number of requests.",
                        "rjct.total_count.invalid")
    return items


def _transaction(partner: DciPartner, header: dict[str, Any], message: dict[str, Any],
                 action: str, reference_ids: list[str], callback: str = "") -> DciTransaction:
    try:
        with transaction.atomic():
            return DciTransaction.objects.create(
                partner=partner, action=action, message_id=header["message_id"][:120],
                transaction_id=message["transaction_id"],
                correlation_id=uuid.uuid4().hex, reference_ids=reference_ids,
                callback_uri=callback, request=_summary(message))
    except IntegrityError as exc:
        raise Rejection(400, "err.request.bad", "This message_id was already received.",
                        "rjct.message_id.duplicate") from exc


def _summary(message: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a request (no more than the criteria)."""
    text = json.dumps(message, ensure_ascii=False)
    return message if len(text) < 20000 else {"transaction_id": message.get("transaction_id"),
                                              "truncated": True}


def callback_url(partner: DciPartner, sender_uri: str | None, action: str) -> str:
    """Where a callback goes: the partner's sender_uri is the base of its DCI API (a URI that
    already ends with a callback path is cut there); it must start with the partner's
    registered callback prefix."""
    uri = (sender_uri or "").strip()
    if not uri or not partner.callback_prefix or not uri.startswith(partner.callback_prefix):
        raise Rejection(400, "err.sender_uri.invalid",
                        "sender_uri is missing or not registered for this partner.")
    for path in CALLBACK_PATHS.values():
        if uri.endswith(path):
            uri = uri[: -len(path)]
            break
    return uri.rstrip("/") + CALLBACK_PATHS[action]


def callback_header(*, partner: DciPartner, action: str, status: str, total: int,
                    completed: int, message_id: str | None = None, reason: str | None = None,
                    reason_message: str | None = None) -> dict[str, Any]:
    header: dict[str, Any] = {
        "version": VERSION, "message_id": message_id or uuid.uuid4().hex,
        "message_ts": now_iso(), "action": action, "status": status,
        "total_count": total, "completed_count": completed,
        "sender_id": signing.registry_sender_id(), "receiver_id": partner.sender_id,
        "is_msg_encrypted": False,
    }
    if reason:
        header["status_reason_code"] = reason
    if reason_message:
        header["status_reason_message"] = reason_message[:999]
    return header


def envelope(header: dict[str, Any], message: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"signature": signing.sign_as_registry(header=header, message=message),
                           "header": header}
    if message is not None:
        out["message"] = message
    return out


def ack(correlation_id: str) -> dict[str, Any]:
    return {"message": {"ack_status": "ACK", "timestamp": now_iso(),
                        "correlation_id": correlation_id}}


# ---------------------------------------------------------------------------------------------
# Search


def _locale(item: dict[str, Any]) -> str:
    locale = item.get("locale") or "eng"
    return locale if locale in LOCALES else "eng"


def _rejected(item: dict[str, Any], reason: str, text: str) -> dict[str, Any]:
    return {"reference_id": item["reference_id"], "timestamp": now_iso(), "status": "rjct",
            "status_reason_code": reason, "status_reason_message": text[:999],
            "locale": _locale(item)}


def _node(criteria: dict[str, Any]) -> tuple[str, Any]:
    """("id", (type, value)) or ("query", node) from the criteria; raises QueryError."""
    kind, query = criteria["query_type"], criteria["query"]
    if kind == "idtype-value":
        if not isinstance(query, dict) or "type" not in query or "value" not in query:
            raise q.QueryError("idtype-value is {type, value}")
        return "id", (str(query["type"]).upper(), query["value"])
    if kind == "expression":
        value = query.get("value") if isinstance(query, dict) else None
        expression = value.get("expression") if isinstance(value, dict) else None
        if isinstance(expression, dict) and "query" in expression:
            return "query", q.parse_expression(expression["query"])
        raise q.QueryError('expression is {"value": {"expression": {"query": ...}}}')
    if kind == "predicate":
        return "query", q.parse_predicate(query)
    raise q.QueryError(f"unsupported query_type {kind!r}")


def _entity(criteria: dict[str, Any]) -> str:
    entity = criteria.get("response_entity")
    query = criteria.get("query")
    if entity is None and criteria["query_type"] == "expression" and isinstance(query, dict):
        collection = ((query.get("value") or {}).get("expression") or {}).get("collection")
        entity = collection if collection in {"Group", "Member"} else None
    return entity or "Group"


def _order(criteria: dict[str, Any], entity: str, partner: DciPartner) -> list[str]:
    names = {"Group": {"HOUSEHOLD_ID": "reference", "group_size": "dci_group_size",
                       "poverty_score": "dci_poverty_score"},
             "Member": {"UIN": "person__idcs", "age": "-person__birth_date",
                        "HOUSEHOLD_ID": "household__reference"}}[entity]
    order = []
    for s in criteria.get("sort") or []:
        name = s.get("attribute_name")
        if name not in names or (name == "poverty_score" and not partner.reveals_score):
            raise q.QueryError(f"cannot sort by {name!r}", "rjct.sort.invalid")
        field = names[name]
        if s.get("sort_order") == "desc":
            field = field[1:] if field.startswith("-") else "-" + field
        order.append(field)
    return [*order, "pk"]


def search_item(partner: DciPartner, item: dict[str, Any], *,
                transaction_id: str) -> dict[str, Any]:
    """One search request of a message → its search_response item (audited)."""
    criteria = item["search_criteria"]
    entity = _entity(criteria)
    try:
        kind, node = _node(criteria)
        if entity == "Member" and partner.detail != DciPartner.Detail.MEMBERS:
            raise q.QueryError("member records are beyond this partner's purpose")
        if kind == "query":
            used = q.attributes(node)
            if "poverty_score" in used and not partner.reveals_score:
                raise q.QueryError("the index is beyond this partner's purpose")
            qs = q.members(node) if entity == "Member" else q.households(node)
        else:
            qs = q.by_identifier(node[0], node[1], entity)
        order = _order(criteria, entity, partner)
        qs = _with_sort_annotations(qs, order, entity)
        qs = qs.order_by(*order)
    except q.QueryError as exc:
        return _rejected(item, exc.code, str(exc))
    page = criteria.get("pagination") or {}
    size = int(page.get("page_size") or min(DEFAULT_PAGE_SIZE, partner.max_records))
    number = int(page.get("page_number") or 1)
    if not (1 <= size <= partner.max_records) or number < 1:
        return _rejected(item, "rjct.pagination.invalid",
                         f"page_size is 1 to {partner.max_records}, page_number from 1")
    total = qs.count()
    ids = list(qs.values_list("pk", flat=True)[(number - 1) * size: number * size])
    recs = (records.member_records(partner, ids) if entity == "Member"
            else records.groups(partner, ids))
    refs = [r["group_identifier"][0]["identifier_value"] for r in recs]
    audit_record(actor=actor_of(partner), action="dci.search", entity="dci_partner",
                 entity_id=partner.pk,
                 subject=str(node[1])[:40] if kind == "id" and node[0] == "UIN" else "",
                 purpose=partner.purpose,
                 detail={"sender_id": partner.sender_id, "transaction_id": transaction_id,
                         "reference_id": item["reference_id"],
                         "query_type": criteria["query_type"],
                         "query": criteria["query"], "entity": entity, "records": len(recs),
                         "total": total, "households": refs[:1000]})
    return {
        "reference_id": item["reference_id"], "timestamp": now_iso(), "status": "succ",
        "data": {"version": VERSION, "reg_type": records.REG_TYPE,
                 "reg_record_type": entity, "reg_records": recs},
        "pagination": {"page_size": size, "page_number": number, "total_count": total},
        "locale": _locale(item),
    }


def _with_sort_annotations(qs: Any, order: list[str], entity: str) -> Any:
    """Annotate the households with what the sort needs and the query did not."""
    if entity != "Group":
        return qs
    have = qs.query.annotations
    if any("dci_poverty_score" in o for o in order) and "dci_poverty_score" not in have:
        qs = qs.annotate(dci_poverty_score=q.score_subquery("pk", "current_version"))
    if any("dci_group_size" in o for o in order) and "dci_group_size" not in have:
        qs = qs.annotate(dci_group_size=q.size_subquery("pk"))
    return qs


def search_message(partner: DciPartner, message: dict[str, Any],
                   header: dict[str, Any], txn: DciTransaction) -> dict[str, Any]:
    """The SearchResponse message for a SearchRequest message."""
    items = _items(message, "search_request", header)
    seen: set[str] = set()
    out = []
    for item in items:
        if item["reference_id"] in seen:
            out.append(_rejected(item, "rjct.reference_id.duplicate",
                                 "reference_id repeated in the message"))
            continue
        seen.add(item["reference_id"])
        out.append(search_item(partner, item, transaction_id=message["transaction_id"]))
    return {"transaction_id": message["transaction_id"], "correlation_id": txn.correlation_id,
            "search_response": out}


def _finish(txn: DciTransaction, response: dict[str, Any], key: str) -> None:
    statuses = [{"reference_id": r["reference_id"], "status": r["status"],
                 **({"status_reason_code": r["status_reason_code"]}
                    if "status_reason_code" in r else {})}
                for r in response.get(key, [])]
    txn.status = (DciTransaction.Status.SUCCESS
                  if any(s["status"] == "succ" for s in statuses) or not statuses
                  else DciTransaction.Status.REJECTED)
    txn.response = {"items": statuses}
    txn.completed_at = timezone.now()
    txn.save(update_fields=["status", "response", "completed_at"])


def sync_search(partner: DciPartner, header: dict[str, Any],
                message: dict[str, Any]) -> dict[str, Any]:
    if not partner.can_search:
        raise Rejection(403, "err.request.forbidden", "This partner may not search.")
    items = _items(message, "search_request", header)
    with transaction.atomic():
        txn = _transaction(partner, header, message, "search",
                           [i["reference_id"] for i in items])
        response = search_message(partner, message, header, txn)
        _finish(txn, response, "search_response")
    done = any(r["status"] == "succ" for r in response["search_response"])
    return envelope(callback_header(partner=partner, action="on-search",
                                    status="succ" if done or not items else "rjct",
                                    total=len(items), completed=len(items)), response)


def async_search(partner: DciPartner, header: dict[str, Any],
                 message: dict[str, Any]) -> dict[str, Any]:
    if not partner.can_search:
        raise Rejection(403, "err.request.forbidden", "This partner may not search.")
    items = _items(message, "search_request", header)
    url = callback_url(partner, header.get("sender_uri"), "on-search")
    with transaction.atomic():
        txn = _transaction(partner, header, message, "search",
                           [i["reference_id"] for i in items], callback=url)
        txn.request = {**txn.request, "_header": {"total_count": header.get("total_count")}}
        txn.status = DciTransaction.Status.PENDING
        txn.save(update_fields=["request", "status"])
        from sijill.dci.tasks import process_search_task

        pk = txn.pk
        transaction.on_commit(lambda: process_search_task.enqueue(transaction_pk=pk))
    return ack(txn.correlation_id)


def process_search(transaction_pk: int) -> str:
    """The background half of an async search: search, then queue the on-search callback.
    Safe to run twice (a finished transaction is left as it is)."""
    from sijill.dci import delivery

    with transaction.atomic():
        txn = (DciTransaction.objects.select_for_update().select_related("partner")
               .filter(pk=transaction_pk).first())
        if txn is None or txn.status != DciTransaction.Status.PENDING:
            return txn.status if txn else "missing"
        header = {"total_count": (txn.request.get("_header") or {}).get("total_count")}
        message = {k: v for k, v in txn.request.items() if k != "_header"}
        response = search_message(txn.partner, message, header, txn)
        _finish(txn, response, "search_response")
        delivery.queue(partner=txn.partner, action="on-search", url=txn.callback_uri,
                       message=response, transaction=txn)
    return txn.status


# ---------------------------------------------------------------------------------------------
# Subscriptions


def _subscription_info(sub: DciSubscription) -> dict[str, Any]:
    info: dict[str, Any] = {"version": VERSION, "code": sub.code, "status": sub.status,
                            "timestamp": sub.created_at.astimezone(UTC).isoformat(),
                            "reg_type": records.REG_TYPE,
                            "reg_event_type": sub.filter.get("_event_type", sub.event),
                            "notify_record_type": sub.notify_record_type,
                            "locale": sub.locale}
    if sub.filter_type:
        info["filter_type"] = sub.filter_type
        info["filter"] = sub.filter.get("filter")
    return info


def subscribe(partner: DciPartner, header: dict[str, Any],
              message: dict[str, Any]) -> dict[str, Any]:
    from sijill.dci import delivery

    if not partner.can_subscribe:
        raise Rejection(403, "err.request.forbidden", "This partner may not subscribe.")
    items = _items(message, "subscribe_request", header)
    url = callback_url(partner, header.get("sender_uri"), "on-subscribe")
    with transaction.atomic():
        txn = _transaction(partner, header, message, "subscribe",
                           [i["reference_id"] for i in items], callback=url)
        out = [_subscribe_item(partner, item, txn, url) for item in items]
        response = {"transaction_id": message["transaction_id"],
                    "correlation_id": txn.correlation_id, "subscribe_response": out}
        _finish(txn, response, "subscribe_response")
        delivery.queue(partner=partner, action="on-subscribe", url=url, message=response,
                       transaction=txn)
    return ack(txn.correlation_id)


def _subscribe_item(partner: DciPartner, item: dict[str, Any], txn: DciTransaction,
                    url: str) -> dict[str, Any]:
    criteria = item["subscribe_criteria"]
    base = {"reference_id": item["reference_id"], "timestamp": now_iso(),
            "locale": _locale(item)}
    event = EVENTS.get(criteria["reg_event_type"])
    if event is None:
        return {**base, "status": "rjct", "status_reason_code": "rjct.notify_types.invalid",
                "status_reason_message": "reg_event_type is one of " + ", ".join(EVENTS)}
    if event == "eligibility" and partner.program_id is None:
        return {**base, "status": "rjct", "status_reason_code": "rjct.notify_types.invalid",
                "status_reason_message": "this partner is bound to no program"}
    filter_type = criteria.get("filter_type") or ""
    try:
        if filter_type in {"expression", "predicate"}:
            node = _node({"query_type": filter_type, "query": criteria["filter"]})[1]
            used = q.attributes(node)
            if used & q.MEMBER_ATTRIBUTES or ("poverty_score" in used
                                              and not partner.reveals_score):
                raise q.QueryError("a filter is on household attributes within the purpose")
        elif filter_type not in {"", "idtype-value"}:
            raise q.QueryError(f"unsupported filter_type {filter_type!r}")
        elif filter_type == "idtype-value":
            _node({"query_type": "idtype-value", "query": criteria["filter"]})
    except q.QueryError as exc:
        return {**base, "status": "rjct", "status_reason_code": "rjct.notify_details.invalid",
                "status_reason_message": str(exc)[:999]}
    sub = DciSubscription.objects.create(
        partner=partner, code=f"sub-{uuid.uuid4().hex[:24]}", event=event,
        filter_type=filter_type,
        filter={"filter": criteria.get("filter"), "_event_type": criteria["reg_event_type"]},
        notify_record_type=criteria["notify_record_type"], callback_uri=url.rsplit(
            CALLBACK_PATHS["on-subscribe"], 1)[0] + CALLBACK_PATHS["notify"],
        locale=_locale(item), transaction=txn)
    audit_record(actor=actor_of(partner), action="dci.subscribe", entity="dci_partner",
                 entity_id=partner.pk, purpose=partner.purpose,
                 detail={"sender_id": partner.sender_id, "subscription": sub.code,
                         "event": event, "filter": criteria.get("filter")})
    return {**base, "status": "succ", "subscriptions": [_subscription_info(sub)]}


def unsubscribe(partner: DciPartner, header: dict[str, Any],
                message: dict[str, Any]) -> dict[str, Any]:
    from sijill.dci import delivery

    if not partner.can_subscribe:
        raise Rejection(403, "err.request.forbidden", "This partner may not subscribe.")
    url = callback_url(partner, header.get("sender_uri"), "on-unsubscribe")
    codes = list(dict.fromkeys(message["subscription_codes"]))
    with transaction.atomic():
        txn = _transaction(partner, header, message, "unsubscribe", [], callback=url)
        subs = {s.code: s for s in DciSubscription.objects.select_for_update()
                .filter(partner=partner, code__in=codes)}
        response: dict[str, Any] = {"transaction_id": message["transaction_id"],
                                    "correlation_id": txn.correlation_id,
                                    "timestamp": now_iso()}
        unknown = [c for c in codes if c not in subs]
        ended = [c for c in codes if c in subs
                 and subs[c].status == DciSubscription.Status.UNSUBSCRIBED]
        if unknown or ended or not codes:
            response.update(status="rjct", status_reason_code=(
                "rjct.subscription_code.invalid" if unknown or not codes
                else "rjct.event.already_unsubscribed"),
                status_reason_message=", ".join(unknown or ended)[:999])
            txn.status = DciTransaction.Status.REJECTED
        else:
            DciSubscription.objects.filter(pk__in=[s.pk for s in subs.values()]).update(
                status=DciSubscription.Status.UNSUBSCRIBED, ended_at=timezone.now())
            response.update(status="succ", subscription_status=[
                {"code": c, "status": "unsubscribe"} for c in codes])
            txn.status = DciTransaction.Status.SUCCESS
            audit_record(actor=actor_of(partner), action="dci.unsubscribe",
                         entity="dci_partner", entity_id=partner.pk, purpose=partner.purpose,
                         detail={"sender_id": partner.sender_id, "subscriptions": codes})
        txn.response = {"items": [], "status": response["status"]}
        txn.completed_at = timezone.now()
        txn.save(update_fields=["status", "response", "completed_at"])
        delivery.queue(partner=partner, action="on-unsubscribe", url=url, message=response,
                       transaction=txn)
    return ack(txn.correlation_id)


# ---------------------------------------------------------------------------------------------
# Transaction status


def txn_status_message(partner: DciPartner, message: dict[str, Any]) -> dict[str, Any]:
    """TxnStatusResponse: the statuses of the partner's own transaction's requests (never
    their records)."""
    request = message["txnstatus_request"]
    kind, value = request["attribute_type"], request["attribute_value"]
    txns = DciTransaction.objects.filter(partner=partner)
    if request["txn_type"] in {"search", "subscribe"}:
        txns = txns.filter(action=request["txn_type"])
    if kind == "transaction_id":
        txns = txns.filter(transaction_id=str(value))
    elif kind == "correlation_id":
        txns = txns.filter(correlation_id=str(value))
    wanted = set(value) if kind == "reference_id_list" and isinstance(value, list) else None
    if kind == "reference_id_list":  # the latest of its last 200 holding one of the ids
        txn = next((t for t in txns.order_by("-pk")[:200]
                    if wanted and wanted & set(t.reference_ids)), None)
    else:
        txn = txns.order_by("-pk").first()
    items: list[dict[str, Any]] = []
    if txn is not None:
        done = {i["reference_id"]: i for i in (txn.response or {}).get("items", [])}
        for ref in txn.reference_ids:
            if wanted is not None and ref not in wanted:
                continue
            item = done.get(ref, {"status": txn.status if txn.status in {"rcvd", "pdng"}
                                  else "pdng"})
            entry = {"reference_id": ref, "timestamp": now_iso(), "status": item["status"]}
            if "status_reason_code" in item:
                entry["status_reason_code"] = item["status_reason_code"]
            items.append(entry)
    if txn is None:
        items = [{"reference_id": request["reference_id"], "timestamp": now_iso(),
                  "status": "rjct", "status_reason_code": "rjct.reference_id.invalid",
                  "status_reason_message": "no such transaction of this partner"}]
    return {"transaction_id": message["transaction_id"],
            "correlation_id": uuid.uuid4().hex,
            "txnstatus_response": {
                "txn_type": request["txn_type"],
                "txn_status": {
                    "transaction_id": txn.transaction_id if txn else str(value)[:99],
                    "correlation_id": txn.correlation_id if txn else uuid.uuid4().hex,
                    "search_response": items}}}


def sync_txn_status(partner: DciPartner, header: dict[str, Any],
                    message: dict[str, Any]) -> dict[str, Any]:
    response = txn_status_message(partner, message)
    return envelope(callback_header(partner=partner, action="txn-on-status", status="succ",
                                    total=1, completed=1), response)


def async_txn_status(partner: DciPartner, header: dict[str, Any],
                     message: dict[str, Any]) -> dict[str, Any]:
    from sijill.dci import delivery

    url = callback_url(partner, header.get("sender_uri"), "txn-on-status")
    with transaction.atomic():
        txn = _transaction(partner, header, message, "txn-status", [], callback=url)
        response = txn_status_message(partner, message)
        txn.status, txn.completed_at = DciTransaction.Status.SUCCESS, timezone.now()
        txn.save(update_fields=["status", "completed_at"])
        delivery.queue(partner=partner, action="txn-on-status", url=url, message=response,
                       transaction=txn)
    return ack(txn.correlation_id)


# ---------------------------------------------------------------------------------------------
# Notifications


def notify(*, event: str, household_ids: list[int], program_id: int | None = None) -> int:
    """Queue notify callbacks of an event on these households to the matching subscriptions;
    returns how many were queued."""
    from sijill.dci import delivery

    subs = DciSubscription.objects.filter(status=DciSubscription.Status.SUBSCRIBED,
                                          event=event, partner__active=True)
    if program_id is not None:
        subs = subs.filter(partner__program_id=program_id)
    queued = 0
    for sub in subs.select_related("partner", "partner__program"):
        ids = _matching(sub, household_ids)
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            with transaction.atomic():
                recs = records.groups(sub.partner, batch)
                # One event per household: the standard's notify reg_records is one object.
                message = {"transaction_id": uuid.uuid4().hex[:32], "notify_event": [{
                    "reference_id": sub.code, "timestamp": now_iso(),
                    "data": {"version": VERSION, "reg_type": records.REG_TYPE,
                             **({"reg_event_type": "REGISTER"} if event == "register" else {}),
                             "reg_record_type": "Group", "reg_records": rec},
                    "locale": sub.locale} for rec in recs]}
                delivery.queue(partner=sub.partner, action="notify", url=sub.callback_uri,
                               message=message, subscription=sub)
                audit_record(actor=actor_of(sub.partner), action="dci.notify",
                             entity="dci_partner", entity_id=sub.partner_id,
                             purpose=sub.partner.purpose,
                             detail={"sender_id": sub.partner.sender_id,
                                     "subscription": sub.code, "event": event,
                                     "households": [r["group_identifier"][0][
                                         "identifier_value"] for r in recs]})
            queued += 1
    return queued


def _matching(sub: DciSubscription, household_ids: list[int]) -> list[int]:
    flt, kind = sub.filter.get("filter"), sub.filter_type
    if not kind:
        return sorted(household_ids)
    if kind == "idtype-value":
        id_type, value = _node({"query_type": kind, "query": flt})[1]
        qs = q.by_identifier(id_type, value, "Group")
    else:
        qs = q.households(_node({"query_type": kind, "query": flt})[1])
    found: list[int] = []
    for start in range(0, len(household_ids), 10_000):  # bounded IN lists
        found += qs.filter(pk__in=household_ids[start:start + 10_000]).values_list("pk",
                                                                                  flat=True)
    return sorted(found)
