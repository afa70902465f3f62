"""A synthetic register with injected duplicates, loaded through the official bulk loader, and
its ground truth expressed in person ids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sijill.dedup import linkage
from sijill.dedup.models import ClusterMember
from sijill.population.models import Person
from sijill.synthetic.generate import Options
from sijill.synthetic.load import population_load


@dataclass
class Register:
    truth: pl.DataFrame  # unique_id_l, unique_id_r (person ids), errors
    persons: int


def load_register(scope: str | None, seed: int, households: int, truth_dir: Path) -> Register:
    summary = population_load(scope, seed, Options(max_households=households,
                                                   chunk_households=households),
                              include_duplicates=True, truth_dir=truth_dir)
    ids = pl.read_parquet(truth_dir / "person_ids.parquet")
    pk = pl.DataFrame(list(Person.objects.values_list("idcs", "pk")),
                      schema={"idcs": pl.String, "pk": pl.Int64}, orient="row")
    key_to_pk = ids.join(pk, on="idcs").select("person_key", "pk")
    dup = pl.read_parquet(truth_dir / "duplicate_of.parquet")
    truth = (dup.join(key_to_pk, on="person_key")
             .rename({"pk": "unique_id_l"})
             .join(key_to_pk.rename({"person_key": "duplicate_of"}), on="duplicate_of")
             .rename({"pk": "unique_id_r"})
             .select("unique_id_l", "unique_id_r", "errors"))
    return Register(truth=truth, persons=summary.persons)


def stored_clusters(run_id: int) -> pl.DataFrame:
    rows = list(ClusterMember.objects.filter(cluster__run_id=run_id)
                .values_list("cluster_id", "person_id"))
    return pl.DataFrame(rows, schema={"cluster_id": pl.Int64, "unique_id": pl.Int64},
                        orient="row")


def quality(run_id: int, truth: pl.DataFrame) -> linkage.Quality:
    return linkage.evaluate(stored_clusters(run_id), truth)


def recall_of(run_id: int, truth: pl.DataFrame, error: str) -> tuple[int, int]:
    """(found, total) true pairs whose duplicate carries `error`."""
    subset = truth.filter(pl.col("errors").str.contains(error))
    q = linkage.evaluate(stored_clusters(run_id), subset)
    return q.correct_pairs, q.true_pairs
