import pytest

from sijill.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_citizen_reads_their_own_record(as_citizen, citizen):
    response = as_citizen.get(f"persons/{citizen.idcs}")
    assert response.status_code == 200
    assert response.json()["idcs"] == citizen.idcs


def test_a_citizen_asking_for_another_persons_record_gets_404(as_citizen, person_factory):
    other = person_factory()
    response = as_citizen.get(f"persons/{other.idcs}")
    assert response.status_code == 404
    assert other.family_name_latin not in response.content.decode()


def test_a_citizen_cannot_search_or_enrol(as_citizen):
    assert as_citizen.get("persons", {"cnie": "AB1"}).status_code == 403
    assert as_citizen.post("persons", {}).status_code in {403, 422}


def test_every_read_is_audited_with_the_reader_and_purpose(as_agent_a, agent_a, person_factory):
    person = person_factory()
    as_agent_a.get(f"persons/{person.idcs}", {"purpose": "household registration"})
    entry = AuditEntry.objects.filter(action="read").get()
    assert (entry.actor_label, entry.subject, entry.purpose) == (
        f"user:{agent_a.pk}", person.idcs, "household registration")


def test_staff_search_by_cnie_and_by_name_variants(as_agent_a, person_factory):
    from datetime import date

    person = person_factory(first_name_latin="Mohammed", family_name_latin="El Idrissi",
                            first_name_ar="محمد", family_name_ar="الإدريسي", sex="M",
                            birth_date=date(1970, 1, 2))
    by_cnie = as_agent_a.get("persons", {"cnie": person.cnie.lower()}).json()
    assert [c["idcs"] for c in by_cnie] == [person.idcs]
    by_name = as_agent_a.get("persons", {"first_name_latin": "Mhamed",
                                         "family_name_latin": "Idrissi", "sex": "M",
                                         "birth_date": "1970-01-02"}).json()
    assert by_name[0]["idcs"] == person.idcs


def test_the_history_lists_every_version(as_agent_a, person_factory):
    person = person_factory()
    history = as_agent_a.get(f"persons/{person.idcs}/history").json()
    assert [v["version"] for v in history] == [1]
    assert history[0]["data"]["cnie"] == person.cnie


def test_a_super_user_browses_the_register_in_the_admin_read_only(client, admin_user,
                                                                  person_factory):
    person = person_factory()
    client.force_login(admin_user)
    page = client.get(f"/admin/population/person/?q={person.idcs}")
    assert page.status_code == 200 and person.idcs in page.content.decode()
    assert client.get(f"/admin/population/person/{person.pk}/delete/").status_code == 403


def test_an_agent_cannot_open_the_admin(client, agent_a):
    client.force_login(agent_a)
    assert client.get("/admin/population/person/").status_code == 302
