"""Deciding a cluster: a merge keeps everything of the retired IDCS reachable; a pair marked
distinct is never proposed again."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from sijill.accounts.actors import Actor
from sijill.audit.models import AuditEntry
from sijill.core.errors import Conflict, PermissionDenied, ValidationFailed
from sijill.dedup import linkage, services
from sijill.dedup.models import ClusterMember, DedupRun, DistinctPair, DuplicateCluster
from sijill.households.models import Household, MemberDeclaration, Membership
from sijill.households.tests.factories import household_create
from sijill.population import access
from sijill.population.models import Person, PersonVersion
from sijill.scoring import selectors as scoring_selectors
from sijill.scoring import services as scoring_services
from sijill.scoring.models import Score
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db

AGENT = Actor(role="agent", label="user:agent", user_id=1)
SAME = {"first_name_ar": "يوسف", "family_name_ar": "بناني", "first_name_latin": "Youssef",
        "family_name_latin": "Bennani", "sex": "M", "birth_date": date(1980, 3, 4)}


def cluster_of(*persons: Person, probability: float = 0.999) -> DuplicateCluster:
    """A cluster as a run would have stored it."""
    run = DedupRun.objects.create(status="done", created_by="test", progress=1.0)
    cluster = DuplicateCluster.objects.create(
        run=run, band=linkage.band_of(probability), size=len(persons),
        min_probability=probability, max_weight=12.0,
        pairs=[{"l": persons[0].idcs, "r": p.idcs, "match_weight": 12.0,
                "match_probability": probability, "evidence": {}} for p in persons[1:]])
    for p in persons:
        ClusterMember.objects.create(cluster=cluster, run=run, person=p, match_weight=12.0,
                                     match_probability=probability)
    return cluster


@pytest.fixture
def twice_enrolled() -> dict[str, Any]:
    """The same man enrolled twice: first on a birth certificate (no card), head of a scored
    household; then again with his CNIE. His child is linked to the first record."""
    first = person_create(basis="birth_certificate", cnie=None, birth_certificate_ref="1980/77",
                          phone=None, **SAME)
    second = person_create(first_name_latin="Youssouf", phone=None, **{
        k: v for k, v in SAME.items() if k != "first_name_latin"})
    child = person_create(basis="birth_certificate", cnie=None, birth_certificate_ref="2015/9",
                          first_name_ar="سلمى", first_name_latin="Salma", sex="F",
                          family_name_ar="بناني", family_name_latin="Bennani",
                          birth_date=date(2015, 6, 1), father_idcs=first.idcs)
    household = household_create(members=[(first, "head")])
    declaration = household.versions.get(version=household.current_version)
    score = scoring_services.score_compute(household=household, declaration=declaration,
                                           formula_version=scoring_selectors.formula_current())
    access.person_read(actor=AGENT, idcs=first.idcs, purpose="counter visit")
    return {"first": first, "second": second, "child": child, "household": household,
            "score": score}


def test_merge_keeps_memberships_declarations_scores_and_audit_of_the_retired_idcs(
        twice_enrolled: dict[str, Any]) -> None:
    first, second = twice_enrolled["first"], twice_enrolled["second"]
    household: Household = twice_enrolled["household"]
    audit_before = AuditEntry.objects.filter(subject=first.idcs).count()
    cluster = cluster_of(first, second)

    services.cluster_merge(actor=AGENT, cluster_id=cluster.pk, reason="same man")

    first.refresh_from_db()
    second.refresh_from_db()
    cluster.refresh_from_db()
    # The card holder survives (rule); the other IDCS is retired, pointing to it.
    assert cluster.status == "merged" and cluster.survivor_id == second.pk
    assert first.status == "retired" and first.merged_into_id == second.pk
    assert second.status == "active"
    version = PersonVersion.objects.get(person=first, version=first.version)
    assert version.reason == f"merged_into:{second.idcs}"
    assert version.data["merged_into"] == second.pk
    # Nothing deleted: both records and all versions are still there.
    assert Person.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    assert PersonVersion.objects.filter(person=first).count() == first.version
    # Memberships moved; the household's head and declarant follow.
    membership = Membership.objects.get(household=household)
    assert membership.person_id == second.pk and membership.end_date is None
    household.refresh_from_db()
    assert household.head_id == second.pk and household.declarant_id == second.pk
    # Declarations (immutable) stay on the retired IDCS, reachable from the survivor.
    identities = services.identities_of(second)
    assert set(identities) == {first.idcs, second.idcs}
    declared = MemberDeclaration.objects.filter(person__idcs__in=identities)
    assert declared.filter(declaration__household=household).exists()
    # Scores belong to the household, which the survivor belongs to.
    score: Score = twice_enrolled["score"]
    assert Score.objects.filter(household__memberships__person=second,
                                pk=score.pk).exists()
    # Audit entries of the retired IDCS remain, and the merge itself is audited.
    entries = AuditEntry.objects.filter(subject__in=identities)
    assert entries.filter(subject=first.idcs).count() >= audit_before + 1
    assert entries.filter(subject=first.idcs, action="retire").exists()
    assert entries.filter(action="merge", entity="duplicate_cluster").exists()
    # The child's father link follows the survivor.
    child = twice_enrolled["child"]
    child.refresh_from_db()
    assert child.father_id == second.pk
    assert PersonVersion.objects.filter(person=child, reason="father_merged").exists()


def test_reading_the_retired_idcs_says_where_it_went(twice_enrolled: dict[str, Any],
                                                     as_agent_a: Any) -> None:
    first, second = twice_enrolled["first"], twice_enrolled["second"]
    services.cluster_merge(actor=AGENT, cluster_id=cluster_of(first, second).pk)
    person = access.person_read(actor=AGENT, idcs=first.idcs)
    assert person.status == "retired" and person.merged_into.idcs == second.idcs
    body = as_agent_a.get(f"persons/{first.idcs}").json()
    assert body["status"] == "retired" and body["merged_into_idcs"] == second.idcs
    assert services.final_person(person).idcs == second.idcs


def test_agent_may_choose_the_survivor(twice_enrolled: dict[str, Any]) -> None:
    first, second = twice_enrolled["first"], twice_enrolled["second"]
    cluster = services.cluster_merge(actor=AGENT, cluster_id=cluster_of(first, second).pk,
                                     survivor_idcs=first.idcs)
    assert cluster.survivor_id == first.pk
    second.refresh_from_db()
    assert second.status == "retired" and second.merged_into_id == first.pk
    # The membership was the survivor's already: it stays.
    assert Membership.objects.get(household=twice_enrolled["household"]).person_id == first.pk


def test_a_decided_cluster_cannot_be_decided_again(twice_enrolled: dict[str, Any]) -> None:
    cluster = cluster_of(twice_enrolled["first"], twice_enrolled["second"])
    services.cluster_mark_distinct(actor=AGENT, cluster_id=cluster.pk)
    with pytest.raises(Conflict):
        services.cluster_merge(actor=AGENT, cluster_id=cluster.pk)


def test_the_survivor_must_be_a_member() -> None:
    a, b, c = person_create(), person_create(), person_create()
    with pytest.raises(ValidationFailed):
        services.cluster_merge(actor=AGENT, cluster_id=cluster_of(a, b).pk,
                               survivor_idcs=c.idcs)


def test_two_households_block_a_merge() -> None:
    a = person_create(**SAME, cnie=None, basis="birth_certificate",
                      birth_certificate_ref="1980/1")
    b = person_create(**SAME)
    household_create(members=[(a, "head")])
    household_create(members=[(b, "head")])
    with pytest.raises(Conflict):
        services.cluster_merge(actor=AGENT, cluster_id=cluster_of(a, b).pk)
    a.refresh_from_db()
    assert a.status == "active"


def test_a_citizen_cannot_decide() -> None:
    citizen = Actor(role="citizen", label="user:9", idcs="1234567890")
    a, b = person_create(), person_create()
    with pytest.raises(PermissionDenied):
        services.cluster_merge(actor=citizen, cluster_id=cluster_of(a, b).pk)


def test_marked_distinct_is_not_proposed_again() -> None:
    a, b = person_create(**SAME), person_create(**SAME)
    cluster = cluster_of(a, b)
    services.cluster_mark_distinct(actor=AGENT, cluster_id=cluster.pk, reason="twins")
    low, high = sorted((a.pk, b.pk))
    assert DistinctPair.objects.filter(person_a_id=low, person_b_id=high).exists()
    # A later run drops the pair before clustering.
    pairs = pl.DataFrame({"unique_id_l": [low], "unique_id_r": [high],
                          "match_weight": [15.0], "match_probability": [0.9999]})
    kept = pairs.join(services._distinct_pairs_frame(), on=["unique_id_l", "unique_id_r"],
                      how="anti")
    assert kept.height == 0
    assert AuditEntry.objects.filter(action="mark_distinct", entity_id=str(cluster.pk)).exists()


def test_after_a_merge_the_current_declaration_names_the_survivor_and_an_update_works(
        twice_enrolled: dict[str, Any], as_agent_a: Any) -> None:
    first, second = twice_enrolled["first"], twice_enrolled["second"]
    household: Household = twice_enrolled["household"]
    old_version = household.current_version
    services.cluster_merge(actor=AGENT, cluster_id=cluster_of(first, second).pk)
    household.refresh_from_db()
    # A new version names the survivor; the old one stays as it was declared.
    assert household.current_version == old_version + 1
    current = household.versions.get(version=household.current_version)
    assert current.reason == "identity_merged" and current.declarant_id == second.pk
    assert list(current.members.values_list("person_id", "relationship")) == [
        (second.pk, "head")]
    assert household.versions.get(version=old_version).members.get().person_id == first.pk
    assert household.status == "submitted"  # identity facts may differ: rescored
    # The agent's next update sends only what changed and is accepted.
    body = {"household": as_agent_a.get(f"households/{household.reference}").json()[
        "declaration"]["household"],
        "members": as_agent_a.get(f"households/{household.reference}").json()[
        "declaration"]["members"]}
    r = as_agent_a.post(f"households/{household.reference}/declarations", body)
    assert r.status_code == 200, r.content
