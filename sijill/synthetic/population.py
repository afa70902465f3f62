"""The true population of one piece of a census cell: households, their members and dwellings.

Everything is drawn as whole NumPy arrays (one entry per household or per person), in this order,
each step conditioned on the previous ones: household size, head, composition and ages; identity;
education, schooling, literacy; activity, employment, occupation; disability and health cover;
dwelling, amenities, rooms, cooking fuel; assets and spending. The result is the *truth*: what
the household declares is derived from it in `truth.py`, sometimes with lies or omissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from sijill.synthetic import distributions as d
from sijill.synthetic.census import Cell, SexFigures, birth_place_table
from sijill.synthetic.names import (
    FAMILY_TABLE,
    FEMALE_TABLE,
    FOREIGN_FAMILY_TABLE,
    FOREIGN_FEMALE_TABLE,
    FOREIGN_MALE_TABLE,
    MALE_TABLE,
    compose_male,
    unit_hash,
)

DAYS_PER_YEAR = 365.2425


@dataclass(slots=True)
class Households:
    """Household-level arrays of one piece (length n)."""

    key: np.ndarray
    size: np.ndarray
    start: np.ndarray  # row of the head in the member arrays
    z: np.ndarray  # wealth within the cell (standard normal)
    wealth: np.ndarray  # z + the cell's wealth mean: comparable across cells
    foreign: np.ndarray
    nationality: np.ndarray  # object array of ISO codes
    dwelling: np.ndarray
    rooms: np.ndarray
    kitchen: np.ndarray
    toilet: np.ndarray
    bathroom: np.ndarray
    electricity: np.ndarray
    running_water: np.ndarray
    meter: np.ndarray
    fuel: np.ndarray
    garage: np.ndarray
    secondary_residence: np.ndarray
    professional_premises: np.ndarray
    non_agricultural_land: np.ndarray
    irrigated_land: np.ndarray
    cows: np.ndarray
    mobile_phones: np.ndarray
    computers: np.ndarray
    satellite_dish: np.ndarray
    landline: np.ndarray
    cars: np.ndarray
    motorcycles: np.ndarray
    loan: np.ndarray
    electricity_kwh: np.ndarray  # true monthly mean
    electricity_dh: np.ndarray
    water_m3: np.ndarray
    water_dh: np.ndarray
    butane_dh: np.ndarray
    phone_internet_dh: np.ndarray
    street_no: np.ndarray
    street_pick: np.ndarray
    quarter_pick: np.ndarray


@dataclass(slots=True)
class Members:
    """Person-level arrays of one piece (length = number of people), sorted by household."""

    hh: np.ndarray  # index of the household in the piece
    slot: np.ndarray
    key: np.ndarray
    role: np.ndarray
    male: np.ndarray
    age: np.ndarray
    birth_days: np.ndarray  # days since 1970-01-01
    birth_commune: np.ndarray  # index into census.birth_place_table() codes, -1 if born abroad
    first_ar: np.ndarray
    first_lat: np.ndarray
    family_ar: np.ndarray
    family_lat: np.ndarray
    mother_row: np.ndarray
    father_row: np.ndarray
    marital: np.ndarray
    education: np.ndarray
    diploma: np.ndarray
    literate: np.ndarray
    activity: np.ndarray
    employment: np.ndarray
    occupation: np.ndarray
    formal: np.ndarray  # affiliated to social security through work (CNSS or CNOPS)
    salary_dh: np.ndarray
    schooling: np.ndarray
    disability: np.ndarray
    coverage: np.ndarray
    has_phone: np.ndarray
    declarant: np.ndarray


def _distinct_within(idx: np.ndarray, group: np.ndarray, mask: np.ndarray, modulo: int
                     ) -> np.ndarray:  # fmt: skip
    """Name indices made distinct within each group among the masked rows: a repeat takes the
    next name of the list (the first holder keeps it)."""
    idx = idx.copy()
    rows = np.flatnonzero(mask)
    for _ in range(8):
        key = group[rows].astype(np.int64) * modulo + idx[rows]
        _unique, first = np.unique(key, return_index=True)
        repeat = np.ones(len(rows), dtype=bool)
        repeat[first] = False
        if not repeat.any():
            break
        idx[rows[repeat]] = (idx[rows[repeat]] + 1) % modulo
    return idx


def _adjust_total(size: np.ndarray, target: int, rng: np.random.Generator) -> None:
    """Nudge household sizes (in place) until they sum to the census population."""
    for _ in range(100):
        diff = target - int(size.sum())
        if diff == 0:
            return
        cand = np.flatnonzero(size < d.MAX_HOUSEHOLD_SIZE if diff > 0 else size > 1)
        if len(cand) == 0:
            return
        pick = rng.choice(cand, size=min(abs(diff), len(cand)), replace=False)
        size[pick] += 1 if diff > 0 else -1


def _ages_in_bands(rng: np.random.Generator, band: np.ndarray) -> np.ndarray:
    """A whole age within each five-year band (75+ spreads with an exponential tail)."""
    base = band * 5
    age = base + rng.integers(0, 5, len(band))
    old = band == 15
    age[old] = 75 + np.minimum(rng.exponential(6.0, old.sum()).astype(np.int64), 25)
    return age


def _head_ages(
    rng: np.random.Generator, fig: SexFigures, headship: np.ndarray, n: int
) -> np.ndarray:
    w = fig.age * headship
    band = d.categorical(rng, np.broadcast_to(w, (n, len(w))))
    age = _ages_in_bands(rng, band)
    return np.maximum(age, 18)


def generate_piece(
    cell: Cell, start: int, n: int, population: int, rng: np.random.Generator, as_of: date
) -> tuple[Households, Members]:
    """Draw n households of a cell (the households start..start+n of the cell)."""
    milieu = cell.milieu
    urban = milieu == "urban"
    keys = np.arange(cell.key_offset + start + 1, cell.key_offset + start + n + 1, dtype=np.int64)
    population = int(min(max(population, n), n * d.MAX_HOUSEHOLD_SIZE))

    # --- size, head --------------------------------------------------------------------------
    p1 = d.SINGLE_PERSON_SHARE[milieu]
    lam = max((population / n - p1) / (1 - p1) - 2, 0.05)
    size = np.where(rng.random(n) < p1, 1, 2 + rng.poisson(lam, n)).clip(1, d.MAX_HOUSEHOLD_SIZE)
    _adjust_total(size, population, rng)
    female_head = rng.random(n) < np.where(
        size == 1, d.FEMALE_HEAD_SHARE_ALONE, d.FEMALE_HEAD_SHARE[milieu]
    )
    has_spouse = (size >= 2) & (
        rng.random(n)
        < np.where(female_head, d.SPOUSE_PRESENT["female_head"], d.SPOUSE_PRESENT["male_head"])
    )
    head_age = np.where(
        female_head,
        _head_ages(rng, cell.female, d.HEADSHIP_FEMALE, n),
        _head_ages(rng, cell.male, d.HEADSHIP_MALE, n),
    )
    z = rng.standard_normal(n)
    wealth = z + cell.wealth_mean
    foreign = rng.random(n) < d.FOREIGN_SHARE[milieu]
    nat_idx = d.categorical(rng, np.broadcast_to(d.FOREIGN_WEIGHTS, (n, len(d.FOREIGN_WEIGHTS))))
    nationality = np.where(
        foreign, np.asarray(d.FOREIGN_NATIONALITIES, dtype=object)[nat_idx], "MA"
    )

    # --- members and roles ------------------------------------------------------------------
    total = int(size.sum())
    hh = np.repeat(np.arange(n), size)
    starts = np.cumsum(size) - size
    srow = starts[hh]
    slot = np.arange(total) - srow
    role = np.full(total, d.CHILD, dtype=np.int64)
    role[slot == 0] = d.HEAD
    spouse_row = np.where(has_spouse, starts + 1, -1)
    role[spouse_row[has_spouse]] = d.SPOUSE
    other = role == d.CHILD
    h_age = head_age[hh]
    old_head = (h_age >= 60).astype(np.int64)
    drawn = np.asarray(d.OTHER_ROLES)[d.categorical(rng, d.OTHER_ROLE_PROBS[old_head[other]])]
    role[other] = drawn
    role[(role == d.GRANDCHILD) & (h_age < 38)] = d.CHILD
    role[(role == d.CHILD_IN_LAW) & (h_age < 40)] = d.OTHER_REL
    role[(role == d.PARENT) & (h_age > 75)] = d.OTHER_REL
    is_parent = role == d.PARENT
    role[is_parent & (d.group_cumcount(is_parent, srow) >= 2)] = d.OTHER_REL
    is_parent = role == d.PARENT
    parent_rank = d.group_cumcount(is_parent, srow)

    # --- sex ---------------------------------------------------------------------------------
    male = rng.random(total) < d.MALE_AT_BIRTH
    male[starts] = ~female_head
    male[spouse_row[has_spouse]] = female_head[has_spouse]
    first_parent_female = rng.random(n) < 0.72
    male[is_parent & (parent_rank == 0)] = ~first_parent_female[hh[is_parent & (parent_rank == 0)]]
    male[is_parent & (parent_rank == 1)] = first_parent_female[hh[is_parent & (parent_rank == 1)]]
    cil = role == d.CHILD_IN_LAW
    male[cil] = rng.random(cil.sum()) < 0.15

    # --- ages --------------------------------------------------------------------------------
    age = np.zeros(total, dtype=np.int64)
    age[starts] = head_age
    gap = np.clip(np.rint(rng.normal(6, 4, n)), -2, 20).astype(np.int64)
    spouse_age = np.clip(np.where(female_head, head_age + gap, head_age - gap), 18, 99)
    age[spouse_row[has_spouse]] = spouse_age[has_spouse]
    mother_age = np.where(
        female_head, head_age, np.where(has_spouse, spouse_age, head_age - 6)
    ).astype(np.float64)
    sel = role == d.CHILD
    ref = mother_age[hh[sel]]
    mab = 18 + (np.minimum(ref, 45) - 18).clip(0) * rng.beta(2, 3, sel.sum())
    age[sel] = np.floor(ref - mab).clip(0)
    sel = role == d.PARENT
    age[sel] = np.minimum(h_age[sel] + rng.integers(18, 38, sel.sum()), 100)
    sel = role == d.SIBLING
    age[sel] = np.rint(h_age[sel] + rng.normal(0, 7, sel.sum())).clip(1, 99)
    sel = role == d.GRANDCHILD
    age[sel] = (h_age[sel] - 38 - rng.random(sel.sum()) * (np.minimum(h_age[sel], 65) - 38)).clip(0)
    sel = role == d.CHILD_IN_LAW
    age[sel] = (h_age[sel] - rng.integers(20, 33, sel.sum())).clip(18)
    sel = role == d.OTHER_REL
    age[sel] = rng.integers(0, 86, sel.sum())
    sel = role == d.NON_REL
    age[sel] = rng.integers(15, 66, sel.sum())

    # Birth dates: the anniversary at `as_of` minus 0-364 days, so the age at `as_of` is exact.
    as_of64 = np.datetime64(as_of, "D")
    into_year = (as_of64 - as_of64.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    years = (as_of.year - age - 1970).astype("datetime64[Y]")
    anniversary = years.astype("datetime64[D]").astype(np.int64) + into_year
    birth_days = anniversary - rng.integers(0, 365, total)

    # --- marital status ---------------------------------------------------------------------
    marital = np.zeros(total, dtype=np.int64)
    marital[(role == d.SPOUSE) | (role == d.CHILD_IN_LAW)] = d.MARRIED
    marital[starts[has_spouse]] = d.MARRIED
    alone = starts[~has_spouse]
    a_band = d.band_index(age[alone], np.array([35, 60]))
    for sex_code, is_m in (("M", True), ("F", False)):
        pick = male[alone] == is_m
        marital[alone[pick]] = d.categorical(rng, d.HEAD_ALONE_MS[sex_code][a_band[pick]])
    parents_in_hh = np.bincount(hh[is_parent], minlength=n)
    sel = is_parent
    both = parents_in_hh[hh[sel]] >= 2
    marital[sel] = np.where(
        both, d.MARRIED, d.categorical(rng, np.broadcast_to([0, 0.1, 0.05, 0.85], (sel.sum(), 4)))
    )
    sel = np.flatnonzero(((role == d.SIBLING) | (role == d.OTHER_REL)) & (age >= 18))
    marital[sel] = d.categorical(rng, d.OTHER_ADULT_MS[(age[sel] >= 50).astype(np.int64)])
    sel = np.flatnonzero((role == d.NON_REL) & (age >= 18))
    marital[sel] = d.categorical(rng, np.broadcast_to([0.85, 0.05, 0.07, 0.03], (len(sel), 4)))
    for sex_code, is_m in (("M", True), ("F", False)):
        sel = np.flatnonzero((role == d.CHILD) & (age >= 18) & (male == is_m))
        marital[sel] = d.categorical(
            rng, np.broadcast_to(d.ADULT_CHILD_MS[sex_code], (len(sel), 4))
        )

    # A child-in-law is married to an adult child of the head of the other sex, when there is one.
    cil_row = d.first_in_group(cil, hh, n)
    son = d.first_in_group((role == d.CHILD) & (age >= 18) & male, hh, n)
    daughter = d.first_in_group((role == d.CHILD) & (age >= 18) & ~male, hh, n)
    has_cil = cil_row >= 0
    partner = np.where(has_cil & ~male[cil_row.clip(0)], son, np.where(has_cil, daughter, -1))
    marital[partner[partner >= 0]] = d.MARRIED

    # --- parent links -----------------------------------------------------------------------
    mother_row = np.full(total, -1, dtype=np.int64)
    father_row = np.full(total, -1, dtype=np.int64)
    head_father = np.where(~female_head, starts, spouse_row)
    head_mother = np.where(female_head, starts, spouse_row)
    sel = role == d.CHILD
    father_row[sel] = head_father[hh[sel]]
    mother_row[sel] = head_mother[hh[sel]]
    grand_mother = d.first_in_group(is_parent & ~male, hh, n)
    grand_father = d.first_in_group(is_parent & male, hh, n)
    sel = (role == d.HEAD) | (role == d.SIBLING)
    mother_row[sel] = grand_mother[hh[sel]]
    father_row[sel] = grand_father[hh[sel]]
    sel = role == d.GRANDCHILD
    cil_male = has_cil & male[cil_row.clip(0)]
    g_father = np.where(has_cil, np.where(cil_male, cil_row, partner), -1)
    g_mother = np.where(has_cil, np.where(cil_male, partner, cil_row), -1)
    father_row[sel] = g_father[hh[sel]]
    mother_row[sel] = g_mother[hh[sel]]

    # --- names -------------------------------------------------------------------------------
    fam_hh = FAMILY_TABLE.sample(rng, n)
    fam_children = np.where(
        female_head,
        np.where(has_spouse, FAMILY_TABLE.sample(rng, n), FAMILY_TABLE.sample(rng, n)),
        fam_hh,
    )
    fam = fam_hh[hh].copy()
    sel = role == d.CHILD
    fam[sel] = fam_children[hh[sel]]
    own = (
        (role == d.SPOUSE) | (role == d.CHILD_IN_LAW) | (role == d.NON_REL)
        | (is_parent & ~male) | ((role == d.OTHER_REL) & (rng.random(total) < 0.5))
    )  # fmt: skip
    fam[own] = FAMILY_TABLE.sample(rng, int(own.sum()))
    if has_spouse.any():  # children of a female head take her husband's name
        fh_sp = female_head & has_spouse
        fam[spouse_row[fh_sp]] = fam_children[fh_sp]
    sel = role == d.GRANDCHILD
    fam[sel] = np.where(cil_male[hh[sel]], fam[cil_row.clip(0)][hh[sel]], fam_hh[hh[sel]])
    fm_idx, ff_idx = MALE_TABLE.sample(rng, total), FEMALE_TABLE.sample(rng, total)
    # Two members of a household do not share a first name (parents do not give it twice).
    fm_idx = _distinct_within(fm_idx, hh, male, len(MALE_TABLE.latin))
    ff_idx = _distinct_within(ff_idx, hh, ~male, len(FEMALE_TABLE.latin))
    first_ar = np.where(male, MALE_TABLE.arabic[fm_idx], FEMALE_TABLE.arabic[ff_idx])
    first_lat = np.where(male, MALE_TABLE.latin[fm_idx], FEMALE_TABLE.latin[ff_idx])
    compose_male(first_ar, first_lat, male, unit_hash(keys[hh], slot))
    family_ar = FAMILY_TABLE.arabic[fam]
    family_lat = FAMILY_TABLE.latin[fam]
    fr = foreign[hh]
    if fr.any():
        k = int(fr.sum())
        mf = FOREIGN_MALE_TABLE.sample(rng, k)
        ff = FOREIGN_FEMALE_TABLE.sample(rng, k)
        fm = male[fr]
        mf = _distinct_within(mf, hh[fr], fm, len(FOREIGN_MALE_TABLE.latin))
        ff = _distinct_within(ff, hh[fr], ~fm, len(FOREIGN_FEMALE_TABLE.latin))
        first_ar[fr] = np.where(fm, FOREIGN_MALE_TABLE.arabic[mf], FOREIGN_FEMALE_TABLE.arabic[ff])
        first_lat[fr] = np.where(fm, FOREIGN_MALE_TABLE.latin[mf], FOREIGN_FEMALE_TABLE.latin[ff])
        ffam = FOREIGN_FAMILY_TABLE.sample(rng, n)[hh[fr]]
        family_ar[fr] = FOREIGN_FAMILY_TABLE.arabic[ffam]
        family_lat[fr] = FOREIGN_FAMILY_TABLE.latin[ffam]

    # Birth place (an index into birth_place_table()'s codes, -1 when born abroad): the commune
    # itself mostly, elsewhere in the country for some; abroad for most foreigners.
    codes, cum = birth_place_table()
    elsewhere = rng.random(total) < np.where(urban, 0.3, 0.12)
    birth_commune = np.full(total, int(np.searchsorted(codes, cell.commune_code)), dtype=np.int64)
    k = int(elsewhere.sum())
    birth_commune[elsewhere] = np.searchsorted(cum, rng.random(k), side="right").clip(
        0, len(codes) - 1
    )
    birth_commune[fr & (rng.random(total) < 0.85)] = -1

    z_m = z[hh]
    w_m = wealth[hh]

    # --- schooling of 6-14, education, literacy ---------------------------------------------
    education = np.zeros(total, dtype=np.int64)
    schooling = np.zeros(total, dtype=np.int64)
    base6 = np.clip(cell.schooling_6_11, 0.05, 0.995)
    base_rate = np.where(age <= 11, base6, base6 * d.SCHOOLING_12_14_FACTOR[milieu])
    logit = np.log(base_rate / (1 - np.minimum(base_rate, 0.995))) + 0.6 * z_m
    in_6_14 = (age >= 6) & (age <= 14)
    schooled = in_6_14 & (rng.random(total) < d.sigmoid(logit))
    private_p = d.sigmoid(d.PRIVATE_SCHOOL_INTERCEPT[milieu] + d.PRIVATE_SCHOOL_WEALTH * w_m)
    schooling[schooled] = np.where(
        rng.random(schooled.sum()) < private_p[schooled], d.SC_PRIVATE, d.SC_PUBLIC
    )
    pre = (age >= 3) & (age <= 5) & (rng.random(total) < d.PRESCHOOL_3_5[milieu])
    education[pre] = d.E_PRESCHOOL
    education[schooled & (age <= 11)] = d.E_PRIMARY
    sec = schooled & (age >= 12)
    education[sec] = np.where(rng.random(sec.sum()) < 0.8, d.E_LOWER, d.E_PRIMARY)
    dropped = in_6_14 & ~schooled & (age >= 9)
    education[dropped] = np.where(rng.random(dropped.sum()) < 0.5, d.E_PRIMARY, d.E_NONE)

    adult = age >= 15
    latent = 0.8 * z_m + 0.045 * (60 - np.clip(age, 15, 80)) + rng.standard_normal(total)
    literate = np.zeros(total, dtype=bool)
    literate[(age >= 7) & (age <= 14) & (schooled | (education >= d.E_PRIMARY))] = True
    for is_m, fig in ((True, cell.male), (False, cell.female)):
        sexmask = male == is_m
        base = sexmask & (age >= 6)
        kids = sexmask & in_6_14
        target = fig.education * base.sum() - np.bincount(education[kids], minlength=6)
        target = np.clip(target, 0, None)
        sel = np.flatnonzero(sexmask & adult)
        if len(sel) == 0:
            continue
        if target.sum() <= 0:
            target = fig.education
        level = d.assign_ordered(latent[sel], target)
        cap = np.where(age[sel] <= 17, d.E_UPPER, d.E_HIGHER)
        education[sel] = np.minimum(level, cap)
        # Literacy of 10+: the census rate, illiterate first among those never schooled.
        pop10 = sexmask & (age >= 10)
        goal = fig.illiteracy_10_plus * pop10.sum() - (kids & (age >= 10) & ~literate).sum()
        none_adults = sel[education[sel] <= d.E_PRESCHOOL]
        prim_adults = sel[education[sel] == d.E_PRIMARY]
        p_none = min(1.0, max(goal, 0) / max(len(none_adults), 1))
        rest = max(goal - len(none_adults), 0)
        p_prim = min(0.9, rest / max(len(prim_adults), 1))
        literate[sel] = True
        literate[none_adults] = rng.random(len(none_adults)) >= p_none
        literate[prim_adults] = rng.random(len(prim_adults)) >= p_prim

    diploma = np.zeros(total, dtype=np.int64)
    u = rng.random(total)
    diploma[(education == d.E_PRIMARY) & (age >= 12)] = np.where(
        u[(education == d.E_PRIMARY) & (age >= 12)] < 0.5, d.D_PRIMARY, d.D_NONE
    )
    sel = education == d.E_LOWER
    diploma[sel] = np.where(u[sel] < 0.45, d.D_LOWER, d.D_PRIMARY)
    sel = education == d.E_UPPER
    diploma[sel] = np.where(u[sel] < 0.5, d.D_BAC, d.D_LOWER)
    sel = education == d.E_HIGHER
    diploma[sel] = np.where(u[sel] < 0.75, d.D_HIGHER, d.D_BAC)
    voc = (
        (age >= 18)
        & ((education == d.E_LOWER) | (education == d.E_UPPER))
        & (rng.random(total) < 0.12)
    )
    diploma[voc] = d.D_VOCATIONAL

    # --- activity ---------------------------------------------------------------------------
    activity = np.full(total, d.A_OTHER, dtype=np.int64)
    activity[schooled] = d.A_STUDENT
    youth = (age >= 15) & (age <= 24)
    y_band = d.band_index(age, np.array([18, 22])).clip(0, 2)
    p_student = d.STUDENT_15_24[milieu][y_band] * np.exp(0.3 * z_m)
    able = np.where(age <= 17, education >= d.E_LOWER, education >= d.E_UPPER)
    student = youth & able & (rng.random(total) < np.minimum(p_student, 0.95))
    activity[student] = d.A_STUDENT
    schooling[student] = np.where(
        rng.random(student.sum()) < private_p[student] * 0.6, d.SC_PRIVATE, d.SC_PUBLIC
    )

    # Disability first: it lowers the chance of working.
    disability = np.zeros(total, dtype=np.int64)
    dband = d.band_index(age, d.DISABILITY_AGE_BANDS)
    for is_m, fig in ((True, cell.male), (False, cell.female)):
        sel = np.flatnonzero(male == is_m)
        p = d.scale_probabilities(d.DISABILITY_AGE[dband[sel]], fig.disability * len(sel), cap=0.9)
        dis = sel[rng.random(len(sel)) < p]
        disability[dis] = 1 + d.categorical(
            rng, np.broadcast_to(d.DISABILITY_TYPES, (len(dis), len(d.DISABILITY_TYPES)))
        )

    employment = np.zeros(total, dtype=np.int64)
    skill = education.astype(np.float64) - 2.0 + 0.5 * z_m
    aband = d.band_index(age, d.ACTIVE_AGE_BANDS)
    for is_m, fig in ((True, cell.male), (False, cell.female)):
        sexmask = male == is_m
        n15 = int((sexmask & adult).sum())
        cand = np.flatnonzero(sexmask & adult & ~student)
        base = d.ACTIVE_BASE["M" if is_m else "F"][aband[cand]] * np.where(
            disability[cand] > 0, 0.3, 1.0
        )
        if not is_m:
            base = base * np.exp(0.35 * (education[cand] >= d.E_UPPER))
        p_act = d.scale_probabilities(base, fig.activity_rate * n15)
        active = cand[rng.random(len(cand)) < p_act]
        p_un = d.scale_probabilities(
            d.UNEMPLOYMENT_AGE[aband[active]], fig.unemployment_rate * len(active)
        )
        unemployed = rng.random(len(active)) < p_un
        activity[active[unemployed]] = d.A_UNEMPLOYED
        emp = active[~unemployed]
        activity[emp] = d.A_EMPLOYED
        centred = skill[emp] - skill[emp].mean() if len(emp) else skill[emp]
        logits = (
            np.log(fig.employment_status + 1e-9)[None, :]
            + centred[:, None] * d.EMPLOYMENT_TILT[None, :]
        )
        gumbel = -np.log(-np.log(rng.random((len(emp), len(d.EMPLOYMENT_TILT)))))
        employment[emp] = d.CENSUS_TO_EMP[np.argmax(logits + gumbel, axis=1)]
        # Inactive adults who are not students.
        inactive = np.setdiff1d(cand, active, assume_unique=True)
        ia = age[inactive]
        u = rng.random(len(inactive))
        if is_m:
            kind = np.where(ia >= 60, np.where(u < 0.45, d.A_RETIRED, d.A_OTHER), d.A_OTHER)
        else:
            kind = np.where(
                (ia >= 60) & (u < 0.1), d.A_RETIRED, np.where(u < 0.85, d.A_HOMEMAKER, d.A_OTHER)
            )
        kind = np.where(rng.random(len(inactive)) < 0.01, d.A_ANNUITANT, kind)
        kind = np.where(
            (disability[inactive] > 0) & (rng.random(len(inactive)) < 0.6), d.A_UNABLE, kind
        )
        activity[inactive] = kind

    employed = activity == d.A_EMPLOYED
    occ_table = d.OCCUPATION_BY_STATUS[milieu]
    occupation = np.zeros(total, dtype=np.int64)
    occupation[employed] = d.categorical(rng, occ_table[employment[employed]])
    wage = employed & ((employment == d.S_PUBLIC) | (employment == d.S_PRIVATE))
    hi = wage & (education == d.E_HIGHER)
    u = rng.random(total)
    occupation[hi & (u < 0.35)] = d.O_SENIOR
    occupation[hi & (u >= 0.35) & (u < 0.8)] = d.O_MIDDLE
    up = wage & (education == d.E_UPPER) & (u < 0.5)
    occupation[up] = np.where(u[up] < 0.2, d.O_MIDDLE, d.O_CLERICAL)

    p_formal = np.zeros(total)
    p_formal[employment == d.S_PUBLIC] = 1.0
    sel = employment == d.S_PRIVATE
    p_formal[sel] = d.sigmoid(-0.3 + 0.7 * skill[sel] + 0.6 * urban + 0.3 * z_m[sel])
    p_formal[employment == d.S_EMPLOYER] = 0.7
    p_formal[employment == d.S_SELF] = 0.35
    p_formal[employment == d.S_COOP] = 0.4
    formal = employed & (rng.random(total) < p_formal)
    salary = np.zeros(total, dtype=np.int64)
    sel = formal & ((employment == d.S_PUBLIC) | (employment == d.S_PRIVATE))
    salary[sel] = (
        np.rint(
            3300 * np.exp(0.25 * skill[sel] + 0.3 * rng.standard_normal(sel.sum())).clip(0.85) / 10
        ).astype(np.int64)
        * 10
    )

    # --- health cover -----------------------------------------------------------------------
    own_cov = np.zeros(total, dtype=np.int64)
    own_cov[formal & (employment == d.S_PUBLIC)] = d.HC_PUBLIC
    own_cov[formal & (employment == d.S_PRIVATE)] = d.HC_SALARIED
    own_cov[formal & ~np.isin(employment, [d.S_PUBLIC, d.S_PRIVATE])] = d.HC_SELF
    priority = np.array([0, 0, 2, 3, 1, 0, 0])[own_cov]  # public > salaried > self-employed
    best = np.zeros(n, dtype=np.int64)
    np.maximum.at(best, hh, priority)
    hh_cov = np.array([d.HC_NONE, d.HC_SELF, d.HC_SALARIED, d.HC_PUBLIC])[best]
    fallback = np.where(
        rng.random(n) < d.sigmoid(0.8 - 1.5 * wealth),
        d.HC_TADAMON,
        np.where((wealth > 1.0) & (rng.random(n) < 0.15), d.HC_PRIVATE, d.HC_NONE),
    )
    dependant = (role == d.HEAD) | (role == d.SPOUSE) | ((role == d.CHILD) & (age < 26))
    coverage = np.where(
        own_cov > 0, own_cov, np.where(dependant & (best[hh] > 0), hh_cov[hh], fallback[hh])
    )

    # --- phones, declarant ------------------------------------------------------------------
    p_phone = d.sigmoid(2.0 + 0.8 * w_m - 0.05 * np.maximum(age - 65, 0))
    has_phone = (age >= 15) & (rng.random(total) < p_phone)
    declarant = np.zeros(total, dtype=bool)
    by_spouse = has_spouse & (rng.random(n) < 0.15)
    declarant[np.where(by_spouse, spouse_row, starts)] = True

    # --- dwelling ---------------------------------------------------------------------------
    dw_census = np.empty(n, dtype=np.int64)
    order = np.asarray(d.DWELLING_WEALTH_ORDER)
    dw_census = order[d.assign_ordered(z + rng.standard_normal(n), cell.dwelling[order])]
    stone = d.RURAL_STONE_SHARE.get(cell.region_code, d.RURAL_STONE_DEFAULT)
    census_to_type = np.array(
        [d.DW_VILLA, d.DW_APARTMENT, d.DW_MOROCCAN, d.DW_BASIC, -1, d.DW_OTHER]
    )
    dwelling = census_to_type[dw_census]
    rural_dw = dwelling < 0
    dwelling[rural_dw] = np.where(
        rng.random(rural_dw.sum()) < stone, d.DW_RURAL_STONE, d.DW_RURAL_OTHER
    )
    score = z + d.DWELLING_BONUS[dwelling]
    amen = [d.top_share(score + rng.normal(0, 0.8, n), s) for s in cell.amenities]
    kitchen, toilet, bathroom, electricity, running_water = amen
    meter = np.where(electricity, d.M_OWN, d.M_NONE)
    elec_idx = np.flatnonzero(electricity)
    shared = d.top_share(
        -(score[elec_idx] + rng.normal(0, 1.0, len(elec_idx))), d.SHARED_METER_SHARE[milieu]
    )
    meter[elec_idx[shared]] = d.M_SHARED

    raw_rooms = (
        size
        / cell.people_per_room
        * d.DWELLING_ROOMS[dwelling]
        * np.exp(0.2 * z + rng.normal(0, 0.25, n))
    )
    raw_rooms *= (population / cell.people_per_room) / raw_rooms.sum()
    rooms = (np.floor(raw_rooms) + (rng.random(n) < raw_rooms % 1)).astype(np.int64).clip(1, 15)
    rooms[dwelling == d.DW_VILLA] = np.maximum(rooms[dwelling == d.DW_VILLA], 3)

    fuel_order = np.array(
        [3, 2, 4, 0, 1]
    )  # census fuel indices: firewood, charcoal, other, gas, elec
    fuel_score = (
        score + 3.0 * np.isin(dwelling, [d.DW_VILLA, d.DW_APARTMENT]) + rng.normal(0, 0.8, n)
    )
    census_fuel = fuel_order[d.assign_ordered(fuel_score, cell.fuel[fuel_order])]
    fuel = np.array([d.F_GAS, d.F_ELECTRICITY, d.F_CHARCOAL, d.F_FIREWOOD, d.F_OTHER])[census_fuel]
    fuel[
        np.isin(dwelling, [d.DW_VILLA, d.DW_APARTMENT])
        & np.isin(fuel, [d.F_FIREWOOD, d.F_CHARCOAL])
    ] = d.F_GAS
    fuel[(fuel == d.F_ELECTRICITY) & ~electricity] = d.F_GAS

    # --- assets -----------------------------------------------------------------------------
    def draw(p: np.ndarray) -> np.ndarray:
        return rng.random(n) < p

    farm_hh = np.zeros(n, dtype=bool)
    farm_hh[hh[occupation == d.O_FARM_OPERATOR]] = True
    trade_hh = np.zeros(n, dtype=bool)
    trade_hh[
        hh[
            np.isin(employment, [d.S_EMPLOYER, d.S_SELF])
            & np.isin(occupation, [d.O_TRADER, d.O_CRAFT, d.O_SERVICE])
        ]
    ] = True
    formal_hh = best > 0
    villa = dwelling == d.DW_VILLA
    mobile_phones = np.bincount(hh[has_phone], minlength=n)
    n_students = np.bincount(hh[activity == d.A_STUDENT], minlength=n)
    garage = draw(d.sigmoid(-3.0 + 1.4 * wealth + 2.5 * villa))
    secondary_residence = draw(d.sigmoid(-4.5 + 1.6 * wealth))
    professional_premises = draw(np.where(trade_hh, 0.45, 0.02))
    non_agricultural_land = draw(d.sigmoid(-3.2 + 1.2 * wealth))
    irrigated_land = draw(np.where(urban, 0.01, np.where(farm_hh, 0.45, 0.05)))
    has_cows = draw(np.where(urban, 0.003, np.where(farm_hh, 0.55, 0.15)))
    cows = np.where(has_cows, 1 + rng.poisson(1.5 + 0.5 * np.maximum(wealth, 0)), 0)
    computers = np.where(
        draw(d.sigmoid(-1.2 + 1.6 * wealth + 0.6 * urban + 0.3 * n_students)),
        1 + (rng.random(n) < d.sigmoid(-2 + wealth)), 0,
    )  # fmt: skip
    satellite_dish = electricity & draw(np.where(urban, 0.75, 0.85) + 0.0 * wealth)
    landline = draw(d.sigmoid(-3.2 + 1.0 * wealth + 0.6 * urban))
    cars = np.where(
        draw(d.sigmoid(-2.2 + 1.5 * wealth + 0.4 * urban)),
        1 + (rng.random(n) < d.sigmoid(-3 + 1.2 * wealth)), 0,
    )  # fmt: skip
    motorcycles = np.where(
        draw(d.sigmoid(-2.2 + 0.2 * wealth + 0.5 * (not urban))), 1 + (rng.random(n) < 0.1), 0
    )
    loan = draw(d.sigmoid(-1.6 + 0.4 * wealth + 0.5 * formal_hh))

    # --- spending (true monthly means) -------------------------------------------------------
    kwh = np.where(
        meter != d.M_NONE,
        (40 + 35 * size**0.7) * np.exp(0.35 * wealth + rng.normal(0, 0.25, n)),
        0.0,
    )
    price = np.select(
        [kwh <= 100, kwh <= 150, kwh <= 210, kwh <= 310, kwh <= 510],
        [0.901, 1.0732, 1.0732, 1.1676, 1.3817], 1.5958,
    ) * 1.1  # fmt: skip
    electricity_dh = np.rint(kwh * price).astype(np.int64)
    m3 = np.where(
        running_water, 3 + 2.2 * size * np.exp(0.2 * wealth + rng.normal(0, 0.25, n)), 0.0
    )
    water_price = np.select([m3 <= 6, m3 <= 20], [3.5, 8.0], 11.0)
    water_dh = np.where(running_water, np.rint(10 + m3 * water_price), 0).astype(np.int64)
    bottles = np.where(
        fuel == d.F_GAS,
        0.6 + 0.22 * size + 0.3 * bathroom + rng.normal(0, 0.2, n),
        0.3 * bathroom + 0.2 * rng.random(n),
    ).clip(0)
    butane_dh = np.rint(bottles * 60).astype(np.int64)
    phone_dh = np.rint(
        mobile_phones * (40 + 40 * np.exp(0.3 * wealth))
        + (computers > 0) * rng.uniform(200, 350, n) + landline * 60
    ).astype(np.int64)  # fmt: skip

    quarters = rng.integers(0, 1 << 30, n)
    hhs = Households(
        key=keys, size=size, start=starts, z=z, wealth=wealth, foreign=foreign,
        nationality=nationality, dwelling=dwelling, rooms=rooms, kitchen=kitchen, toilet=toilet,
        bathroom=bathroom, electricity=electricity, running_water=running_water, meter=meter,
        fuel=fuel, garage=garage, secondary_residence=secondary_residence,
        professional_premises=professional_premises, non_agricultural_land=non_agricultural_land,
        irrigated_land=irrigated_land, cows=cows, mobile_phones=mobile_phones,
        computers=computers, satellite_dish=satellite_dish, landline=landline, cars=cars,
        motorcycles=motorcycles, loan=loan, electricity_kwh=kwh, electricity_dh=electricity_dh,
        water_m3=m3, water_dh=water_dh, butane_dh=butane_dh, phone_internet_dh=phone_dh,
        street_no=rng.integers(1, 250, n), street_pick=rng.integers(0, 1 << 30, n),
        quarter_pick=quarters,
    )  # fmt: skip
    mem = Members(
        hh=hh, slot=slot, key=keys[hh] * 32 + slot, role=role, male=male, age=age,
        birth_days=birth_days, birth_commune=birth_commune, first_ar=first_ar,
        first_lat=first_lat, family_ar=family_ar, family_lat=family_lat, mother_row=mother_row,
        father_row=father_row, marital=marital, education=education, diploma=diploma,
        literate=literate, activity=activity, employment=employment, occupation=occupation,
        formal=formal, salary_dh=salary, schooling=schooling, disability=disability,
        coverage=coverage, has_phone=has_phone, declarant=declarant,
    )  # fmt: skip
    return hhs, mem
