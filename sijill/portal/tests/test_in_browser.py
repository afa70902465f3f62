"""Acceptance in a real browser (Playwright driving Debian's Chromium, no browser download):
a citizen signs in with the code sent by SMS, registers a household in Arabic, sees its index
and its explanation; switching to French flips the page to left-to-right. Screenshots are kept
in var/artefacts/portal/ (ignored by git; CI may upload them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sijill.testing.browser import CHROMIUM, artefacts_dir, chromium_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARTEFACTS = artefacts_dir("portal")

pytest.importorskip("playwright.sync_api")


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    """SMS go to the notifications file backend (it plays the phone); tasks run in-process."""
    from sijill.notifications import backends

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS,
                              "SMS_BACKEND": "sijill.notifications.backends.FileBackend",
                              "OUTBOX_DIR": tmp_path / "outbox"}
    settings.TASKS = {"default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    backends.reset()
    yield tmp_path / "outbox"
    backends.reset()


@pytest.fixture
def page(monkeypatch: Any) -> Any:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium_page(viewport={"width": 390, "height": 844}, device_scale_factor=1) as page:
        yield page


def shot(page: Any, name: str) -> None:
    screenshot(page, ARTEFACTS, name)


def _continue(page: Any) -> None:
    page.locator("button[name=next]").click()
    page.wait_for_load_state()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_a_citizen_signs_in_registers_in_arabic_and_sees_the_index(live_server, outbox, page):
    from sijill.households.models import Household
    from sijill.notifications.selectors import last_code_to
    from sijill.scoring.models import Score
    from sijill.scoring.services import score_household_current
    from sijill.testing.factories import person_create

    me = person_create()
    child = person_create(birth_date=me.birth_date.replace(year=me.birth_date.year + 25))

    page.goto(live_server.url + "/")
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    shot(page, "01-home-ar")
    # Keyboard: the first Tab reaches the skip link, which is then visible.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0

    # Sign in: IDCS, then the code the SMS carried.
    page.locator("a.button[href='/sign-in/']").click()
    page.fill("input[name=idcs]", me.idcs)
    page.locator("button[type=submit].primary").click()
    page.wait_for_url("**/sign-in/code/**")
    code = last_code_to(me.phone)
    assert code and len(code) == 6
    shot(page, "02-code-ar")
    page.fill("input[name=code]", code)
    page.locator("button[type=submit].primary").click()
    page.wait_for_url("**/me/")
    shot(page, "03-my-space-ar")

    # The guided registration, in Arabic.
    page.locator("a.button[href='/me/register/']").click()
    page.wait_for_url("**/me/declaration/place/")
    page.select_option("select[name=commune]", "04.421.01.0")
    page.check("input[name=milieu][value=urban]")
    page.fill("input[name=address]", "12 زنقة عقبة، أكدال")
    shot(page, "04-register-place-ar")
    _continue(page)
    page.wait_for_url("**/me/declaration/members/")
    page.fill("input[name='m-0-idcs']", child.idcs)
    page.fill("input[name='m-0-birth_date']", child.birth_date.isoformat())
    shot(page, "05-register-members-ar")
    _continue(page)
    page.wait_for_url("**/me/declaration/people/")
    page.select_option("select[name='p0-marital_status']", "married")
    page.select_option("select[name='p0-activity']", "employed")
    page.select_option("select[name='p0-employment_status']", "private_employee")
    page.select_option("select[name='p0-occupation']", "labourer")
    page.select_option("select[name='p1-activity']", "student")
    page.select_option("select[name='p1-schooling']", "public")
    shot(page, "06-register-people-ar")
    _continue(page)
    page.wait_for_url("**/me/declaration/dwelling/")
    page.select_option("select[name=dwelling_type]", "moroccan_house")
    page.fill("input[name=rooms]", "3")
    page.check("input[name=has_kitchen]")
    page.check("input[name=has_toilet]")
    page.check("input[name=has_running_water]")
    _continue(page)
    page.wait_for_url("**/me/declaration/assets/")
    page.fill("input[name=mobile_phones]", "2")
    page.fill("input[name=monthly_electricity_dh]", "180")
    page.fill("input[name=monthly_butane_dh]", "90")
    _continue(page)
    page.wait_for_url("**/me/declaration/review/")
    shot(page, "07-register-review-ar")
    page.locator("button[name=send]").click()
    page.wait_for_url("**/me/household/")
    shot(page, "08-household-ar")

    household = Household.objects.get(declarant__idcs=me.idcs)
    assert household.status != "draft"
    assert household.reference in page.content()

    # Verification ends by scoring the declaration, once the partners answered (at once with
    # the simulated partners in tasks run in-process); score it here if it has not yet.
    if not Score.objects.filter(household=household).exists():
        score_household_current(household_id=household.pk)

    page.goto(live_server.url + "/me/index/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("[data-testid=score]").inner_text().strip()
    assert page.locator(".bars svg rect").count() >= 2
    assert page.locator(".bars__value").first.inner_text().strip()[0] in "+−"
    shot(page, "09-index-ar")

    # Switch to French: the page flips to left-to-right.
    page.locator(".lang-switch button[value=fr]").click()
    page.wait_for_load_state()
    html = page.locator("html")
    assert html.get_attribute("lang") == "fr" and html.get_attribute("dir") == "ltr"
    assert page.url.endswith("/me/index/")
    shot(page, "10-index-fr")

    assert page.csp_violations == []
