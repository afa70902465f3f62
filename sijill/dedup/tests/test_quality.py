"""On a synthetic register with injected duplicates (loaded through the bulk loader, duplicates
enrolled with their own IDCS), the sweep finds them: precision and recall at the recommended
threshold, including transliteration variants and day-month swaps; a pair marked distinct is
not proposed again by the next sweep; merging a found cluster keeps the original IDCS."""

from __future__ import annotations

from pathlib import Path

import pytest

from sijill.accounts.actors import SYSTEM, Actor
from sijill.dedup import linkage, services
from sijill.dedup.models import ClusterMember, DuplicateCluster
from sijill.dedup.tests.helpers import load_register, quality, recall_of, stored_clusters
from sijill.population.models import Person

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HOUSEHOLDS = 10_000  # about 35,000 persons and 170 injected duplicates
SEED = 7
TARGET = 0.97
AGENT = Actor(role="agent", label="user:agent", user_id=1)


def test_sweep_finds_the_injected_duplicates(tmp_path: Path) -> None:
    register = load_register(None, SEED, HOUSEHOLDS, tmp_path)
    run = services.run_start(actor=SYSTEM, enqueue=False)
    run = services.run_execute(run.pk)
    assert run.status == "done" and run.progress == 1.0
    assert run.records == register.persons
    assert run.clusters == DuplicateCluster.objects.filter(run=run).count() > 0
    assert sum(run.by_band.values()) == run.clusters

    q = quality(run.pk, register.truth)
    variants = recall_of(run.pk, register.truth, "first_name_variant|family_name_prefix")
    swaps = recall_of(run.pk, register.truth, "day_month_swapped")
    print(f"\ndedup quality: {register.persons} persons, {q.true_pairs} true pairs, "
          f"{q.predicted_pairs} proposed, precision {q.precision:.4f}, recall {q.recall:.4f}; "
          f"transliteration variants {variants[0]}/{variants[1]}, "
          f"day-month swaps {swaps[0]}/{swaps[1]}; by band {run.by_band}; {run.seconds}")
    assert q.precision >= TARGET
    assert q.recall >= TARGET
    assert variants[1] > 0 and variants[0] / variants[1] >= TARGET
    assert swaps[1] > 0 and swaps[0] == swaps[1]

    # Evidence for each pair: every comparison's level and weight.
    cluster = DuplicateCluster.objects.filter(run=run, band="high").first()
    assert cluster is not None
    evidence = cluster.pairs[0]["evidence"]
    assert {"first_name", "family_name", "birth_date", "sex", "birth_place"} <= set(evidence)
    assert all({"level", "weight"} <= set(v) for v in evidence.values())

    # An agent marks one cluster distinct: the next sweep does not propose that pair again.
    distinct = DuplicateCluster.objects.filter(run=run, size=2).order_by("min_probability")[0]
    pair = sorted(ClusterMember.objects.filter(cluster=distinct)
                  .values_list("person_id", flat=True))
    services.cluster_mark_distinct(actor=AGENT, cluster_id=distinct.pk, reason="checked")
    # ... and merges another: its duplicate IDCS is retired into the original.
    merged = DuplicateCluster.objects.filter(run=run, band="high", size=2).exclude(
        pk=distinct.pk).first()
    assert merged is not None
    merged = services.cluster_merge(actor=AGENT, cluster_id=merged.pk)
    retired = Person.objects.get(merged_into=merged.survivor)
    assert retired.status == "retired"

    second = services.run_execute(services.run_start(actor=SYSTEM, enqueue=False).pk)
    assert second.records == register.persons - 1  # the retired IDCS is not compared
    clusters = stored_clusters(second.pk)
    pairs = linkage.cluster_pairs(clusters)
    assert pairs.filter((pairs["unique_id_l"] == pair[0])
                        & (pairs["unique_id_r"] == pair[1])).height == 0
    assert retired.pk not in set(clusters["unique_id"].to_list())
    # Open clusters of the first run are superseded by the second.
    assert not DuplicateCluster.objects.filter(run=run, status="open").exists()
