"""Scores: engine input from the register, idempotent and immutable records, recomputation,
single path = batch path, verified values, scoring on submission."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from sijill.audit.models import AuditEntry
from sijill.declaration.vocab import Milieu, Sex
from sijill.households.tests.factories import household_data
from sijill.population.models import Person
from sijill.scoring import selectors, services
from sijill.scoring.engine import Verified, score_household
from sijill.scoring.models import Score, ScoringRun
from sijill.scoring.tasks import score_household_task
from sijill.scoring.tests.factories import (
    RURAL_KENITRA,
    current_declaration,
    random_household,
    register,
)
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def active():
    fv = selectors.formula_current()
    assert fv is not None and fv.label == "ma-rsu-2021@1.0.0"
    return fv


def test_the_engine_input_joins_the_register_and_the_address():
    head = person_create(sex="F", birth_date=date(1980, 12, 31))
    child = person_create(sex="M", birth_date=date(2015, 1, 1))
    household = register([(head, "head"), (child, "child")], commune=RURAL_KENITRA,
                         milieu="rural")
    version = current_declaration(household)
    data = services.engine_input(version)
    ref = selectors.reference_date(version.created_at)
    assert data.region == "04" and data.milieu is Milieu.RURAL
    assert [m.sex for m in data.members] == [Sex.FEMALE, Sex.MALE]
    assert [m.age for m in data.members] == [
        ref.year - 1980 - (1 if (ref.month, ref.day) < (12, 31) else 0), ref.year - 2015]


def test_score_compute_is_idempotent_and_audited(active):
    household = register()
    version = current_declaration(household)
    first = services.score_compute(household=household, declaration=version,
                                   formula_version=active)
    again = services.score_compute(household=household, declaration=version,
                                   formula_version=active)
    assert first.pk == again.pk
    assert Score.objects.filter(declaration=version, formula=active).count() == 1
    assert AuditEntry.objects.filter(entity="score", action="compute",
                                     entity_id=str(first.pk)).count() == 1


def test_the_database_refuses_a_second_score_of_a_declaration_with_a_formula(active):
    household = register()
    version = current_declaration(household)
    score = services.score_compute(household=household, declaration=version,
                                   formula_version=active)
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(
            household=household, declaration=version, formula=active, value=0.0,
            provisional=False, milieu="urban", region="04", constant=0.0, region_term=0.0,
            values=[], contributions=[], computed_at=score.computed_at)


def test_a_score_is_immutable(active):
    household = register()
    score = services.score_compute(household=household,
                                   declaration=current_declaration(household),
                                   formula_version=active)
    score.value = 1.0
    with pytest.raises(RuntimeError):
        score.save()
    with pytest.raises(RuntimeError):
        score.delete()


@pytest.mark.postgres
def test_postgres_refuses_updating_or_deleting_a_score(active):
    household = register()
    score = services.score_compute(household=household,
                                   declaration=current_declaration(household),
                                   formula_version=active)
    for sql in ("UPDATE scoring_score SET value = 0 WHERE id = %s",
                "DELETE FROM scoring_score WHERE id = %s"):
        with pytest.raises(Exception, match="immutable"), transaction.atomic(), \
                connection.cursor() as cur:
            cur.execute(sql, [score.pk])


def test_recomputing_an_old_score_gives_the_same_number(active):
    head = person_create(birth_date=date(1990, 6, 1))
    household = register([(head, "head"), (person_create(), "spouse")])
    version = current_declaration(household)
    score = services.score_compute(household=household, declaration=version,
                                   formula_version=active)
    # Later: the register corrects the head's birth date, and the household declares again.
    Person.objects.filter(pk=head.pk).update(birth_date=date(1950, 6, 1))
    stored = Score.objects.get(pk=score.pk)
    again = services.score_recompute(stored)
    assert again.value == stored.value
    assert [v.value for v in again.variables] == stored.values
    assert [v.contribution for v in again.variables] == stored.contributions
    assert services.score_result(stored) == again


def test_the_stored_score_matches_the_engine(active):
    household = register(household=household_data(cars=1, rooms=2))
    version = current_declaration(household)
    score = services.score_compute(household=household, declaration=version,
                                   formula_version=active)
    expected = score_household(selectors.formula_of(active), services.engine_input(version))
    assert score.value == expected.value
    assert score.provisional is False  # an urban score (the gap is rural)
    model = selectors.formula_of(active).model("urban")
    assert len(score.values) == len(model.variables)


def test_a_rural_score_with_a_car_is_provisional_and_says_which_variable(active):
    household = register(commune=RURAL_KENITRA, milieu="rural",
                         household=household_data(cars=1))
    score = services.score_compute(household=household,
                                   declaration=current_declaration(household),
                                   formula_version=active)
    assert score.provisional is True
    assert score.provisional_variables == ["owns_car"]


def test_verified_values_replace_declared_ones_and_are_recorded(active):
    household = register(household=household_data(cars=2))
    version = current_declaration(household)
    declared = score_household(selectors.formula_of(active), services.engine_input(version))
    score = services.score_compute(
        household=household, declaration=version, formula_version=active,
        verified={"cars": Verified(value=0, source="vehicle_registry")})
    assert score.value != declared.value
    assert any(sources == ["vehicle_registry"] for sources in score.verified_by.values())
    assert score.inputs["verified"] == {"cars": [0, "vehicle_registry"]}
    assert services.score_recompute(score).value == score.value


def test_the_batch_path_writes_the_same_scores_as_the_single_path(active):
    rng = random.Random(5)
    households = [random_household(rng) for _ in range(14)]
    formula = selectors.formula_of(active)
    run = ScoringRun.objects.create(kind="rescore", formula=active, created_by="test")
    services.rescore_run(run, chunk_size=4)
    assert Score.objects.filter(formula=active).count() == len(households)
    milieux = set()
    for household in households:
        version = current_declaration(household)
        stored = Score.objects.get(declaration=version, formula=active)
        single = score_household(formula, services.engine_input(version))
        milieux.add(stored.milieu)
        assert stored.value == pytest.approx(single.value, abs=1e-9)
        assert stored.values == pytest.approx([v.value for v in single.variables], abs=1e-9)
        assert stored.contributions == pytest.approx(
            [v.contribution for v in single.variables], abs=1e-9)
        assert stored.provisional == single.provisional
        assert stored.provisional_variables == list(single.provisional_variables)
        assert stored.inputs["ages"] == [m.age for m in services.engine_input(version).members]
        # And a batch-written score recomputes to its number through the single path.
        assert services.score_recompute(stored).value == pytest.approx(stored.value, abs=1e-9)
    assert milieux == {"urban", "rural"}


def test_a_submitted_declaration_is_verified_first_then_scored_by_task(
        active, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        household = register()
    # Verification (sijill.verification) scores once the partners answered or the deadline
    # passed; nothing scores on submission directly any more.
    assert not DBTaskResult.objects.filter(task_path__endswith="score_household_task").exists()
    pk = score_household_task.call(household_id=household.pk, version=1)
    assert Score.objects.get(pk=pk).declaration == current_declaration(household)


def test_a_draft_registration_is_not_scored(active):
    household = register(submit=False)
    assert services.score_household_current(household_id=household.pk) is None


def test_the_bulk_writer_skips_declarations_scored_meanwhile(active):
    from django.utils import timezone

    households = [register() for _ in range(3)]
    raced = services.score_compute(household=households[1],
                                   declaration=current_declaration(households[1]),
                                   formula_version=active)
    chunk = selectors.read_chunk(after=0, limit=10)  # read before the race: all three
    rows = services.score_rows(chunk=chunk, formula=selectors.formula_of(active),
                               formula_id=active.pk, computed_at=timezone.now())
    assert rows.height == 3
    written = services.scores_write(rows)
    assert Score.objects.filter(formula=active).count() == 3
    assert Score.objects.get(declaration=current_declaration(households[1])).pk == raced.pk
    assert written == 2
