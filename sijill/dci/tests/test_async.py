"""Async search, subscribe/notify, unsubscribe and transaction status, with callbacks received
by a local HTTP server; every callback conforms to the standard and carries the registry's
signature."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sijill.dci import delivery, signing, spec
from sijill.dci.models import DciDelivery, DciSubscription
from sijill.dci.tests.conftest import Dci, by_uin, conforms
from sijill.programs.tests.factories import family, score

pytestmark = [pytest.mark.django_db(transaction=True)]


def _verified(body: dict[str, Any]) -> None:
    signing.verify(body["signature"], public_key_b64=signing.public_key_b64(
        signing.registry_key()), sender_id=signing.registry_sender_id(),
        header=body["header"], message=body["message"])


def test_an_async_search_calls_back_on_search_with_the_results(
        dci: Dci, receiver: Any, settings: Any) -> None:
    household = _unscored_family(settings)
    r = dci.search(by_uin(household.head.idcs), sync=False,
                   sender_uri=receiver.url + "/dci")
    ack = r.json()["message"]
    assert ack["ack_status"] == "ACK"
    [(path, body)] = receiver.received
    assert path == "/dci/registry/on-search"
    conforms(spec.request_pointer("/registry/on-search"), body)
    _verified(body)
    assert body["header"]["action"] == "on-search"
    assert body["message"]["correlation_id"] == ack["correlation_id"]
    [item] = body["message"]["search_response"]
    assert item["data"]["reg_records"][0]["group_identifier"][0]["identifier_value"] == \
        household.reference


def test_an_async_search_without_a_registered_callback_is_refused(dci: Dci) -> None:
    r = dci.search(by_uin("1234567890"), sync=False, sender_uri="https://elsewhere.example/cb")
    assert r.status_code == 400
    assert r.json()["message"]["error"]["code"] == "err.sender_uri.invalid"


def test_a_failed_callback_is_retried_then_delivered(dci: Dci, receiver: Any,
                                                     settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    household = family()
    dci.search(by_uin(household.head.idcs), sync=False, sender_uri=receiver.url)
    from sijill.dci.models import DciTransaction
    from sijill.dci.services import process_search

    txn = DciTransaction.objects.get()
    assert process_search(txn.pk) == "succ"
    assert process_search(txn.pk) == "succ"  # run twice: one callback
    d = DciDelivery.objects.get()
    receiver.answers.append(503)
    assert delivery.deliver(d.pk) == "pending"
    d.refresh_from_db()
    assert d.attempts == 1 and d.last_error == "HTTP 503" and d.next_attempt_at
    assert delivery.deliver(d.pk, only_if_due=True) == "pending"  # not due yet
    DciDelivery.objects.filter(pk=d.pk).update(next_attempt_at=d.created_at)
    assert delivery.deliver(d.pk, only_if_due=True) == "delivered"
    assert len(receiver.received) == 2
    assert receiver.received[0][1]["header"]["message_id"] == \
        receiver.received[1][1]["header"]["message_id"]


def _subscribe(dci: Dci, receiver: Any, event: str = "ELIGIBILITY_CHANGE",
               **criteria: Any) -> Any:
    message = {"transaction_id": uuid.uuid4().hex[:20], "subscribe_request": [{
        "reference_id": "s1", "timestamp": "2026-01-01T00:00:00Z",
        "subscribe_criteria": {"reg_event_type": event, "notify_record_type": "Group",
                               "filter": {}, **criteria}}]}
    return dci.post("/registry/subscribe", dci.envelope("subscribe", message,
                                                       sender_uri=receiver.url))


IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _unscored_family(settings: Any, **kwargs: Any) -> Any:
    """A registered household not scored by the engine (its index is set by the test)."""
    settings.TASKS = DUMMY
    household = family(**kwargs)
    settings.TASKS = IMMEDIATE
    return household


def test_a_subscription_is_notified_of_an_eligibility_change(
        dci: Dci, receiver: Any, immediate_tasks: None, settings: Any) -> None:
    answer = _subscribe(dci, receiver).json()["message"]
    assert answer["ack_status"] == "ACK", answer
    [(path, on_subscribe)] = receiver.received
    assert path == "/registry/on-subscribe"
    conforms(spec.request_pointer("/registry/on-subscribe"), on_subscribe)
    [item] = on_subscribe["message"]["subscribe_response"]
    code = item["subscriptions"][0]["code"]
    assert item["status"] == "succ" and DciSubscription.objects.get().code == code
    household = _unscored_family(settings)
    score(household, 9.0)  # under the ASD threshold: becomes eligible
    notes = [b for p, b in receiver.received if p == "/registry/notify"]
    assert len(notes) == 1
    conforms(spec.request_pointer("/registry/notify"), notes[0])
    _verified(notes[0])
    [event] = notes[0]["message"]["notify_event"]
    assert event["reference_id"] == code
    group = event["data"]["reg_records"]
    assert group["group_identifier"][0]["identifier_value"] == household.reference
    assert group["additional_attributes"] == [{"program": "asd", "eligible": True}]


def test_a_filtered_subscription_is_not_notified_of_other_households(
        dci: Dci, receiver: Any, immediate_tasks: None, settings: Any) -> None:
    _subscribe(dci, receiver, filter_type="expression", filter={
        "type": "expression", "value": {"expression": {"query": {"location": "01"}}}})
    score(_unscored_family(settings, commune="04.421.01.0"), 9.0)
    assert [p for p, _ in receiver.received] == ["/registry/on-subscribe"]


def test_an_unknown_event_is_rejected_in_on_subscribe(dci: Dci, receiver: Any,
                                                      immediate_tasks: None) -> None:
    _subscribe(dci, receiver, event="DEATH")
    [(_, body)] = receiver.received
    assert body["message"]["subscribe_response"][0]["status_reason_code"] == \
        "rjct.notify_types.invalid"


def test_unsubscribe_ends_the_subscription_once(dci: Dci, receiver: Any,
                                                immediate_tasks: None) -> None:
    _subscribe(dci, receiver)
    code = DciSubscription.objects.get().code

    def unsubscribe() -> dict[str, Any]:
        message = {"transaction_id": uuid.uuid4().hex[:20], "timestamp": "2026-01-01T00:00:00Z",
                   "subscription_codes": [code]}
        dci.post("/registry/unsubscribe", dci.envelope("unsubscribe", message,
                                                       sender_uri=receiver.url))
        path, body = receiver.received[-1]
        assert path == "/registry/on-unsubscribe"
        conforms(spec.request_pointer("/registry/on-unsubscribe"), body)
        return body["message"]

    assert unsubscribe()["subscription_status"] == [{"code": code, "status": "unsubscribe"}]
    assert DciSubscription.objects.get().status == "unsubscribe"
    assert unsubscribe()["status_reason_code"] == "rjct.event.already_unsubscribed"


def test_transaction_status_of_an_own_search_and_not_of_another(
        dci: Dci, receiver: Any, immediate_tasks: None) -> None:
    r = dci.search(by_uin("1234567890"), sync=False, sender_uri=receiver.url)
    correlation = r.json()["message"]["correlation_id"]
    txn_id = receiver.received[0][1]["message"]["transaction_id"]

    def status(kind: str, value: Any) -> dict[str, Any]:
        message = {"transaction_id": "status-1", "txnstatus_request": {
            "reference_id": "q1", "txn_type": "search", "attribute_type": kind,
            "attribute_value": value}}
        return dci.post("/registry/sync/txn/status",
                        dci.envelope("txn-status", message, total=1)).json()["message"]

    found = status("transaction_id", txn_id)["txnstatus_response"]["txn_status"]
    assert found["correlation_id"] == correlation
    assert found["search_response"][0]["status"] == "succ"
    assert status("correlation_id", correlation)["txnstatus_response"]["txn_status"][
        "search_response"][0]["reference_id"] == "r1"
    missing = status("transaction_id", "someone-else")["txnstatus_response"]["txn_status"]
    assert missing["search_response"][0]["status_reason_code"] == "rjct.reference_id.invalid"
    by_refs = status("reference_id_list", ["r1"])["txnstatus_response"]["txn_status"]
    assert by_refs["correlation_id"] == correlation
    assert [i["reference_id"] for i in by_refs["search_response"]] == ["r1"]
    unknown = status("reference_id_list", ["r9"])["txnstatus_response"]["txn_status"]
    assert unknown["search_response"][0]["status_reason_code"] == "rjct.reference_id.invalid"
