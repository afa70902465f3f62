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
