"""Citizens sign in with their IDCS and a one-time code sent to the phone on record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sijill.accounts.models import User
from sijill.audit.models import AuditEntry
from sijill.portal.models import SignInCode
from sijill.portal.signin import code_hash
from sijill.portal.tests.conftest import sign_in
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db


def test_a_citizen_signs_in_with_the_code_sent_to_their_phone(client, sent_codes):
    person = person_create()
    response = client.post("/sign-in/", {"idcs": person.idcs})
    assert response.status_code == 302 and "/sign-in/code/" in response["Location"]
    code = sent_codes[person.idcs]
    assert len(code) == 6 and code.isdigit()
    response = client.post("/sign-in/code/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/me/"
    user = User.objects.get(idcs=person.idcs)
    assert user.role == "citizen" and not user.has_usable_password()
    assert client.get("/me/").status_code == 200
    assert AuditEntry.objects.filter(action="sign_in", subject=person.idcs).exists()


def test_the_code_is_stored_only_as_a_keyed_hash(client, sent_codes):
    person = person_create()
    client.post("/sign-in/", {"idcs": person.idcs})
    row = SignInCode.objects.get(idcs=person.idcs)
    assert sent_codes[person.idcs] not in row.code_hash
    assert row.code_hash == code_hash(idcs=person.idcs, code=sent_codes[person.idcs])


def test_a_code_works_once(client, sent_codes):
    person = person_create()
    sign_in(client, person.idcs, sent_codes)
    client.post("/sign-out/")
    client.post("/sign-in/", {"idcs": person.idcs})  # not sent again for this check
    SignInCode.objects.filter(idcs=person.idcs, used_at__isnull=True).delete()
    other = client.post("/sign-in/code/", {"code": sent_codes[person.idcs]})
    assert other.status_code == 422


def test_a_wrong_code_is_refused_and_five_wrong_guesses_burn_the_code(client, sent_codes):
    person = person_create()
    client.post("/sign-in/", {"idcs": person.idcs})
    good = sent_codes[person.idcs]
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post("/sign-in/code/", {"code": wrong}).status_code == 422
    assert client.post("/sign-in/code/", {"code": good}).status_code == 422
    assert not User.objects.filter(idcs=person.idcs).exists()


def test_an_expired_code_is_refused(client, sent_codes):
    person = person_create()
    client.post("/sign-in/", {"idcs": person.idcs})
    SignInCode.objects.filter(idcs=person.idcs).update(
        created_at=timezone.now() - timedelta(minutes=10),
        expires_at=timezone.now() - timedelta(minutes=5))
    assert client.post("/sign-in/code/", {"code": sent_codes[person.idcs]}).status_code == 422


def test_a_new_code_replaces_the_previous_one(client, sent_codes):
    person = person_create()
    client.post("/sign-in/", {"idcs": person.idcs})
    first = sent_codes[person.idcs]
    client.post("/sign-in/", {"idcs": person.idcs})
    second = sent_codes[person.idcs]
    if first != second:
        assert client.post("/sign-in/code/", {"code": first}).status_code == 422
    assert client.post("/sign-in/code/", {"code": second}).status_code == 302


def test_the_page_does_not_tell_whether_an_idcs_is_enrolled(client, sent_codes):
    person = person_create(phone="")
    response = client.post("/sign-in/", {"idcs": person.idcs})
    assert response.status_code == 302  # same answer as for an enrolled phone
    assert person.idcs not in sent_codes
    unknown = client.post("/sign-in/", {"idcs": "1234567890"})
    assert unknown.status_code == 302


def test_sending_codes_is_rate_limited_per_idcs(client, sent_codes):
    person = person_create()
    statuses = [client.post("/sign-in/", {"idcs": person.idcs}).status_code for _ in range(7)]
    assert statuses[:5] == [302] * 5
    assert statuses[-1] == 429


def test_sending_codes_is_rate_limited_per_address(client, sent_codes):
    people = [person_create() for _ in range(31)]
    statuses = [client.post("/sign-in/", {"idcs": p.idcs}).status_code for p in people]
    assert statuses[-1] == 429


def test_staff_do_not_sign_in_with_a_code(client, sent_codes):
    person = person_create()
    User.objects.create(username="agent-x", role="admin", idcs=person.idcs)
    client.post("/sign-in/", {"idcs": person.idcs})
    assert person.idcs not in sent_codes


def test_the_portal_session_is_the_api_citizen(client, sent_codes):
    person = person_create()
    sign_in(client, person.idcs, sent_codes)
    response = client.get(f"/api/v1/persons/{person.idcs}")
    assert response.status_code == 200


@pytest.mark.parametrize("typed", ["12345", "0123456789", "12345678901", "12a4567890"])
def test_a_malformed_idcs_is_told_in_the_registers_words_with_a_422(client, sent_codes, typed):
    client.cookies["django_language"] = "fr"
    response = client.post("/sign-in/", {"idcs": typed})
    assert response.status_code == 422
    assert "Un IDCS compte exactement 10 chiffres" in response.content.decode()
    assert not sent_codes
