"""A household's index and its explanation through the API: who may read which household's
score (object-level), what a citizen and an agent see, in ar/fr/en, audited."""

from __future__ import annotations

import pytest

from sijill.audit.models import AuditEntry
from sijill.households.tests.factories import household_data
from sijill.scoring import selectors, services
from sijill.scoring.tests.factories import RURAL_KENITRA, current_declaration, register
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db


def scored(household):
    fv = selectors.formula_current()
    return services.score_compute(household=household,
                                  declaration=current_declaration(household),
                                  formula_version=fv)


@pytest.fixture
def own(citizen):
    household = register([(citizen.person, "head"), (person_create(), "spouse")])
    scored(household)
    return household


@pytest.fixture
def other():
    household = register()
    scored(household)
    return household


def test_a_citizen_reads_their_own_index_and_no_other(as_citizen, own, other):
    r = as_citizen.get(f"households/{own.reference}/score")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["formula"] == "ma-rsu-2021@1.0.0" and body["current"] is True
    assert body["variables"] is None  # a citizen reads the explanation, not the raw variables
    for path in ("score", "score/explanation"):
        r = as_citizen.get(f"households/{other.reference}/{path}")
        assert r.status_code == 404
        assert other.reference not in r.content.decode() or r.json()["error"]["code"] == \
            "not_found"


def test_agents_read_the_index_of_their_provinces_only(as_agent_a, as_agent_b, other):
    r = as_agent_a.get(f"households/{other.reference}/score")
    assert r.status_code == 200
    variables = r.json()["variables"]
    assert len(variables) == 35 and {"value", "coefficient", "source"} <= set(variables[0])
    assert as_agent_b.get(f"households/{other.reference}/score").status_code == 404
    assert as_agent_b.get(f"households/{other.reference}/score/explanation").status_code == 404


def test_analysts_programs_and_anonymous_callers_get_no_household_index(
        as_analyst, as_program, as_anonymous, other):
    for client, status in ((as_analyst, 403), (as_program, 403), (as_anonymous, 401)):
        assert client.get(f"households/{other.reference}/score").status_code == status
        assert client.get(f"households/{other.reference}/score/explanation").status_code == status


def test_an_unscored_household_has_no_index_yet(as_admin):
    household = register()
    r = as_admin.get(f"households/{household.reference}/score")
    assert r.status_code == 404
    assert r.json()["error"]["reason"] == "not_scored"


def test_reads_are_audited(as_agent_a, other):
    as_agent_a.get(f"households/{other.reference}/score")
    as_agent_a.get(f"households/{other.reference}/score/explanation")
    actions = set(AuditEntry.objects.filter(entity="score").values_list("action", flat=True))
    assert {"read_score", "read_explanation"} <= actions


def test_the_citizen_explanation_in_three_languages(as_citizen, own):
    bodies = {}
    for lang in ("ar", "fr", "en"):
        r = as_citizen.get(f"households/{own.reference}/score/explanation", lang=lang)
        assert r.status_code == 200, r.content
        bodies[lang] = r.json()
    en = bodies["en"]
    assert en["audience"] == "citizen" and en["language"] == "en"
    items = en["items"]
    assert items and all(i["contribution"] != 0 for i in items)
    assert [abs(i["contribution"]) for i in items] == sorted(
        (abs(i["contribution"]) for i in items), reverse=True)
    assert all(i["coefficient"] is None and i["value"] is None for i in items)
    assert en["raised"] and all(i["direction"] == "raised" for i in en["raised"])
    total = en["baseline"] + sum(i["contribution"] for i in items)
    assert total == pytest.approx(en["score"], abs=1e-9)
    labels = {lang: [i["label"] for i in b["items"]] for lang, b in bodies.items()}
    assert labels["ar"] != labels["fr"] != labels["en"]
    assert bodies["ar"]["region_name"] == "الرباط -سلا -القنيطرة"
    assert en["provisional"] is False and en["provisional_notice"] is None


def test_a_citizen_reads_household_size_as_one_line_not_a_size_and_its_square(
        as_citizen, as_admin, own):
    citizen = as_citizen.get(f"households/{own.reference}/score/explanation").json()
    agent = as_admin.get(f"households/{own.reference}/score/explanation").json()
    agent_items = {i["key"]: i["contribution"] for i in agent["items"]}
    assert "household_size_squared" in agent_items  # staff see each term
    keys = [i["key"] for i in citizen["items"]]
    assert not any(k.endswith("_squared") for k in keys)
    size = next(i for i in citizen["items"] if i["key"] == "household_size")
    assert size["contribution"] == pytest.approx(
        agent_items["household_size"] + agent_items["household_size_squared"], abs=1e-12)
    assert citizen["baseline"] + sum(i["contribution"] for i in citizen["items"]) == (
        pytest.approx(citizen["score"], abs=1e-9))


def test_the_lang_parameter_overrides_the_accept_language_header(as_citizen, own):
    r = as_citizen.get(f"households/{own.reference}/score/explanation?lang=fr", lang="ar")
    assert r.json()["language"] == "fr"
    r = as_citizen.get(f"households/{own.reference}/score/explanation", lang="ar")
    assert r.json()["language"] == "ar"


def test_the_agent_explanation_has_values_coefficients_and_sources(as_agent_b):
    household = register(commune=RURAL_KENITRA, milieu="rural",
                         household=household_data(cars=1))
    scored(household)
    r = as_agent_b.get(f"households/{household.reference}/score/explanation", lang="fr")
    body = r.json()
    assert body["audience"] == "agent"
    assert len(body["items"]) == 28  # every rural variable, zero contributions included
    car = next(i for i in body["items"] if i["key"] == "owns_car")
    assert car["provisional"] is True and car["value"] == 1.0 and car["coefficient"] == 0.0
    assert car["source"] == "declared"
    assert body["provisional"] is True and body["provisional_variables"] == ["owns_car"]
    assert "provisoire" in body["provisional_notice"]
