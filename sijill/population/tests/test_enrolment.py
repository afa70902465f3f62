from datetime import date, timedelta

import pytest

from sijill.population.models import HeldEnrolment, Person, PersonVersion
from sijill.testing import factories

pytestmark = pytest.mark.django_db


def payload(**overrides):
    data = factories.enrolment_input().as_json()
    data.update(overrides)
    return {k: v for k, v in data.items() if v not in (None, [], "")}


def test_an_agent_enrols_a_person_by_cnie_and_gets_an_idcs(as_agent_a):
    response = as_agent_a.post("persons", payload(cnie="AB123456"))
    assert response.status_code == 201, response.content
    person = response.json()["person"]
    assert len(person["idcs"]) == 10
    assert person["cnie"] == "AB123456"
    stored = Person.objects.get(idcs=person["idcs"])
    assert stored.centre.code == "rabat-agdal"
    assert PersonVersion.objects.filter(person=stored, version=1, reason="enrolment").exists()


def test_an_arabic_name_is_kept_as_written_letter_for_letter(as_agent_a):
    """Ta marbuta, alef maqsura and hamza are part of a legal name: only the matching keys fold
    them. Tatweel (decoration) and extra spaces are dropped."""
    response = as_agent_a.post("persons", payload(first_name_ar="فاطمة  الزهراء",
                                                  family_name_ar="مصطفى ـالإدريسي"))
    assert response.status_code == 201, response.content
    person = response.json()["person"]
    assert (person["first_name_ar"], person["family_name_ar"]) == ("فاطمة الزهراء",
                                                                   "مصطفى الإدريسي")
    stored = Person.objects.get(idcs=person["idcs"])
    assert stored.first_key_ar == "فاطمهالزهراء"  # the key folds, for duplicate search


def test_the_idcs_encodes_nothing_about_the_person(person_factory):
    alike = [person_factory(sex="F", birth_date=date(1990, 5, 5), birth_place_commune="04.421.01.0")
             for _ in range(30)]
    numbers = [p.idcs for p in alike]
    assert len(set(numbers)) == 30
    assert len({n[:2] for n in numbers}) >= 10  # same sex, birth and place: no shared prefix


def test_an_anonymous_caller_can_read_nothing(as_anonymous, person_factory):
    person = person_factory()
    assert as_anonymous.get(f"persons/{person.idcs}").status_code == 401
    assert as_anonymous.post("persons", payload()).status_code == 401
    assert as_anonymous.get("persons", {"cnie": person.cnie}).status_code == 401


def test_a_second_enrolment_of_the_same_cnie_is_refused_and_writes_nothing(as_agent_a):
    assert as_agent_a.post("persons", payload(cnie="AB123456")).status_code == 201
    count = Person.objects.count()
    response = as_agent_a.post("persons", payload(cnie="ab 123456"))
    assert response.status_code == 409
    assert response.json()["error"]["fields"][0]["field"] == "cnie"
    assert Person.objects.count() == count


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"cnie": "123-XYZ"}, "cnie", "invalid_cnie"),
    ({"birth_date": (date.today() + timedelta(days=3)).isoformat()}, "birth_date", "in_future"),
    ({"first_name_ar": "Mohammed"}, "first_name_ar", "not_arabic_script"),
    ({"family_name_latin": "بناني"}, "family_name_latin", "not_latin_script"),
    ({"mother_idcs": "12345"}, "mother_idcs", "idcs_format"),
    ({"phone": "12"}, "phone", "invalid_phone"),
    ({"birth_place_commune": "99.999.99.9"}, "birth_place_commune", "unknown_commune"),
    ({"sex": "X"}, "sex", "literal_error"),
])
def test_bad_input_gets_a_field_level_error_and_nothing_is_written(as_agent_a, overrides, field,
                                                                   code):
    response = as_agent_a.post("persons", payload(**overrides))
    assert response.status_code == 422, response.content
    errors = {(e["field"], e["code"]) for e in response.json()["error"]["fields"]}
    assert (field, code) in errors
    assert Person.objects.count() == 0


def test_a_mistyped_idcs_is_told_apart_from_a_malformed_one(as_agent_a, person_factory):
    mother = person_factory(sex="F", birth_date=date(1960, 1, 1))
    typo = mother.idcs[:9] + str((int(mother.idcs[9]) + 1) % 10)
    response = as_agent_a.post("persons", payload(mother_idcs=typo))
    assert response.json()["error"]["fields"][0]["code"] == "idcs_checksum"


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "Write this name in Arabic letters only."),
    ("fr", "Écrivez ce nom en lettres arabes uniquement."),
    ("ar", "اكتب هذا الاسم بالحروف العربية فقط."),
])
def test_errors_speak_the_callers_language(as_agent_a, lang, text):
    response = as_agent_a.post("persons", payload(first_name_ar="Omar"), lang=lang)
    assert response.json()["error"]["fields"][0]["message"] == text


def test_a_person_without_documents_is_enrolled_on_two_adult_witnesses(as_agent_a,
                                                                       person_factory):
    w1, w2 = person_factory(), person_factory()
    response = as_agent_a.post("persons", payload(basis="witnesses", cnie=None,
                                                  witness_idcs=[w1.idcs, w2.idcs]))
    assert response.status_code == 201, response.content
    assert sorted(response.json()["person"]["witness_idcs"]) == sorted([w1.idcs, w2.idcs])


def test_a_minor_cannot_witness(as_agent_a, person_factory):
    adult = person_factory()
    minor = person_factory(birth_date=date.today() - timedelta(days=365 * 15), cnie=None,
                           basis="birth_certificate", birth_certificate_ref="BC-1",
                           mother_idcs=person_factory(sex="F",
                                                      birth_date=date(1980, 1, 1)).idcs)
    response = as_agent_a.post("persons", payload(basis="witnesses", cnie=None,
                                                  witness_idcs=[adult.idcs, minor.idcs]))
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"field": "witness_idcs.1", "code": "witness_minor",
         "message": "A witness must be an adult (18 or over)."}]


def test_a_witness_must_be_enrolled(as_agent_a, person_factory):
    from sijill.population import idcs

    response = as_agent_a.post("persons", payload(basis="witnesses", cnie=None,
                                                  witness_idcs=[person_factory().idcs,
                                                                idcs.generate()]))
    assert response.json()["error"]["fields"][0]["code"] == "not_enrolled"


def test_a_witness_needs_a_cnie(as_agent_a, person_factory):
    no_cnie = person_factory(basis="witnesses", cnie=None,
                             witness_idcs=[person_factory().idcs, person_factory().idcs])
    response = as_agent_a.post("persons", payload(basis="witnesses", cnie=None,
                                                  witness_idcs=[person_factory().idcs,
                                                                no_cnie.idcs]))
    assert response.json()["error"]["fields"][0]["code"] == "witness_without_cnie"


def test_a_child_is_enrolled_by_birth_certificate_linked_to_a_parent(as_agent_a,
                                                                      person_factory):
    mother = person_factory(sex="F", birth_date=date(1988, 3, 3))
    child = payload(basis="birth_certificate", cnie=None, birth_certificate_ref="RABAT-2019-77",
                    birth_date="2019-06-01", mother_idcs=mother.idcs, phone=None)
    response = as_agent_a.post("persons", child)
    assert response.status_code == 201, response.content
    assert response.json()["person"]["mother_idcs"] == mother.idcs


def test_a_child_by_birth_certificate_needs_a_parent(as_agent_a):
    child = payload(basis="birth_certificate", cnie=None, birth_certificate_ref="X-1",
                    birth_date="2019-06-01")
    response = as_agent_a.post("persons", child)
    assert response.json()["error"]["fields"][0]["code"] == "parent_required"


def test_a_birth_year_alone_is_accepted_when_that_is_all_that_is_known(as_agent_a):
    data = payload()
    del data["birth_date"]
    data["birth_year"] = 1941
    response = as_agent_a.post("persons", data)
    person = response.json()["person"]
    assert person["birth_year_only"] is True and person["birth_date"] == "1941-01-01"


def test_a_foreign_resident_is_enrolled_with_a_residence_card(as_agent_a):
    response = as_agent_a.post("persons", payload(cnie=None, nationality="SN",
                                                  residence_status="resident",
                                                  residence_card="RS1234567"))
    assert response.status_code == 201, response.content
    assert response.json()["person"]["nationality"] == "SN"


def test_a_probable_duplicate_is_held_for_an_agent_instead_of_getting_a_second_idcs(
        as_agent_a, person_factory):
    existing = person_factory(first_name_ar="محمد", family_name_ar="العمراني",
                              first_name_latin="Mohammed", family_name_latin="El Amrani",
                              sex="M", birth_date=date(1980, 4, 7))
    count = Person.objects.count()
    response = as_agent_a.post("persons", payload(
        basis="witnesses", cnie=None, first_name_ar="مُحمد", family_name_ar="عمراني",
        first_name_latin="Mohamed", family_name_latin="Amrani", sex="M",
        birth_date="1980-07-04",  # day and month swapped
        witness_idcs=[person_factory().idcs, person_factory().idcs]))
    assert response.status_code == 202, response.content
    held = response.json()["held"]
    assert held["candidates"][0]["idcs"] == existing.idcs
    assert held["candidates"][0]["score"] >= 0.85
    assert Person.objects.count() == count + 2  # only the two witnesses


def test_an_agent_decides_a_held_enrolment_is_the_same_person(as_agent_a, person_factory):
    existing = person_factory(first_name_latin="Fatima", first_name_ar="فاطمة",
                              family_name_latin="Bennani", family_name_ar="بناني", sex="F",
                              birth_date=date(1975, 2, 1))
    response = as_agent_a.post("persons", payload(
        first_name_latin="Fatma", first_name_ar="فاطمه", family_name_latin="Benani",
        family_name_ar="بناني", sex="F", birth_date="1975-02-01"))
    reference = response.json()["held"]["reference"]
    assert [h["reference"] for h in as_agent_a.get("enrolments/held").json()] == [reference]
    decision = as_agent_a.post(f"enrolments/{reference}/decision",
                               {"decision": "same_person", "same_as_idcs": existing.idcs})
    assert decision.json() == {"reference": reference, "status": "same_person",
                               "person_idcs": existing.idcs}
    again = as_agent_a.post(f"enrolments/{reference}/decision", {"decision": "reject"})
    assert again.status_code == 409


def test_an_agent_may_decide_a_held_enrolment_is_a_new_person(as_agent_a, person_factory):
    person_factory(first_name_latin="Omar", first_name_ar="عمر", family_name_latin="Tazi",
                   family_name_ar="التازي", sex="M", birth_date=date(2001, 9, 9))
    response = as_agent_a.post("persons", payload(
        first_name_latin="Omar", first_name_ar="عمر", family_name_latin="Ettazi",
        family_name_ar="تازي", sex="M", birth_date="2001-09-09"))
    reference = response.json()["held"]["reference"]
    decision = as_agent_a.post(f"enrolments/{reference}/decision",
                               {"decision": "new_person", "reason": "twin brother"})
    assert decision.json()["status"] == "enrolled"
    held = HeldEnrolment.objects.get(reference=reference)
    assert held.person.idcs == decision.json()["person_idcs"]


def test_an_agent_of_another_centre_does_not_see_the_held_enrolment(as_agent_a, as_agent_b,
                                                                      person_factory):
    person_factory(first_name_latin="Nadia", first_name_ar="نادية", family_name_latin="Ziani",
                   family_name_ar="الزياني", sex="F", birth_date=date(1999, 1, 1))
    as_agent_a.post("persons", payload(first_name_latin="Nadia", first_name_ar="نادية",
                                       family_name_latin="Zyani", family_name_ar="زياني",
                                       sex="F", birth_date="1999-01-01"))
    assert as_agent_b.get("enrolments/held").json() == []


def test_an_agent_of_another_centre_cannot_decide_the_held_enrolment(as_agent_a, as_agent_b,
                                                                      person_factory):
    person_factory(first_name_latin="Hassan", first_name_ar="حسن", family_name_latin="Fassi",
                   family_name_ar="الفاسي", sex="M", birth_date=date(1966, 6, 6))
    response = as_agent_a.post("persons", payload(first_name_latin="Hasan", first_name_ar="حسن",
                                                  family_name_latin="El Fassi",
                                                  family_name_ar="فاسي", sex="M",
                                                  birth_date="1966-06-06"))
    reference = response.json()["held"]["reference"]
    decision = as_agent_b.post(f"enrolments/{reference}/decision", {"decision": "new_person"})
    assert decision.status_code == 404
    assert HeldEnrolment.objects.get(reference=reference).status == "held"
