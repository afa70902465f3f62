"""Analyst and operator pages: formula versions, impact reports, programs and the targeting
simulator, with server-rendered SVG charts and the same figures as text tables."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from django.utils import translation

from sijill.accounts.actors import SYSTEM
from sijill.backoffice.tests.conftest import signed_in
from sijill.households.tests.factories import KENITRA, household_create
from sijill.programs.eligibility import redecide
from sijill.programs.models import Program
from sijill.scoring import selectors as scoring_selectors
from sijill.scoring import services as scoring_services
from sijill.scoring.models import ScoringRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(db):
    households = [household_create(), household_create(), household_create(commune=KENITRA)]
    for h in households:
        scoring_services.score_household_current(household_id=h.pk)
    program = Program.objects.get(code="asd")
    redecide(program)
    return households


def test_the_analyst_sees_the_formula_versions_and_starts_an_impact_report(analyst):
    client = signed_in(analyst)
    formula = scoring_selectors.formula_current()
    listing = client.get("/backoffice/formulas/").content.decode()
    assert f"/backoffice/formulas/{formula.pk}/" in listing
    answer = client.post(f"/backoffice/formulas/{formula.pk}/", {"comparison": "<="})
    run = ScoringRun.objects.get(kind="impact")
    assert answer.status_code == 302 and answer["Location"] == f"/backoffice/runs/{run.pk}/"
    assert run.params["comparison"] == "<="


def test_a_finished_impact_report_shows_its_figures_as_a_chart_and_tables(analyst, scored):
    formula = scoring_selectors.formula_current()
    run = scoring_services.impact_start(actor=SYSTEM, formula_pk=formula.pk)
    scoring_services.impact_run(run)
    with translation.override("en"):
        page = signed_in(analyst).get(f"/backoffice/runs/{run.pk}/",
                                      headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "<table" in html
    assert "style=" not in html  # the content security policy allows no inline style


def test_the_simulator_draws_the_distribution_with_the_threshold_and_tables(analyst, scored):
    client = signed_in(analyst)
    page = client.get("/backoffice/programs/asd/simulator/", {"threshold": "9.5"})
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<svg") >= 5  # histogram + coverage/cost by region and by milieu
    assert 'class="threshold"' in html and "<desc" in html
    assert re.search(r"<table>\s*<caption>", html)
    assert page.context["result"]["threshold"] == 9.5
    assert "style=" not in html and "<script" not in html


def test_the_simulator_finds_the_threshold_of_a_budget(analyst, scored):
    page = signed_in(analyst).get("/backoffice/programs/asd/simulator/", {"budget": "0"})
    assert page.status_code == 200 and page.context["result"]["threshold_from_budget"]


def test_numbers_follow_the_language(analyst, scored):
    client = signed_in(analyst)
    client.cookies["django_language"] = "fr"
    page = client.get("/backoffice/programs/asd/simulator/", {"threshold": "9.5"})
    assert page.context["LANGUAGE_CODE"] == "fr"
    assert "9,5000" in page.content.decode()  # a decimal comma in French


def test_an_agent_may_not_open_the_analyst_pages(agent_a):
    client = signed_in(agent_a)
    for url in ("/backoffice/formulas/", "/backoffice/programs/",
                "/backoffice/programs/asd/simulator/"):
        assert client.get(url).status_code == 403, url


def test_only_an_administrator_activates_a_version_and_must_confirm(analyst, admin_user):
    from sijill.scoring.models import FormulaVersion

    current = scoring_selectors.formula_current()
    draft = scoring_services.formula_save_draft(
        actor=SYSTEM, formula=replace(scoring_services.formula_of(current), version="test-draft"))
    url = f"/backoffice/formulas/{draft.pk}/"
    assert signed_in(analyst).post(url, {"action": "activate",
                                         "activate-understood": "on"}).status_code == 403
    client = signed_in(admin_user)
    unconfirmed = client.post(url, {"action": "activate"})
    assert unconfirmed.status_code == 200 and "understood" in unconfirmed.context[
        "activate"].errors
    answer = client.post(url, {"action": "activate", "activate-understood": "on"})
    assert answer.status_code == 302 and "/backoffice/runs/" in answer["Location"]
    assert FormulaVersion.objects.get(pk=draft.pk).status == "active"
