from datetime import date

import pytest

from sijill.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_partner_learns_match_or_no_match_per_attribute_and_nothing_else(as_partner,
                                                                          person_factory):
    person = person_factory(first_name_latin="Youssef", family_name_latin="Alaoui",
                            family_name_ar="العلوي", sex="M", birth_date=date(1985, 3, 2))
    response = as_partner.post("identity/verify", {
        "idcs": person.idcs, "first_name_latin": "YOUSSEF", "family_name_ar": "العلوى",
        "birth_date": "1985-02-03", "sex": "M", "purpose": "CNSS affiliation"})
    assert response.status_code == 200
    assert response.json() == {
        "idcs": person.idcs, "enrolled": True, "alive": True,
        "matches": {"first_name_latin": True, "family_name_ar": True, "birth_date": False,
                    "sex": True}}


def test_every_verification_is_logged_with_the_caller(as_partner, person_factory):
    person = person_factory()
    as_partner.post("identity/verify", {"idcs": person.idcs, "sex": person.sex,
                                        "purpose": "CNSS affiliation"})
    entry = AuditEntry.objects.get(action="verify_identity")
    assert entry.actor_role == "partner" and entry.actor_label.startswith("token:")
    assert entry.subject == person.idcs and entry.purpose == "CNSS affiliation"


def test_an_unknown_idcs_is_simply_not_enrolled(as_partner):
    from sijill.population import idcs

    response = as_partner.post("identity/verify", {"idcs": idcs.generate(), "sex": "F"})
    assert response.json()["enrolled"] is False
    assert response.json()["alive"] is None


def test_a_typo_in_the_idcs_gets_a_clear_error(as_partner, person_factory):
    person = person_factory()
    typo = person.idcs[:-1] + str((int(person.idcs[-1]) + 3) % 10)
    response = as_partner.post("identity/verify", {"idcs": typo})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["code"] == "idcs_checksum"


def test_an_agent_cannot_use_the_partner_verification_service(as_agent_a, person_factory):
    person = person_factory()
    assert as_agent_a.post("identity/verify", {"idcs": person.idcs}).status_code == 403


def test_a_program_token_cannot_read_persons(as_program, person_factory):
    person = person_factory()
    assert as_program.get(f"persons/{person.idcs}").status_code == 403
