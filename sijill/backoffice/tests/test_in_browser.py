"""Acceptance in a real browser (Playwright driving Debian's Chromium, no browser download):
an agent signs in with a password and a TOTP code, enrols a person, and sees a probable
duplicate before any IDCS is issued; the pages run under the strict content security policy
(no violation reported). Screenshots are kept in var/artefacts/backoffice/ (ignored by git)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sijill.testing.browser import CHROMIUM, artefacts_dir, chromium_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARTEFACTS = artefacts_dir("backoffice")

pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(monkeypatch: Any) -> Any:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium_page(viewport={"width": 1280, "height": 900}) as page:
        yield page


def shot(page: Any, name: str) -> None:
    screenshot(page, ARTEFACTS, name)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_an_agent_signs_in_with_totp_enrols_a_person_and_sees_a_probable_duplicate(
        live_server, agent_a, page):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from sijill.backoffice.tests.conftest import totp_now
    from sijill.population.models import HeldEnrolment, Person
    from sijill.testing.factories import DEMO_PASSWORD, person_create

    device = TOTPDevice.objects.create(user=agent_a, name="phone", confirmed=True)
    original = person_create(first_name_ar="خديجة", family_name_ar="بناني",
                             first_name_latin="Khadija", family_name_latin="Bennani", sex="F",
                             birth_date=date(1979, 6, 15))

    page.goto(live_server.url + "/backoffice/")
    assert "/backoffice/sign-in/" in page.url  # not signed in: sent to the staff sign-in
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    # With the keyboard only: type, Tab to the next field, Enter submits.
    page.focus("#id_username")
    page.keyboard.type("agent-a")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    shot(page, "01-sign-in-password")
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in/code/")
    page.focus("#id_code")
    page.keyboard.type(totp_now(device))
    shot(page, "02-sign-in-totp")
    page.keyboard.press("Enter")
    page.wait_for_url("**/backoffice/")
    shot(page, "03-home")

    page.goto(live_server.url + "/backoffice/persons/enrol/")
    page.check("input[name=basis][value=document]")
    page.fill("#id_first_name_ar", "خديجة")
    page.fill("#id_family_name_ar", "بناني")
    page.fill("#id_first_name_latin", "Khadija")
    page.fill("#id_family_name_latin", "Benani")
    page.check("input[name=sex][value=F]")
    page.fill("#id_birth_date", "1979-06-15")
    page.fill("#id_birth_place_commune", "04.421.01.0")
    page.fill("#id_cnie", "ZK401122")
    shot(page, "04-enrol-form")
    enrolled_before = Person.objects.count()
    page.locator("form.stacked button.primary").click()
    page.wait_for_url("**/enrolments/held/HE-*/")
    shot(page, "05-probable-duplicate")

    body = page.locator("main").inner_text()
    assert original.idcs in body  # the candidate already enrolled is shown
    assert Person.objects.count() == enrolled_before  # and no IDCS was issued
    held = HeldEnrolment.objects.get(status="held")
    assert held.reference in page.url

    # The agent decides with the keyboard-reachable form: a different person, new IDCS.
    page.check("input[name=decision][value=new_person]")
    page.fill("#id_reason", "Different mother's name on the CNIE")
    page.locator("form.card button.primary").click()
    page.wait_for_url("**/enrolments/held/")
    shot(page, "06-decided")
    held.refresh_from_db()
    assert held.status == "enrolled" and held.person is not None
    assert held.person.idcs != original.idcs

    # The household form, started from the new person (declarant and first member filled in).
    page.goto(f"{live_server.url}/backoffice/households/register/?declarant={held.person.idcs}")
    assert page.locator("#id_place-declarant_idcs").input_value() == held.person.idcs
    shot(page, "07-household-form")

    # The receipt of a household registered at the centre, as printed (print stylesheet).
    from sijill.accounts.auth import actor_for_user
    from sijill.households.tests.factories import household_create

    household = household_create(members=[(held.person, "head")],
                                 actor=actor_for_user(agent_a))
    page.goto(f"{live_server.url}/backoffice/households/{household.reference}/receipt/")
    assert household.reference in page.locator(".receipt").inner_text()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()  # only the receipt prints
    shot(page, "08-receipt-print")
    page.emulate_media(media="screen")
    assert page.csp_violations == []  # type: ignore[attr-defined]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_an_analyst_enrols_an_authenticator_and_reads_the_simulator_in_arabic_then_french(
        live_server, analyst, page):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from sijill.backoffice.tests.conftest import totp_now
    from sijill.households.tests.factories import KENITRA, household_create
    from sijill.programs.eligibility import redecide
    from sijill.programs.models import Program
    from sijill.scoring.services import score_household_current
    from sijill.testing.factories import DEMO_PASSWORD

    for commune in (None, None, KENITRA):
        household = household_create(**({"commune": commune} if commune else {}))
        score_household_current(household_id=household.pk)
    redecide(Program.objects.get(code="asd"))

    page.goto(live_server.url + "/backoffice/programs/asd/simulator/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url("**/sign-in/authenticator/")  # first sign-in: set up the authenticator
    assert page.locator("svg.qr").is_visible()
    shot(page, "11-authenticator-setup")
    device = TOTPDevice.objects.get(user=analyst, confirmed=False)
    page.fill("#id_code", totp_now(device))
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url("**/programs/asd/simulator/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("svg.histogram line.threshold").count() == 1
    shot(page, "12-simulator-ar")

    page.locator("button[name=language][value=fr]").click()
    page.wait_for_load_state()
    html = page.locator("html")
    assert html.get_attribute("lang") == "fr" and html.get_attribute("dir") == "ltr"
    assert "Simulateur de ciblage" in page.locator("h1").inner_text()
    shot(page, "13-simulator-fr")
    assert page.csp_violations == []  # type: ignore[attr-defined]
