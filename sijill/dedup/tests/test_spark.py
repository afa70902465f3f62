"""The same job on Splink's Spark backend (a local Spark, Java 17), on a small sample: what a
country that outgrows one machine would run on its cluster."""

from __future__ import annotations

import shutil

import pytest

from sijill.dedup import linkage, sources
from sijill.synthetic import collect
from sijill.synthetic.generate import Options

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
]


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    session = linkage.spark_session(cores=2)
    yield session
    session.stop()


def test_spark_backend_finds_the_same_duplicates_as_duckdb(spark) -> None:  # type: ignore[no-untyped-def]
    data = collect(None, 7, Options(max_households=1_500))
    frame = sources.generated_frame(data["persons"], data["members"])
    truth = sources.generated_truth(data["duplicate_of"])
    params = linkage.LinkageParams(u_max_pairs=3e5)  # small sample: fewer Spark stages
    on_duckdb = linkage.deduplicate(frame, params)
    on_spark = linkage.deduplicate(frame, linkage.LinkageParams(u_max_pairs=3e5, backend="spark"),
                                   spark=spark)
    q_duck = linkage.evaluate(on_duckdb.clusters, truth)
    q_spark = linkage.evaluate(on_spark.clusters, truth)
    print(f"\nspark: {frame.height} persons, precision {q_spark.precision:.4f} recall "
          f"{q_spark.recall:.4f} (duckdb {q_duck.precision:.4f} / {q_duck.recall:.4f}); "
          f"{on_spark.seconds}")
    assert on_spark.records == frame.height
    assert q_spark.true_pairs > 10
    # Random sampling differs between engines: the trained weights, hence the pairs found,
    # may differ slightly, not the quality.
    assert q_spark.recall >= q_duck.recall - 0.1
    assert q_spark.precision >= q_duck.precision - 0.1
    found_duck = set(linkage.cluster_pairs(on_duckdb.clusters).iter_rows())
    found_spark = set(linkage.cluster_pairs(on_spark.clusters).iter_rows())
    assert len(found_duck & found_spark) >= 0.8 * len(found_duck)
