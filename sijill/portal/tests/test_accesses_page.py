"""The citizen's "who accessed my data" page speaks the reader's language."""

from __future__ import annotations

import pytest
from django.test import Client

from sijill.accounts.actors import SYSTEM
from sijill.audit.services import audit_record
from sijill.households.tests.factories import household_create
from sijill.testing import factories

pytestmark = pytest.mark.django_db


def _citizen(idcs: str) -> Client:
    user = factories.user_create(username=f"c-{idcs}", role="citizen", idcs=idcs)
    client = Client()
    client.force_login(user)
    return client


def test_the_system_purposes_are_shown_in_words_and_a_stated_purpose_as_written():
    household = household_create()
    idcs = household.declarant.idcs
    audit_record(actor=SYSTEM, action="read", entity="person", entity_id=idcs, subject=idcs,
                 purpose="verification")
    audit_record(actor=SYSTEM, action="read", entity="person", entity_id=idcs, subject=idcs,
                 purpose=f"score review {household.reference}")
    audit_record(actor=SYSTEM, action="read", entity="person", entity_id=idcs, subject=idcs,
                 purpose="home visit by the social worker")
    client = _citizen(idcs)

    def page(language: str) -> str:
        client.cookies["django_language"] = language
        return client.get("/me/accesses/").content.decode()

    french, arabic, english = page("fr"), page("ar"), page("en")
    assert "vérification de votre déclaration auprès des organismes partenaires" in french
    assert f"révision de votre indice (dossier {household.reference})" in french
    assert "التحقق من تصريحك لدى الهيئات الشريكة" in arabic
    assert "checking your declaration with partner bodies" in english
    for page in (french, arabic, english):
        assert "home visit by the social worker" in page
        assert ">verification<" not in page


#: Codes the audit trail records about no person (runs, formulas, tokens, files, programs'
#: settings): they never reach a citizen's page.
NOT_ABOUT_A_PERSON = {
    "activate", "bulk_import", "bulk_load", "create_application", "create_token", "enrol_totp",
    "give_up", "impact_report", "import", "read_notice_deadlines", "rescore_done", "retry",
    "set_rollout", "start", "subscribe", "unsubscribe", "update_application",
    "verification_import",
}


def _recorded_action_codes() -> set[str]:
    """Every literal action code the application records (argparse's are not audit codes)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for path in root.rglob("*.py"):
        if "/tests/" in str(path) or "/management/" in str(path):
            continue
        text = path.read_text()
        found |= set(re.findall(r'audit_record\([^)]*?action="([a-z_]+)"', text, re.S))
        found |= set(re.findall(r'_audit\w*\(\s*\w+,\s*"([a-z_]+)"', text))
    return found


def test_every_action_recorded_about_a_person_has_words_in_the_three_languages():
    from django.utils import translation

    from sijill.portal.templatetags.portal import ACTIONS, ENTITY_ACTIONS

    codes = _recorded_action_codes()
    assert {"read", "track", "verification_concluded", "file"} <= codes  # the scan works
    worded = set(ACTIONS) | {code for code, _entity in ENTITY_ACTIONS}
    assert codes - NOT_ABOUT_A_PERSON - worded == set()
    for language in ("fr", "ar"):
        with translation.override(language):
            untranslated = {code for code, words in ACTIONS.items()
                            if str(words) == str(words._args[0])}  # type: ignore[attr-defined]
        assert untranslated == set(), language


def test_the_system_and_a_queue_listing_are_said_in_words():
    household = household_create()
    idcs = household.declarant.idcs
    audit_record(actor=SYSTEM, action="verification_concluded", entity="household",
                 entity_id=household.reference, subject=idcs)
    audit_record(actor=SYSTEM, action="list", entity="complaint", entity_id="queue", subject=idcs)
    client = _citizen(idcs)
    client.cookies["django_language"] = "en"
    page = client.get("/me/accesses/").content.decode()
    assert "concluded the check of your declaration with partner bodies" in page
    assert "listed your complaint in the complaints queue" in page
    assert "the automatic processing of your file" in page
    assert "(list)" not in page and ">system<" not in page
