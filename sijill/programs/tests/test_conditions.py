"""CEL conditions: checked when saved (position of the error), evaluated per household."""

from __future__ import annotations

import pytest
from django.utils import translation

from sijill.core.errors import ValidationFailed
from sijill.programs import conditions as cond

SCHOOL = 'members.exists(m, m.age >= 6 && m.age <= 14 && m.schooling != "not_schooled")'


@pytest.mark.parametrize("expression", [
    SCHOOL,
    'members.exists(m, m.disability != "none")',
    'members.exists(h, h.relationship == "head" && h.marital_status == "widowed")',
    'household.milieu == "rural" && household.size >= 5',
    'size(members.filter(m, m.age < 18)) >= 3',
    'household.region in ["04", "06"]',
    "members.all(m, m.age < 65)\n  || household.size > 2",
])
def test_good_expressions_pass(expression):
    assert cond.check(expression) == []


@pytest.mark.parametrize(("expression", "line", "column", "code"), [
    ("household.size >", 1, 17, "syntax_error"),
    ("household.size > 2 &&\n  (members.size() >", 2, 20, "syntax_error"),
    ("household.sizee > 2", 1, 11, "unknown_field"),
    ("income > 2", 1, 1, "unknown_name"),
    ('members.exists(m, m.schooling == "privat")', 1, 34, "unknown_value"),
    ("household.size", 1, 1, "not_boolean"),
    ('household.size > "2"', 1, 1, "evaluation_error"),
    ("", 1, 1, "empty"),
])
def test_bad_expressions_are_refused_with_their_position(expression, line, column, code):
    problems = cond.check(expression)
    assert problems, expression
    assert (problems[0].line, problems[0].column, problems[0].code) == (line, column, code)


def test_names_inside_strings_are_not_taken_for_fields():
    assert cond.check('household.commune != "foo.bar"') == []


def _validate_bad(lang):
    with translation.override(lang), pytest.raises(ValidationFailed) as err:
        cond.validate([{"key": "ok", "expression": SCHOOL},
                       {"key": "bad", "expression": "household.size >"},
                       {"key": "ok", "expression": "true"}])
    return err.value.as_dict()["error"]


def test_validate_refuses_with_field_errors_and_positions():
    body = _validate_bad("en")
    fields = {(f["field"], f["code"]) for f in body["fields"]}
    assert ("conditions.1.expression", "syntax_error") in fields
    assert ("conditions.2.key", "duplicate_key") in fields
    assert body["positions"] == [{"field": "conditions.1.expression", "line": 1, "column": 17}]
    assert "line 1, column 17" in next(f for f in body["fields"]
                                       if f["code"] == "syntax_error")["message"]


def test_the_position_is_told_in_the_callers_language():
    french = _validate_bad("fr")["fields"]
    assert "ligne 1, colonne 17" in next(f for f in french
                                         if f["code"] == "syntax_error")["message"]


def _ctx(*members):
    return {"household": {"milieu": "urban", "region": "04", "province": "04.421",
                          "commune": "04.421.01.0", "size": len(members)},
            "members": [dict(cond.SAMPLES[0]["members"][0], **m) for m in members]}


@pytest.mark.parametrize(("age", "schooling", "expected"), [
    (5, "public", False), (6, "public", True), (14, "private", True), (15, "public", False),
    (10, "not_schooled", False),
])
def test_the_school_condition(age, schooling, expected):
    c = [cond.Condition("school", SCHOOL)]
    ctx = _ctx({"age": 40}, {"age": age, "schooling": schooling, "relationship": "child"})
    assert cond.evaluate(c, ctx) == {"school": expected}


def test_a_failing_expression_is_false_not_an_error():
    c = [cond.Condition("x", 'members.exists(m, m.age > 1)'),
         cond.Condition("y", "members[5].age > 1")]
    assert cond.evaluate(c, _ctx({"age": 40})) == {"x": True, "y": None}
    assert not cond.all_met({"x": True, "y": None})


def test_every_example_of_the_schema_document_passes():
    from pathlib import Path

    text = (Path(cond.__file__).parent / "SCHEMA.md").read_text()
    block = text.split("## Examples")[1].split("```cel")[1].split("```")[0]
    examples = [line for line in block.splitlines() if line and not line.startswith("//")]
    assert len(examples) == 6
    for e in examples:
        assert cond.check(e) == [], e
