"""Sync search: by IDCS (UIN), household reference, mobile; expressions and predicates;
pagination and sorting; every answer conforms to the standard; nothing beyond the purpose."""

from __future__ import annotations

import pytest

from sijill.audit.models import AuditEntry
from sijill.dci.tests.conftest import Dci, by_uin, make_partner, search_item
from sijill.programs import eligibility
from sijill.programs.models import Program
from sijill.programs.tests.factories import family, score

pytestmark = pytest.mark.django_db

DECLARATION_ONLY = {"address", "name", "first_name", "family_name", "phone", "rooms",
                    "education_level", "activity", "disability", "spending"}


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_a_search_by_idcs_finds_the_household_of_the_person(dci: Dci) -> None:
    household = family(children=[{"age": 8}])
    score(household, 9.0)
    eligibility.redecide(Program.objects.get(code="asd"))
    child = household.memberships.get(relationship="child").person
    r = dci.search(by_uin(child.idcs))
    assert r.status_code == 200
    body = r.json()
    assert body["header"]["status"] == "succ" and body["header"]["action"] == "on-search"
    item = body["message"]["search_response"][0]
    assert item["status"] == "succ" and item["pagination"]["total_count"] == 1
    [group] = item["data"]["reg_records"]
    assert group["group_identifier"][0] == {"@type": "Identifier",
                                            "identifier_type": "HOUSEHOLD_ID",
                                            "identifier_value": household.reference}
    assert group["group_size"] == 2
    assert group["group_head_info"]["member_identifier"][0]["identifier_value"] == \
        household.head.idcs
    assert {m["member_identifier"][0]["identifier_value"] for m in group["member_list"]} == {
        household.head.idcs, child.idcs}
    assert group["additional_attributes"] == [{"program": "asd", "eligible": True}]
    assert "poverty_score" not in group  # this partner's purpose does not need the index
    assert not _keys(group) & DECLARATION_ONLY


def test_a_search_is_audited_with_the_partner_and_its_purpose(dci: Dci) -> None:
    household = family()
    dci.search(by_uin(household.head.idcs))
    entry = AuditEntry.objects.filter(action="dci.search").latest("seq")
    assert entry.actor_label == f"dci:{dci.partner.pk}" and entry.actor_role == "dci_partner"
    assert entry.purpose == "targeting of direct social aid"
    assert entry.subject == household.head.idcs
    assert entry.detail["sender_id"] == "spmis"
    assert entry.detail["households"] == [household.reference]


def test_an_unknown_idcs_is_an_empty_success(dci: Dci) -> None:
    item = dci.search(by_uin("0000000000")).json()["message"]["search_response"][0]
    assert item["status"] == "succ" and item["data"]["reg_records"] == []


def test_search_by_household_reference_and_by_mobile(dci: Dci) -> None:
    household = family()
    head = household.head
    head.phone = "0612345678"
    head.save(update_fields=["phone"])
    for query in ({"type": "HOUSEHOLD_ID", "value": household.reference},
                  {"type": "MOBILE", "value": "0612345678"}):
        item = dci.search(search_item("idtype-value", query)).json()[
            "message"]["search_response"][0]
        assert [g["group_identifier"][0]["identifier_value"]
                for g in item["data"]["reg_records"]] == [household.reference]


def test_an_expression_on_location_and_group_size(dci: Dci) -> None:
    small = family(commune="04.421.01.0")
    family(children=[{"age": 3}, {"age": 5}], commune="04.421.01.0")
    expression = {"type": "ns:org:QueryType:expression", "value": {"expression": {
        "collection": "Group",
        "query": {"$and": [{"location": {"$eq": "04"}}, {"group_size": {"$lt": 2}}]}}}}
    item = dci.search(search_item("expression", expression)).json()[
        "message"]["search_response"][0]
    assert [g["group_identifier"][0]["identifier_value"]
            for g in item["data"]["reg_records"]] == [small.reference]


def test_the_index_is_refused_in_a_query_beyond_the_purpose(dci: Dci) -> None:
    expression = {"type": "expression", "value": {"expression": {
        "query": {"poverty_score": {"$lt": 9.5}}}}}
    item = dci.search(search_item("expression", expression)).json()[
        "message"]["search_response"][0]
    assert item["status"] == "rjct"
    assert item["status_reason_code"] == "rjct.search_criteria.invalid"


def test_a_partner_whose_purpose_needs_the_index_queries_and_sorts_by_it(db: None) -> None:
    partner, token = make_partner(sender_id="targeting", reveals_score=True)
    client = Dci(partner, token)
    poor, middle = family(), family()
    score(poor, 8.0)
    score(middle, 9.5)
    score(family(), 11.0)
    expression = {"type": "expression", "value": {"expression": {
        "query": {"poverty_score": {"$lt": 10}}}}}
    item = client.search(search_item(
        "expression", expression,
        sort=[{"attribute_name": "poverty_score", "sort_order": "desc"}])).json()[
        "message"]["search_response"][0]
    records = item["data"]["reg_records"]
    assert [g["group_identifier"][0]["identifier_value"] for g in records] == [
        middle.reference, poor.reference]
    assert [g["poverty_score"] for g in records] == [9.5, 8.0]
    assert "member_list" not in records[0]  # detail "group": no members


def test_a_predicate_on_members_answers_members(dci: Dci) -> None:
    household = family(children=[{"age": 8}, {"age": 30}])
    predicate = [{"seq_num": 1,
                  "expression1": {"attribute_name": "age", "operator": "lt",
                                  "attribute_value": 25},
                  "condition": "and",
                  "expression2": {"attribute_name": "sex", "operator": "in",
                                  "attribute_value": ["male", "female"]}}]
    item = dci.search(search_item("predicate", predicate, response_entity="Member")).json()[
        "message"]["search_response"][0]
    assert item["data"]["reg_record_type"] == "Member"
    [member] = item["data"]["reg_records"]
    assert member["group_identifier"][0]["identifier_value"] == household.reference
    assert member["demographic_info"]["birth_date"] > "2000-01-01"


def test_pages_and_a_too_large_page(dci: Dci) -> None:
    for _ in range(3):
        family(commune="04.421.01.0")
    expression = {"type": "expression", "value": {"expression": {
        "query": {"location": "04.421.01.0"}}}}
    page = dci.search(search_item("expression", expression,
                                  pagination={"page_size": 2, "page_number": 2})).json()[
        "message"]["search_response"][0]
    assert page["pagination"] == {"page_size": 2, "page_number": 2, "total_count": 3}
    assert len(page["data"]["reg_records"]) == 1
    too_big = dci.search(search_item("expression", expression,
                                     pagination={"page_size": 5000})).json()[
        "message"]["search_response"][0]
    assert too_big["status_reason_code"] == "rjct.pagination.invalid"


def test_a_bad_query_and_a_repeated_reference_are_rejected_items(dci: Dci) -> None:
    bad = search_item("expression", {"type": "expression", "value": {"expression": {
        "query": {"income": {"$lt": 3}}}}}, ref="a")
    r = dci.search(by_uin("1234567890") | {"reference_id": "b"}, bad,
                   by_uin("1234567890") | {"reference_id": "b"})
    items = r.json()["message"]["search_response"]
    assert [i["status"] for i in items] == ["succ", "rjct", "rjct"]
    assert items[1]["status_reason_code"] == "rjct.search_criteria.invalid"
    assert items[2]["status_reason_code"] == "rjct.reference_id.duplicate"
