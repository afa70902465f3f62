"""The partners' records the simulator answers from: the synthetic population's hidden truth.

`sijill.synthetic.load.population_load(..., truth_dir=DIR)` writes, per loaded scope, Parquet
truth tables keyed by the generator's person_key / household_key, and `person_ids.parquet`
(person_key → idcs). Every directory under the data root holding `person_ids.parquet` is read
(the demo writes one per commune under var/synthetic/demo-<seed>/). Extra tables already keyed
by IDCS may sit anywhere under the root: `schools.parquet` (idcs, sector, level) and
`births.parquet` (idcs of the mother, child_idcs, date) — the generator has no truth for them.

What each partner knows, by IDCS of the person it is asked about:

The table of what each partner knows (truth tables, record fields) is in
sijill/verification/README.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

#: partner → (records key, person column in the records)
SHAPES: dict[str, tuple[str, str]] = {
    "utilities": ("bills", "holder_idcs"),
    "telecom": ("lines", "holder_idcs"),
    "vehicles": ("vehicles", "owner_idcs"),
    "land": ("titles", "owner_idcs"),
    "social_security": ("affiliations", "idcs"),
    "civil_status": ("events", "idcs"),
    "schools": ("enrolments", "idcs"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class PartnerRecords:
    """Every partner's records, indexed by IDCS (held in memory: the demo's few thousand
    households, or a test's handful)."""

    def __init__(self) -> None:
        self.by_partner: dict[str, dict[str, list[dict[str, Any]]]] = {
            p: defaultdict(list) for p in SHAPES}

    # -- building ----------------------------------------------------------------------------

    def add(self, partner: str, records: Iterable[dict[str, Any]]) -> None:
        key = SHAPES[partner][1]
        for r in records:
            self.by_partner[partner][str(r[key])].append(
                {k: _plain(v) for k, v in r.items() if v is not None})

    @classmethod
    def load(cls, root: Path | str | None) -> PartnerRecords:
        out = cls()
        if root is None:
            return out
        root = Path(root)
        if not root.exists():
            return out
        for ids in sorted(root.rglob("person_ids.parquet")):
            out._load_truth(ids.parent)
        for path in sorted(root.rglob("schools.parquet")):
            out.add("schools", pl.read_parquet(path).to_dicts())
        for path in sorted(root.rglob("births.parquet")):
            births = pl.read_parquet(path).with_columns(pl.lit("birth").alias("event"))
            out.add("civil_status", births.to_dicts())
        return out

    def _load_truth(self, folder: Path) -> None:
        ids = pl.read_parquet(folder / "person_ids.parquet").select("person_key", "idcs")

        def table(name: str) -> pl.DataFrame | None:
            path = folder / f"{name}.parquet"
            return pl.read_parquet(path) if path.exists() else None

        def with_idcs(frame: pl.DataFrame, key: str, alias: str) -> pl.DataFrame:
            return frame.join(ids.rename({"person_key": key, "idcs": alias}), on=key,
                              how="inner")

        for name, service, quantity in (("electricity_bills", "electricity", "kwh"),
                                        ("water_bills", "water", "m3")):
            frame = table(name)
            if frame is not None and frame.height:
                frame = with_idcs(frame, "holder_person_key", "holder_idcs").select(
                    pl.lit(service).alias("service"), "meter_id", "holder_idcs",
                    pl.col("month").cast(pl.Utf8), "amount_dh",
                    pl.col(quantity).alias("quantity"))
                self.add("utilities", frame.to_dicts())
        frame = table("phone_lines")
        if frame is not None and frame.height:
            self.add("telecom", with_idcs(frame, "person_key", "holder_idcs").select(
                "holder_idcs", "line_type", "operator", "monthly_spend_dh").to_dicts())
        frame = table("vehicles")
        if frame is not None and frame.height:
            self.add("vehicles", with_idcs(frame, "owner_person_key", "owner_idcs").select(
                "owner_idcs", "plate", "kind", "first_registration_year",
                "fiscal_horsepower").to_dicts())
        frame = table("land_titles")
        if frame is not None and frame.height:
            self.add("land", with_idcs(frame, "owner_person_key", "owner_idcs").select(
                "owner_idcs", "title_number", "kind", "commune_code", "area_m2").to_dicts())
        frame = table("social_security")
        if frame is not None and frame.height:
            self.add("social_security", with_idcs(frame, "person_key", "idcs").select(
                "idcs", "scheme", "regime", "affiliation_number", "monthly_salary_dh",
                pl.col("since").cast(pl.Utf8)).to_dicts())
        frame = table("deaths")
        if frame is not None and frame.height:
            self.add("civil_status", with_idcs(frame, "person_key", "idcs").select(
                "idcs", pl.lit("death").alias("event"),
                pl.col("death_date").cast(pl.Utf8).alias("date")).to_dicts())

    # -- answering ---------------------------------------------------------------------------

    def answer(self, partner: str, idcs: Iterable[str]) -> dict[str, Any]:
        key = SHAPES[partner][0]
        index = self.by_partner[partner]
        return {key: [r for i in idcs for r in index.get(i, [])]}

    def export(self, partner: str, idcs: Iterable[str] | None = None) -> pl.DataFrame:
        """A partner's daily file (the batch path): every record, or those of `idcs`."""
        index = self.by_partner[partner]
        people = list(index) if idcs is None else [i for i in idcs if i in index]
        rows = [r for i in people for r in index[i]]
        return pl.DataFrame(rows) if rows else pl.DataFrame({SHAPES[partner][1]: []},
                                                            schema={SHAPES[partner][1]: pl.Utf8})

    def counts(self) -> dict[str, int]:
        return {p: sum(len(v) for v in idx.values()) for p, idx in self.by_partner.items()}
