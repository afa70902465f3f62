"""From the true population of a piece to the tables: the declaration and the hidden truth.

The declaration (`persons`, `households`, `members`) is what the register and the household state;
the truth tables are what partners know (bills, phone lines, vehicles, land titles, social
security, deaths) and what calibration needs (latent consumption). Discrepancies between the two
are injected here at the rates of `Rates`, and listed in `discrepancies` as ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl

from sijill.synthetic import distributions as d
from sijill.synthetic.census import Cell, birth_place_table
from sijill.synthetic.population import Households, Members
from sijill.synthetic.schema import conform, empty


@dataclass(frozen=True, slots=True)
class Rates:
    """How often the declaration contradicts the partners' records, and other injected noise."""

    undeclared_car: float = 0.10  # of households with a car: one car left out
    undeclared_motorcycle: float = 0.15  # of households with a motorcycle
    understated_electricity: float = 0.15  # of households with their own meter
    understated_water: float = 0.12  # of households with running water
    understatement: tuple[float, float] = (0.4, 0.8)  # declared = true x U(low, high)
    understated_phones: float = 0.08  # of households with 2+ phones: one left out
    undeclared_land: float = 0.10  # of households holding a non-agricultural land title
    undeclared_job: float = 0.06  # of formally employed wage earners: declared not working
    unreported_death: float = 1.0  # multiplier on the age-specific annual death probability
    duplicate_person: float = 0.005  # extra enrolments of an existing person
    birth_year_only: float = 0.02  # of people aged 50+, born where only the year was recorded


# Latent consumption: log annual consumption per person = intercept(milieu) + sum(coef * feature)
# + noise_sd * N(0, 1) + wealth_unobserved * z. See DISTRIBUTIONS.md.
CONSUMPTION_MODEL: dict[str, float] = {
    "intercept_urban": 9.55, "intercept_rural": 9.35, "log_size": -0.30,
    "share_under_15": -0.35, "share_employed": 0.30, "formal_member": 0.12,
    "villa": 0.45, "apartment": 0.25, "moroccan_house": 0.08, "basic_or_slum": -0.15,
    "rooms_per_person": 0.10, "bathroom": 0.12, "running_water": 0.08, "electricity": 0.05,
    "kitchen": 0.03, "toilet": 0.02, "cars": 0.22, "motorcycles": 0.05, "computers": 0.12,
    "landline": 0.06, "satellite_dish": 0.02, "cows": 0.03, "irrigated_land": 0.12,
    "non_agricultural_land": 0.12, "secondary_residence": 0.20, "professional_premises": 0.08,
    "garage": 0.06, "head_primary": 0.05, "head_lower_secondary": 0.12,
    "head_upper_secondary": 0.22, "head_higher": 0.38, "noise_sd": 0.30,
    "wealth_unobserved": 0.08,
}  # fmt: skip

STREETS = ("Ibn Battouta", "Al Massira", "Hassan II", "Mohammed V", "Allal Ben Abdellah",
           "Ibn Sina", "Al Farabi", "Zerktouni", "Moulay Ismail", "Oued Sebou", "Al Qods",
           "Ibn Khaldoun", "Al Mouahidine", "Annasr", "Al Amal", "Al Wahda", "Tarik Ibn Ziad",
           "Abou Bakr Sedik", "Imam Malik", "Al Andalous")  # fmt: skip
QUARTERS = ("Hay Mohammadi", "Hay Salam", "Hay Nahda", "Hay Riad", "Hay Hassani", "Hay El Farah",
            "Hay Al Qods", "Hay Al Massira", "Hay Essaada", "Hay Al Amal", "Hay Karima",
            "Hay Al Wahda", "Hay Ennour", "Hay Al Fath", "Lotissement Al Wifaq", "Hay Andalous",
            "Quartier Industriel", "Medina", "Hay Al Matar", "Hay Bouzekri")  # fmt: skip
DOUARS = ("Oulad Ali", "Ait Ahmed", "Oulad Moussa", "Ait Brahim", "Oulad Said", "Lamhamid",
          "Ait Ouallal", "Oulad Hamou", "Tighza", "Ait Hammou", "Oulad Bouzid", "Igherm",
          "Oulad Taleb", "Ait Youssef", "Lkhemis", "Tazarine", "Oulad Yahya", "Ait Lahcen",
          "Sidi Ali", "Oulad Amer")  # fmt: skip
PLATE_LETTERS = ("أ", "ب", "د", "هـ", "و", "ط")
OPERATORS = ("IAM", "Orange", "inwi")
OPERATOR_SHARES = np.array([0.4, 0.33, 0.27])
CNIE_BITS = 29  # person keys stay below 2**29 (9.3M households x 32 slots)


def scramble(keys: np.ndarray, seed: int, bits: int = CNIE_BITS) -> np.ndarray:
    """A seeded bijection on [0, 2**bits): unique inputs give unique, random-looking outputs."""
    mask = np.uint64((1 << bits) - 1)
    v = (keys.astype(np.uint64) ^ np.uint64(seed * 2654435761 & ((1 << bits) - 1))) & mask
    v = (v * np.uint64(0x2545F491)) & mask
    v ^= v >> np.uint64(13)
    v = (v * np.uint64(0x1B873593)) & mask
    v ^= v >> np.uint64(11)
    return v.astype(np.int64)


_CNIE_PREFIXES = pl.Series(
    [chr(65 + i) for i in range(26)]
    + [chr(65 + j // 26) + chr(65 + j % 26) for j in range(26 * 26)]
)


@lru_cache(maxsize=1)
def _birth_codes() -> pl.Series:
    return pl.Series(birth_place_table()[0].tolist(), dtype=pl.String)


def cnie_numbers(keys: np.ndarray, seed: int) -> pl.Series:
    """CNIE numbers (1-2 letters and 6 digits), unique for unique person keys."""
    v = scramble(keys, seed)
    prefix = _CNIE_PREFIXES.gather(pl.Series(v // 1_000_000))
    digits = pl.Series(v % 1_000_000).cast(pl.String).str.zfill(6)
    return prefix + digits


def _digits(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    return pl.Series(rng.integers(0, 10**width, n)).cast(pl.String).str.zfill(width)


def _codes(values: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    return pl.Series(values).gather(pl.Series(codes.astype(np.int64)))


def _months(as_of: date, count: int) -> np.ndarray:
    """First days of the `count` full months before as_of, most recent first."""
    last = np.datetime64(as_of, "M") - 1
    return (last - np.arange(count)).astype("datetime64[D]")


def build_tables(
    cell: Cell,
    hh: Households,
    m: Members,
    rng: np.random.Generator,
    *,
    seed: int,
    as_of: date,
    rates: Rates,
    bill_months: int,
) -> dict[str, pl.DataFrame]:
    """All tables of one piece, declared values perturbed from the truth at `rates`."""
    n = len(hh.key)
    total = len(m.key)
    head_key = m.key[hh.start]
    out: dict[str, pl.DataFrame] = {}
    disc: list[pl.DataFrame] = []

    def discrepancy(kind: str, rows: np.ndarray, declared: np.ndarray, actual: np.ndarray,
                    person: np.ndarray | None = None) -> None:  # fmt: skip
        if len(rows) == 0:
            return
        disc.append(
            pl.DataFrame(
                {
                    "household_key": hh.key[rows],
                    "person_key": person if person is not None else np.full(len(rows), None),
                    "kind": [kind] * len(rows),
                    "declared": pl.Series(declared).cast(pl.String),
                    "actual": pl.Series(actual).cast(pl.String),
                },
                strict=False,
            )
        )

    # --- persons ---------------------------------------------------------------------------
    age = m.age
    precision = np.full(total, "day", dtype=object)
    birth = m.birth_days.copy()
    year_only = (age >= 50) & (rng.random(total) < rates.birth_year_only)
    precision[year_only] = "year"
    birth_years = birth.astype("datetime64[D]").astype("datetime64[Y]")
    birth[year_only] = birth_years[year_only].astype("datetime64[D]").astype(np.int64)
    moroccan = hh.nationality[m.hh] == "MA"
    cnie = cnie_numbers(m.key, seed)
    phone = pl.Series(np.where(rng.random(total) < 0.55, "+2126", "+2127")) + _digits(rng, total, 8)
    persons = pl.DataFrame(
        {
            "person_key": m.key,
            "first_name_ar": pl.Series(m.first_ar, dtype=pl.String),
            "first_name_latin": pl.Series(m.first_lat, dtype=pl.String),
            "family_name_ar": pl.Series(m.family_ar, dtype=pl.String),
            "family_name_latin": pl.Series(m.family_lat, dtype=pl.String),
            "sex": np.where(m.male, "M", "F"),
            "birth_date": pl.Series(birth.astype("datetime64[D]")),
            "birth_date_precision": pl.Series(precision, dtype=pl.String),
            "birth_commune_code": _birth_codes().gather(pl.Series(m.birth_commune.clip(0))),
            "_abroad": m.birth_commune < 0,
            "nationality": pl.Series(hh.nationality[m.hh], dtype=pl.String),
            "cnie": cnie,
            "phone": phone,
            "mother_key": np.where(m.mother_row >= 0, m.key[m.mother_row], -1),
            "father_key": np.where(m.father_row >= 0, m.key[m.father_row], -1),
            "_cnie_ok": moroccan & (age >= 18),
            "_phone_ok": m.has_phone,
        }
    ).with_columns(
        pl.when(pl.col("_cnie_ok")).then(pl.col("cnie")).alias("cnie"),
        pl.when(~pl.col("_abroad")).then(pl.col("birth_commune_code")).alias("birth_commune_code"),
        pl.when(pl.col("_phone_ok")).then(pl.col("phone")).alias("phone"),
        pl.when(pl.col("mother_key") >= 0).then(pl.col("mother_key")).alias("mother_key"),
        pl.when(pl.col("father_key") >= 0).then(pl.col("father_key")).alias("father_key"),
    )
    out["persons"] = conform("persons", persons)

    # --- declared members (an undeclared job is the only lie told about a member) -----------
    activity = m.activity.copy()
    employment = m.employment.copy()
    occupation = m.occupation.copy()
    coverage = m.coverage.copy()
    wage = m.formal & np.isin(m.employment, [d.S_PUBLIC, d.S_PRIVATE])
    hidden = np.flatnonzero(wage & (rng.random(total) < rates.undeclared_job))
    activity[hidden] = np.where(
        ~m.male[hidden] & (rng.random(len(hidden)) < 0.5), d.A_HOMEMAKER, d.A_UNEMPLOYED
    )
    employment[hidden] = d.S_NONE
    occupation[hidden] = d.O_NONE
    coverage[hidden] = d.HC_TADAMON
    discrepancy("undeclared_job", m.hh[hidden], _codes(d.ACT, activity[hidden]).to_numpy(),
                _codes(d.EMP, m.employment[hidden]).to_numpy(), m.key[hidden])  # fmt: skip
    out["members"] = conform(
        "members",
        pl.DataFrame(
            {
                "household_key": hh.key[m.hh],
                "person_key": m.key,
                "relationship": _codes(d.REL, m.role),
                "marital_status": _codes(d.MS, m.marital),
                "education_level": _codes(d.EDU, m.education),
                "diploma": _codes(d.DIP, m.diploma),
                "literate": m.literate,
                "activity": _codes(d.ACT, activity),
                "employment_status": _codes(d.EMP, employment),
                "occupation": _codes(d.OCC, occupation),
                "schooling": _codes(d.SCH, m.schooling),
                "disability": _codes(d.DIS, m.disability),
                "health_coverage": _codes(d.HC, coverage),
                "is_declarant": m.declarant,
            }
        ),
    )

    # --- declared households ----------------------------------------------------------------
    def honest(x: np.ndarray) -> np.ndarray:
        """What a truthful household states: the amount rounded to 10 DH, give or take 10 %."""
        return (np.rint(x * rng.uniform(0.9, 1.1, n) / 10) * 10).astype(np.int64)

    lo, hi_ = rates.understatement
    cars = hh.cars.copy()
    sel = np.flatnonzero((cars > 0) & (rng.random(n) < rates.undeclared_car))
    cars[sel] -= 1
    discrepancy("undeclared_car", sel, cars[sel], hh.cars[sel])
    motos = hh.motorcycles.copy()
    sel = np.flatnonzero((motos > 0) & (rng.random(n) < rates.undeclared_motorcycle))
    motos[sel] -= 1
    discrepancy("undeclared_motorcycle", sel, motos[sel], hh.motorcycles[sel])
    phones = hh.mobile_phones.copy()
    sel = np.flatnonzero((phones >= 2) & (rng.random(n) < rates.understated_phones))
    phones[sel] -= 1
    discrepancy("understated_phones", sel, phones[sel], hh.mobile_phones[sel])
    land = hh.non_agricultural_land.copy()
    sel = np.flatnonzero(land & (rng.random(n) < rates.undeclared_land))
    land[sel] = False
    discrepancy("undeclared_land", sel, land[sel], hh.non_agricultural_land[sel])
    elec = honest(hh.electricity_dh)
    sel = np.flatnonzero((hh.meter == d.M_OWN) & (rng.random(n) < rates.understated_electricity))
    elec[sel] = np.rint(hh.electricity_dh[sel] * rng.uniform(lo, hi_, len(sel))).astype(np.int64)
    discrepancy("understated_electricity", sel, elec[sel], hh.electricity_dh[sel])
    water = honest(hh.water_dh)
    sel = np.flatnonzero(hh.running_water & (rng.random(n) < rates.understated_water))
    water[sel] = np.rint(hh.water_dh[sel] * rng.uniform(lo, hi_, len(sel))).astype(np.int64)
    discrepancy("understated_water", sel, water[sel], hh.water_dh[sel])

    urban = cell.milieu == "urban"
    place = cell.commune_name_fr
    if urban:
        address = (
            pl.Series(hh.street_no).cast(pl.String) + " Rue "
            + pl.Series(STREETS).gather(pl.Series(hh.street_pick % len(STREETS))) + ", "
            + pl.Series(QUARTERS).gather(pl.Series(hh.quarter_pick % len(QUARTERS)))
            + ", " + place
        )  # fmt: skip
    else:
        address = (
            "Douar " + pl.Series(DOUARS).gather(pl.Series(hh.quarter_pick % len(DOUARS)))
            + ", " + place
        )  # fmt: skip
    out["households"] = conform(
        "households",
        pl.DataFrame(
            {
                "household_key": hh.key,
                "region_code": [cell.region_code] * n,
                "province_code": [cell.province_code] * n,
                "commune_code": [cell.commune_code] * n,
                "milieu": [cell.milieu] * n,
                "address": address,
                "dwelling_type": _codes(d.DWT, hh.dwelling),
                "rooms": hh.rooms,
                "has_bathroom_or_shower": hh.bathroom,
                "has_kitchen": hh.kitchen,
                "has_toilet": hh.toilet,
                "has_running_water": hh.running_water,
                "electricity_meter": _codes(d.METER, hh.meter),
                "cooking_fuel": _codes(d.FUEL, hh.fuel),
                "has_garage": hh.garage,
                "has_secondary_residence": hh.secondary_residence,
                "has_professional_premises": hh.professional_premises,
                "owns_non_agricultural_land": land,
                "owns_or_farms_irrigated_land": hh.irrigated_land,
                "cows": hh.cows,
                "mobile_phones": phones,
                "computers": hh.computers,
                "has_satellite_dish": hh.satellite_dish,
                "has_landline": hh.landline,
                "cars": cars,
                "motorcycles": motos,
                "has_loan": hh.loan,
                "monthly_water_dh": water,
                "monthly_electricity_dh": elec,
                "monthly_butane_dh": honest(hh.butane_dh),
                "monthly_phone_internet_dh": honest(hh.phone_internet_dh),
            }
        ),
    )

    # --- latent consumption -----------------------------------------------------------------
    c = CONSUMPTION_MODEL
    under15 = np.bincount(m.hh[m.age < 15], minlength=n) / hh.size
    employed = np.bincount(m.hh[m.activity == d.A_EMPLOYED], minlength=n) / hh.size
    formal_hh = np.bincount(m.hh[m.formal], minlength=n) > 0
    head_edu = m.education[hh.start]
    dw = hh.dwelling
    mean = (
        np.where(urban, c["intercept_urban"], c["intercept_rural"])
        + c["log_size"] * np.log(hh.size) + c["share_under_15"] * under15
        + c["share_employed"] * employed + c["formal_member"] * formal_hh
        + c["villa"] * (dw == d.DW_VILLA) + c["apartment"] * (dw == d.DW_APARTMENT)
        + c["moroccan_house"] * (dw == d.DW_MOROCCAN) + c["basic_or_slum"] * (dw == d.DW_BASIC)
        + c["rooms_per_person"] * np.minimum(hh.rooms / hh.size, 3)
        + c["bathroom"] * hh.bathroom + c["running_water"] * hh.running_water
        + c["electricity"] * hh.electricity + c["kitchen"] * hh.kitchen
        + c["toilet"] * hh.toilet + c["cars"] * np.minimum(hh.cars, 2)
        + c["motorcycles"] * np.minimum(hh.motorcycles, 2)
        + c["computers"] * np.minimum(hh.computers, 2) + c["landline"] * hh.landline
        + c["satellite_dish"] * hh.satellite_dish + c["cows"] * np.minimum(hh.cows, 6)
        + c["irrigated_land"] * hh.irrigated_land
        + c["non_agricultural_land"] * hh.non_agricultural_land
        + c["secondary_residence"] * hh.secondary_residence
        + c["professional_premises"] * hh.professional_premises + c["garage"] * hh.garage
        + c["head_primary"] * (head_edu == d.E_PRIMARY)
        + c["head_lower_secondary"] * (head_edu == d.E_LOWER)
        + c["head_upper_secondary"] * (head_edu == d.E_UPPER)
        + c["head_higher"] * (head_edu == d.E_HIGHER)
    )  # fmt: skip
    noise = c["noise_sd"] * rng.standard_normal(n) + c["wealth_unobserved"] * hh.z
    log_c = mean + noise
    out["consumption"] = conform(
        "consumption",
        pl.DataFrame(
            {
                "household_key": hh.key,
                "annual_consumption_per_person_dh": np.round(np.exp(log_c), 0),
                "log_consumption_per_person": log_c,
                "model_mean": mean,
                "noise": noise,
                "wealth": hh.wealth,
            }
        ),
    )

    # --- bills ------------------------------------------------------------------------------
    months = _months(as_of, bill_months)
    month_of_year = (months.astype("datetime64[M]").astype(np.int64) % 12) + 1
    own_meter = hh.meter == d.M_OWN
    for table, has, qty, amount, prefix, season_amp in (
        ("electricity_bills", own_meter, hh.electricity_kwh, hh.electricity_dh, "E", 0.12),
        ("water_bills", hh.running_water, hh.water_m3, hh.water_dh, "W", -0.10),
    ):
        idx = np.repeat(np.flatnonzero(has), bill_months)
        k = np.tile(np.arange(bill_months), int(has.sum()))
        season = 1 + season_amp * np.cos(2 * np.pi * (month_of_year[k] - 1) / 12)
        factor = season * np.exp(rng.normal(0, 0.12, len(idx)))
        out[table] = conform(
            table,
            pl.DataFrame(
                {
                    "meter_id": prefix + pl.Series(hh.key[idx]).cast(pl.String).str.zfill(9),
                    "household_key": hh.key[idx],
                    "holder_person_key": head_key[idx],
                    "month": pl.Series(months[k]),
                    "kwh" if prefix == "E" else "m3": np.rint(qty[idx] * factor),
                    "amount_dh": np.rint(amount[idx] * factor),
                }
            ),
        )

    # --- phone lines: every phone of the persons table, and landlines -----------------------
    owners = np.flatnonzero(m.has_phone)
    land_hh = np.flatnonzero(hh.landline)
    operators = d.categorical(rng, np.broadcast_to(OPERATOR_SHARES, (len(owners), 3)))
    mobile = pl.DataFrame(
        {
            "msisdn": out["persons"]["phone"].gather(pl.Series(owners)),
            "household_key": hh.key[m.hh[owners]],
            "person_key": m.key[owners],
            "line_type": ["mobile"] * len(owners),
            "operator": _codes(OPERATORS, operators),
            "monthly_spend_dh": np.rint(rng.lognormal(np.log(60), 0.5, len(owners))),
        }
    )
    landlines = pl.DataFrame(
        {
            "msisdn": "+2125" + _digits(rng, len(land_hh), 8),
            "household_key": hh.key[land_hh],
            "person_key": head_key[land_hh],
            "line_type": ["landline"] * len(land_hh),
            "operator": ["IAM"] * len(land_hh),
            "monthly_spend_dh": np.rint(rng.lognormal(np.log(80), 0.3, len(land_hh))),
        }
    )
    out["phone_lines"] = pl.concat(
        [conform("phone_lines", mobile), conform("phone_lines", landlines)]
    )

    # --- vehicles ---------------------------------------------------------------------------
    car_hh = np.repeat(np.arange(n), hh.cars)
    moto_hh = np.repeat(np.arange(n), hh.motorcycles)
    v_hh = np.concatenate([car_hh, moto_hh])
    nv = len(v_hh)
    is_car = np.arange(nv) < len(car_hh)
    year = as_of.year - np.minimum(rng.exponential(9, nv).astype(np.int64), 40)
    plate = (
        pl.Series(rng.integers(1, 100_000, nv)).cast(pl.String) + "-"
        + pl.Series(PLATE_LETTERS).gather(pl.Series(rng.integers(0, len(PLATE_LETTERS), nv)))
        + "-" + pl.Series(rng.integers(1, 90, nv)).cast(pl.String)
    )  # fmt: skip
    out["vehicles"] = conform(
        "vehicles",
        pl.DataFrame(
            {
                "plate": plate,
                "household_key": hh.key[v_hh],
                "owner_person_key": head_key[v_hh],
                "kind": np.where(is_car, "car", "motorcycle"),
                "first_registration_year": year,
                "fiscal_horsepower": pl.Series(
                    np.where(is_car, rng.integers(4, 12, nv), -1)
                ).replace(-1, None),
            }
        ),
    )

    # --- land titles ------------------------------------------------------------------------
    t_hh = np.concatenate(
        [np.flatnonzero(hh.non_agricultural_land), np.flatnonzero(hh.irrigated_land)]
    )
    nt = len(t_hh)
    non_ag = np.arange(nt) < int(hh.non_agricultural_land.sum())
    out["land_titles"] = conform(
        "land_titles",
        pl.DataFrame(
            {
                "title_number": pl.Series(rng.integers(1000, 300_000, nt)).cast(pl.String)
                + "/"
                + pl.Series(rng.integers(1, 90, nt)).cast(pl.String).str.zfill(2),
                "household_key": hh.key[t_hh],
                "owner_person_key": head_key[t_hh],
                "kind": np.where(non_ag, "non_agricultural", "irrigated_agricultural"),
                "commune_code": [cell.commune_code] * nt,
                "area_m2": np.where(
                    non_ag,
                    np.rint(rng.lognormal(np.log(150), 0.6, nt)),
                    np.rint(rng.lognormal(np.log(15000), 0.9, nt)),
                ),
            }
        ),
    )

    # --- social security --------------------------------------------------------------------
    aff = np.flatnonzero(m.formal)
    public = m.employment[aff] == d.S_PUBLIC
    salaried = np.isin(m.employment[aff], [d.S_PUBLIC, d.S_PRIVATE])
    since_years = np.minimum(rng.exponential(8, len(aff)), np.maximum(m.age[aff] - 18, 0))
    since = np.datetime64(as_of, "D") - (since_years * 365.25).astype("timedelta64[D]")
    out["social_security"] = conform(
        "social_security",
        pl.DataFrame(
            {
                "person_key": m.key[aff],
                "household_key": hh.key[m.hh[aff]],
                "scheme": np.where(public, "CNOPS", "CNSS"),
                "regime": np.where(
                    public, "public", np.where(salaried, "salaried", "self_employed")
                ),
                "affiliation_number": pl.Series(scramble(m.key[aff], seed + 1))
                .cast(pl.String)
                .str.zfill(9),
                "monthly_salary_dh": pl.Series(np.where(salaried, m.salary_dh[aff], -1)).replace(
                    -1, None
                ),
                "since": pl.Series(since),
            }
        ),
    )

    # --- deaths in the last year that the declaration still lists ---------------------------
    q = np.minimum(0.0003 * np.exp(0.085 * (m.age - 20)), 0.3) * rates.unreported_death
    q[m.age < 1] = 0.02 * rates.unreported_death
    dead = np.flatnonzero(rng.random(total) < q)
    death = np.datetime64(as_of, "D") - rng.integers(1, 365, len(dead)).astype("timedelta64[D]")
    out["deaths"] = conform(
        "deaths",
        pl.DataFrame(
            {
                "person_key": m.key[dead],
                "household_key": hh.key[m.hh[dead]],
                "death_date": pl.Series(death),
                "commune_code": [cell.commune_code] * len(dead),
            }
        ),
    )
    discrepancy("unreported_death", m.hh[dead], np.full(len(dead), "alive"),
                np.full(len(dead), "dead"), m.key[dead])  # fmt: skip

    out["discrepancies"] = (
        pl.concat([conform("discrepancies", f) for f in disc]) if disc else empty("discrepancies")
    )
    return out
