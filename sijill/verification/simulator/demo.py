"""Partner files for the demo that the synthetic truth lacks.

The generator writes no school truth (it never perturbs schooling, so the declared schooling of
the loaded members *is* the truth): the school register of the demo is written from it, next to
the rest of the demo's truth, as `schools.parquet` (idcs, sector)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sijill.households.models import MemberDeclaration


def demo_partner_files(truth_root: Path) -> int:
    """Write the demo's school register under `truth_root`; returns the enrolments written."""
    rows = list(MemberDeclaration.objects.filter(schooling__in=("public", "private"))
                .values_list("person__idcs", "schooling").distinct())
    truth_root.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"idcs": [r[0] for r in rows], "sector": [r[1] for r in rows]},
                 schema={"idcs": pl.Utf8, "sector": pl.Utf8}).write_parquet(
        truth_root / "schools.parquet")
    return len(rows)
