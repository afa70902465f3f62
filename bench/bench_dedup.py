"""Deduplicate a synthetic population with injected duplicates: time, peak memory, and precision
and recall against the generator's ground truth.

The persons go straight from the generator to Arrow/Polars and into DuckDB (no database): the
same frame the sweep reads from the register (`sijill.dedup.sources.generated_frame`).

    .venv/bin/python bench/bench_dedup.py [--persons N] [--seed S] [--threshold P]
"""

from __future__ import annotations

import argparse
import os
import time

from common import peak_rss_mb, report

TARGET_SECONDS = 300
PERSONS_PER_HOUSEHOLD = 4.2  # in the generator's national order, duplicates included


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=None)
    args, _unknown = parser.parse_known_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sijill.settings")
    import django

    django.setup()
    import polars as pl

    from sijill.dedup import linkage, sources
    from sijill.synthetic import generate
    from sijill.synthetic.generate import Options

    started = time.perf_counter()
    households = max(1, round(args.persons / PERSONS_PER_HOUSEHOLD))
    persons, members, truth = [], [], []
    for chunk in generate(None, args.seed, Options(max_households=households,
                                                   chunk_households=50_000)):
        persons.append(chunk["persons"])
        members.append(chunk["members"].select("person_key", "household_key"))
        truth.append(chunk["duplicate_of"])
    frame = sources.generated_frame(pl.concat(persons), pl.concat(members))
    truth_frame = pl.concat(truth)
    true_pairs = sources.generated_truth(truth_frame)
    del persons, members
    generated = time.perf_counter() - started

    params = linkage.LinkageParams(threshold=args.threshold or linkage.RECOMMENDED_THRESHOLD)
    started = time.perf_counter()
    result = linkage.deduplicate(frame, params)
    seconds = time.perf_counter() - started
    quality = linkage.evaluate(result.clusters, true_pairs)

    n = frame.height
    report("dedup persons", f"{n:,} ({true_pairs.height:,} injected duplicates)",
           f"generated in {generated:.1f} s, not counted")
    report("dedup time", f"{seconds:.1f} s",
           f"target < {TARGET_SECONDS} s for 1,000,000; stages {result.seconds}")
    report("dedup peak memory", f"{peak_rss_mb():.0f} MB", "peak RSS of the process")
    report("dedup precision", f"{quality.precision:.4f}",
           f"{quality.correct_pairs:,} of {quality.predicted_pairs:,} proposed pairs; "
           f"threshold {params.threshold}")
    report("dedup recall", f"{quality.recall:.4f}",
           f"{quality.correct_pairs:,} of {quality.true_pairs:,} injected pairs; target 0.97")
    for label, errors in (("transliteration variants", "first_name_variant|family_name_prefix"),
                          ("day-month swaps", "day_month_swapped")):
        subset = sources.generated_truth(truth_frame.filter(pl.col("errors").str.contains(errors)))
        found = linkage.evaluate(result.clusters, subset)
        report(f"dedup recall, {label}", f"{found.recall:.4f}",
               f"{found.correct_pairs:,} of {found.true_pairs:,}")
    by_band = {band: 0 for band, _floor in linkage.BANDS}
    weakest = result.pairs.join(result.clusters.rename({"unique_id": "unique_id_l"}),
                                on="unique_id_l").filter(
        pl.col("match_probability") >= params.threshold
    ).group_by("cluster_id").agg(pl.col("match_probability").min())
    for p in weakest["match_probability"].to_list():
        by_band[linkage.band_of(p)] += 1
    report("dedup clusters", f"{result.clusters['cluster_id'].n_unique():,}", f"by band {by_band}")


if __name__ == "__main__":
    main()
