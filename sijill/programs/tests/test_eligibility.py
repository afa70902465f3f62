"""Eligibility: each seed program at, just below and just above its threshold, both
comparisons; conditions; history; re-decisions when a score, the data or the rules change."""

from __future__ import annotations

import pytest

from sijill.accounts.actors import SYSTEM
from sijill.households.models import Household
from sijill.households.services import household_transition
from sijill.programs import eligibility, services
from sijill.programs.models import EligibilityDecision, Program
from sijill.programs.tests.factories import family, score

pytestmark = pytest.mark.django_db

EPS = 1e-6
SEEDS = {"amo-tadamon": 9.3264284, "asd": 9.743001, "school-support": 9.743001,
         "disability-allowance": 9.743001}


def qualifying_family():
    """A household meeting every seed program's conditions: a schooled child of 9 and a
    member with a disability."""
    return family(children=[{"age": 9, "schooling": "public"},
                            {"age": 12, "schooling": "not_schooled", "disability": "visual"}])


def current(program: Program, household: Household) -> EligibilityDecision:
    return EligibilityDecision.objects.get(program=program, household=household, current=True)


def test_the_seed_programs_exist_with_the_published_thresholds():
    programs = {p.code: p for p in Program.objects.all()}
    for code, threshold in SEEDS.items():
        assert programs[code].threshold == threshold
        assert programs[code].comparison == "<"
        assert programs[code].status == "active"
    assert programs["asd"].benefit_minimum == 500 and programs["asd"].benefit_per_child == 250


@pytest.mark.parametrize("code", list(SEEDS))
@pytest.mark.parametrize(("comparison", "offset", "expected"), [
    ("<", 0.0, False), ("<", -EPS, True), ("<", EPS, False),
    ("<=", 0.0, True), ("<=", -EPS, True), ("<=", EPS, False),
])
def test_each_seed_program_at_just_below_and_just_above_its_threshold(
        code, comparison, offset, expected):
    program = Program.objects.get(code=code)
    if comparison != program.comparison:
        program = services.program_update(actor=SYSTEM, code=code,
                                          values={"comparison": comparison})
    household = qualifying_family()
    score(household, program.threshold + offset)
    eligibility.redecide(program, household_ids=[household.pk])
    decision = current(program, household)
    assert decision.eligible is expected
    assert decision.score_ok is expected
    assert decision.score_value == program.threshold + offset
    assert decision.threshold == program.threshold
    assert decision.comparison == comparison
    assert decision.conditions_met is True


def test_conditions_are_recorded_and_decide():
    program = Program.objects.get(code="school-support")
    with_child = family(children=[{"age": 8, "schooling": "public"}])
    out_of_school = family(children=[{"age": 8, "schooling": "not_schooled"}])
    too_old = family(children=[{"age": 16, "schooling": "public"}])
    for h in (with_child, out_of_school, too_old):
        score(h, 8.0)
    eligibility.redecide(program)
    assert current(program, with_child).eligible
    assert current(program, with_child).conditions == {"school_age_child_in_school": True}
    for h in (out_of_school, too_old):
        d = current(program, h)
        assert not d.eligible and d.score_ok and not d.conditions_met
        assert d.conditions == {"school_age_child_in_school": False}


def test_current_scores_reads_the_index_of_the_current_declaration():
    from sijill.programs.selectors import current_scores

    scored, unscored = family(), family()
    s = score(scored, 9.25)
    frame = current_scores([scored.pk, unscored.pk]).sort("household_id")
    assert frame["score_id"].to_list() == [s.pk, None]
    assert frame["score_value"].to_list() == [9.25, None]


def test_a_household_without_a_current_score_gets_no_decision():
    program = Program.objects.get(code="asd")
    household = family()
    out = eligibility.redecide(program)
    assert out.written == 0
    assert not EligibilityDecision.objects.filter(household=household).exists()


def test_redeciding_without_change_writes_nothing_and_history_is_kept():
    program = Program.objects.get(code="asd")
    household = family()
    score(household, 9.0)
    first = eligibility.redecide(program)
    assert first.written == 1 and first.changes == [(household.pk, True)]
    again = eligibility.redecide(program)
    assert again.written == 0 and again.changes == []
    updated = services.program_update(actor=SYSTEM, code="asd", values={"threshold": 8.5})
    out = eligibility.redecide(updated)
    assert out.changes == [(household.pk, False)]
    rows = list(EligibilityDecision.objects.filter(program=program, household=household)
                .order_by("id"))
    assert [(r.eligible, r.current, r.reason) for r in rows] == [
        (True, False, "first"), (False, True, "rules")]
    assert rows[1].previous_eligible is True and rows[1].rules_version == 2


def test_a_threshold_change_reuses_the_conditions_results():
    program = Program.objects.get(code="school-support")
    households = [family(children=[{"age": 8, "schooling": "public"}]) for _ in range(3)]
    for i, h in enumerate(households):
        score(h, 9.0 + i * 0.1)
    assert eligibility.redecide(program).evaluated == 3
    updated = services.program_update(actor=SYSTEM, code="school-support",
                                      values={"threshold": 9.15})
    out = eligibility.redecide(updated)
    assert out.evaluated == 0  # the declaration and the conditions did not change
    assert [e for _, e in out.changes] == [False]
    # Only the household whose outcome changed gets a new decision; the others' stand.
    assert out.written == 1
    assert current(updated, households[2]).threshold == 9.15
    assert current(updated, households[0]).threshold == 9.743001


def test_a_condition_change_re_decides_the_affected_households(
        immediate_tasks, django_capture_on_commit_callbacks):
    program = Program.objects.get(code="disability-allowance")
    visual = family(children=[{"age": 10, "disability": "visual"}])
    physical = family(children=[{"age": 10, "disability": "physical"}])
    for h in (visual, physical):
        score(h, 9.0)
    eligibility.redecide(program)
    assert current(program, visual).eligible and current(program, physical).eligible
    with django_capture_on_commit_callbacks(execute=True):
        services.program_update(actor=SYSTEM, code=program.code, values={"conditions": [
            {"key": "member_with_disability",
             "expression": 'members.exists(m, m.disability == "physical")'}]})
    assert not current(program, visual).eligible
    assert current(program, visual).reason == "rules"
    assert current(program, physical).eligible


def test_a_new_score_re_decides_the_household(immediate_tasks,
                                              django_capture_on_commit_callbacks):
    household = family()
    with django_capture_on_commit_callbacks(execute=True):
        score(household, 9.5)
    asd = Program.objects.get(code="asd")
    amo = Program.objects.get(code="amo-tadamon")
    assert current(asd, household).eligible and not current(amo, household).eligible


def test_a_household_leaving_the_registry_stops_being_eligible():
    program = Program.objects.get(code="asd")
    household = family()
    score(household, 9.0)
    eligibility.redecide(program)
    household_transition(actor=SYSTEM, reference=household.reference, to="cancelled")
    out = eligibility.redecide(program)
    assert out.changes == [(household.pk, False)]
    d = current(program, household)
    assert d.reason == "registry" and d.score_id is None
    assert eligibility.redecide(program).written == 0


def test_a_closed_program_decides_no_more():
    household = family()
    score(household, 9.0)
    services.program_update(actor=SYSTEM, code="asd", values={"status": "closed"})
    codes = {o.program for o in eligibility.redecide_all()}
    assert "asd" not in codes and "amo-tadamon" in codes
    assert not EligibilityDecision.objects.filter(program__code="asd").exists()


def test_a_change_of_the_households_data_re_decides_it(immediate_tasks,
                                                       django_capture_on_commit_callbacks):
    from sijill.declaration.model import Declaration
    from sijill.households.services import declaration_of, household_declaration_update

    program = Program.objects.get(code="disability-allowance")
    household = family(children=[{"age": 10}])
    score(household, 9.0)
    eligibility.redecide(program)
    assert not current(program, household).conditions_met
    household.refresh_from_db()
    version = household.versions.get(version=household.current_version)
    data = declaration_of(version).to_dict()
    data["members"][1]["disability"] = "hearing"
    with django_capture_on_commit_callbacks(execute=True):
        household_declaration_update(actor=SYSTEM, reference=household.reference,
                                     declaration=Declaration.from_dict(data))
    # The update was rescored (scoring's task), the new score re-decided the household.
    from sijill.scoring.models import Score

    new_score = Score.objects.get(household=household, declaration__version=2)
    d = current(program, household)
    assert d.declaration_version == 2 and d.score_id == new_score.pk
    assert d.conditions == {"member_with_disability": True} and d.conditions_met
    assert d.eligible is (new_score.value < program.threshold)


def test_the_redecide_command(capsys):
    household = family()
    score(household, 9.0)
    from django.core.management import call_command

    call_command("redecide_programs", "--program", "asd")
    assert "asd: 0 households' conditions run, 1 decisions written, 1 changes" in (
        capsys.readouterr().out)
    call_command("redecide_programs", "--recheck")
    assert EligibilityDecision.objects.filter(household=household, current=True).count() == 4


def test_conditions_cel_cannot_be_vectorised_are_run_by_cel():
    household = family(children=[{"age": 8}, {"age": 3}])
    score(household, 9.0)
    program = services.program_update(actor=SYSTEM, code="asd", values={"conditions": [
        {"key": "two_children", "expression": "members.map(m, m.age).size() == 3"}]})
    eligibility.redecide(program)
    assert current(program, household).conditions == {"two_children": True}


def test_a_wrong_translation_is_caught_and_cel_decides(monkeypatch):
    from sijill.programs import vectorised

    real = vectorised.evaluate

    def wrong(plans, households, members):
        out = real(plans, households, members)
        return out.with_columns([~out[k] for k in plans])

    monkeypatch.setattr(vectorised, "evaluate", wrong)
    program = Program.objects.get(code="school-support")
    with_child = family(children=[{"age": 8, "schooling": "public"}])
    score(with_child, 9.0)
    eligibility.redecide(program)
    assert current(program, with_child).eligible


def test_a_threshold_change_of_few_households_among_many_keeps_their_conditions():
    """Few rows written among many decisions: on PostgreSQL they are joined by primary key."""
    households = [family(children=[{"age": 8, "schooling": "public"}]) for _ in range(12)]
    for i, h in enumerate(households):
        score(h, 9.7 if i == 5 else 9.0)
    eligibility.redecide_all()
    updated = services.program_update(actor=SYSTEM, code="school-support",
                                      values={"threshold": 9.65})
    out = eligibility.redecide(updated, reason="rules")
    assert out.written == 1 and out.changes == [(households[5].pk, False)]
    moved = current(updated, households[5])
    assert (moved.eligible, moved.reason, moved.previous_eligible) == (False, "rules", True)
    assert moved.conditions == {"school_age_child_in_school": True}
    assert EligibilityDecision.objects.filter(program=updated, current=True).count() == 12


def test_a_full_re_decision_with_nothing_changed_is_skipped_and_a_new_score_is_not():
    households = [family() for _ in range(2)]
    score(households[0], 9.0)
    first = {o.program: o for o in eligibility.redecide_all()}
    assert not first["asd"].skipped and first["asd"].written == 1
    assert all(o.skipped for o in eligibility.redecide_all())
    updated = services.program_update(actor=SYSTEM, code="asd", values={"threshold": 8.5})
    outcomes = {o.program: o for o in eligibility.redecide_all(reason="rules")}
    assert not outcomes["asd"].skipped and outcomes["asd"].changes == [
        (households[0].pk, False)]
    assert outcomes["amo-tadamon"].skipped  # its rules and the registry did not change
    score(households[1], 8.0)
    again = {o.program: o for o in eligibility.redecide_all()}
    assert not again["amo-tadamon"].skipped
    assert again["asd"].changes == [(households[1].pk, True)]
    assert current(updated, households[1]).eligible
    assert not any(o.skipped for o in eligibility.redecide_all(recheck=True))


def test_processing_steps_queue_no_re_decision_but_leaving_the_registry_does(
        monkeypatch, django_capture_on_commit_callbacks):
    from sijill.programs import receivers

    household = family()
    score(household, 9.0)
    queued: list[str] = []
    monkeypatch.setattr(receivers, "_enqueue_households",
                        lambda ids, reason: queued.append(reason))
    household.refresh_from_db()
    steps = {"submitted": ["verifying", "scored", "notified"],
             "verifying": ["scored", "notified"], "scored": ["notified"]}
    assert household.status in steps, household.status
    for to in steps[household.status]:
        with django_capture_on_commit_callbacks(execute=True):
            household_transition(actor=SYSTEM, reference=household.reference, to=to)
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        household_transition(actor=SYSTEM, reference=household.reference, to="cancelled")
    assert queued == ["data"]
