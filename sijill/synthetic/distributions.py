"""Vectorised samplers and the assumed parameters of the generator's distributions.

Every number here that does not come from the census is an assumption, listed with its reason in
DISTRIBUTIONS.md. Samplers work on whole arrays (one value per household or per person) so a
chunk of 20,000 households is generated without a Python loop over people.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from sijill.declaration.vocab import (
    Activity,
    CookingFuel,
    Diploma,
    Disability,
    DwellingType,
    EducationLevel,
    ElectricityMeter,
    EmploymentStatus,
    HealthCoverage,
    MaritalStatus,
    Occupation,
    Relationship,
    Schooling,
)


def values(enum: type[Enum]) -> tuple[str, ...]:
    """The string values of an enum in declaration order: integer codes index into this."""
    return tuple(str(m.value) for m in enum)


REL = values(Relationship)
MS = values(MaritalStatus)
EDU = values(EducationLevel)
DIP = values(Diploma)
ACT = values(Activity)
EMP = values(EmploymentStatus)
OCC = values(Occupation)
SCH = values(Schooling)
DIS = values(Disability)
HC = values(HealthCoverage)
DWT = values(DwellingType)
METER = values(ElectricityMeter)
FUEL = values(CookingFuel)

# Integer codes of the values the generator reasons about (positions in the tuples above).
HEAD, SPOUSE, CHILD, PARENT, SIBLING, GRANDCHILD, CHILD_IN_LAW, OTHER_REL, NON_REL = range(9)
SINGLE, MARRIED, DIVORCED, WIDOWED = range(4)
E_NONE, E_PRESCHOOL, E_PRIMARY, E_LOWER, E_UPPER, E_HIGHER = range(6)
D_NONE, D_PRIMARY, D_LOWER, D_BAC, D_VOCATIONAL, D_HIGHER = range(6)
(A_EMPLOYED, A_UNEMPLOYED, A_STUDENT, A_HOMEMAKER, A_RETIRED, A_ANNUITANT, A_UNABLE,
 A_OTHER) = range(8)  # fmt: skip
(S_NONE, S_EMPLOYER, S_SELF, S_PUBLIC, S_PRIVATE, S_FAMILY, S_APPRENTICE, S_COOP,
 S_OTHER) = range(9)  # fmt: skip
O_NONE, O_SENIOR, O_MIDDLE, O_CLERICAL, O_TRADER, O_CRAFT, O_MACHINE = range(7)
O_FARM_OPERATOR, O_FARM_WORKER, O_LABOURER, O_SERVICE, O_OTHER = range(7, 12)
SC_NOT, SC_PUBLIC, SC_PRIVATE = range(3)
HC_NONE, HC_TADAMON, HC_SALARIED, HC_PUBLIC, HC_SELF, HC_PRIVATE, HC_OTHER = range(7)
DW_VILLA, DW_APARTMENT, DW_MOROCCAN, DW_BASIC, DW_RURAL_STONE, DW_RURAL_OTHER, DW_OTHER = range(7)
M_OWN, M_SHARED, M_NONE = range(3)
F_GAS, F_ELECTRICITY, F_CHARCOAL, F_FIREWOOD, F_OTHER = range(5)

assert REL[NON_REL] == "non_relative" and EMP[S_OTHER] == "other" and OCC[O_OTHER] == "other"
assert HC[HC_OTHER] == "other" and DWT[DW_OTHER] == "other" and FUEL[F_OTHER] == "other"

MAX_HOUSEHOLD_SIZE = 16  # person_key = household_key * 32 + slot; slots 16-31 hold duplicates

# --- household composition --------------------------------------------------------------------
SINGLE_PERSON_SHARE = {"urban": 0.09, "rural": 0.05}
FEMALE_HEAD_SHARE = {"urban": 0.20, "rural": 0.13}
FEMALE_HEAD_SHARE_ALONE = 0.40
SPOUSE_PRESENT = {"male_head": 0.90, "female_head": 0.08}
# Headship propensity by five-year band (0-4 ... 75+), by sex of the head.
HEADSHIP_MALE = np.array(
    [0, 0, 0, 0.01, 0.08, 0.25, 0.5, 0.7, 0.8, 0.85, 0.88, 0.9, 0.9, 0.9, 0.88, 0.85]
)
HEADSHIP_FEMALE = np.array(
    [0, 0, 0, 0.003, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.18, 0.22, 0.27, 0.3, 0.33]
)
# Role of a member who is neither head nor spouse, by age of the head (<60, 60+).
# Columns: child, parent, sibling, grandchild, child_in_law, other_relative, non_relative.
OTHER_ROLES = (CHILD, PARENT, SIBLING, GRANDCHILD, CHILD_IN_LAW, OTHER_REL, NON_REL)
OTHER_ROLE_PROBS = np.array(
    [
        [0.86, 0.04, 0.04, 0.005, 0.01, 0.035, 0.01],
        [0.62, 0.005, 0.02, 0.21, 0.09, 0.04, 0.015],
    ]
)
MALE_AT_BIRTH = 0.512

# Marital status (single, married, divorced, widowed) of a head living without a spouse,
# by sex and age band (<35, 35-59, 60+).
HEAD_ALONE_MS = {
    "M": np.array([[0.85, 0.07, 0.08, 0.0], [0.35, 0.2, 0.3, 0.15], [0.1, 0.25, 0.1, 0.55]]),
    "F": np.array([[0.45, 0.2, 0.3, 0.05], [0.15, 0.2, 0.35, 0.3], [0.05, 0.08, 0.14, 0.73]]),
}
OTHER_ADULT_MS = np.array([[0.78, 0.06, 0.09, 0.07], [0.25, 0.05, 0.15, 0.55]])  # <50, 50+
ADULT_CHILD_MS = {"M": np.array([0.96, 0.01, 0.03, 0.0]), "F": np.array([0.92, 0.01, 0.06, 0.01])}

# --- dwelling ------------------------------------------------------------------------------------
# Census dwelling order is villa, apartment, moroccan_house, basic_or_slum, rural, other; dwellings
# are handed out by ascending wealth score in this order of census indices:
DWELLING_WEALTH_ORDER = (3, 4, 5, 2, 1, 0)
# Share of rural-type dwellings built of stone (the rest: earth/pisé and other), by region.
RURAL_STONE_SHARE = {"01": 0.6, "02": 0.6, "03": 0.6, "05": 0.6, "07": 0.35, "08": 0.3,
                     "09": 0.35, "10": 0.35, "11": 0.35, "12": 0.35}  # fmt: skip
RURAL_STONE_DEFAULT = 0.5
DWELLING_BONUS = np.array([2.0, 1.5, 0.5, -1.0, -0.8, -1.0, -0.5])  # by DwellingType code
DWELLING_ROOMS = np.array([1.6, 1.0, 1.1, 0.7, 1.0, 0.9, 0.8])  # relative rooms per person
SHARED_METER_SHARE = {"urban": 0.10, "rural": 0.05}

# --- schooling, activity ------------------------------------------------------------------------
SCHOOLING_12_14_FACTOR = {"urban": 0.93, "rural": 0.78}
PRIVATE_SCHOOL_INTERCEPT = {"urban": -2.2, "rural": -4.0}
PRIVATE_SCHOOL_WEALTH = 1.3
PRESCHOOL_3_5 = {"urban": 0.6, "rural": 0.4}
STUDENT_15_24 = {"urban": np.array([0.8, 0.45, 0.22]), "rural": np.array([0.55, 0.18, 0.08])}
# Relative propensity to be in the labour force by age band (15-19 ... 65+), by sex.
ACTIVE_AGE_BANDS = np.array([20, 25, 55, 65])  # bands 15-19, 20-24, 25-54, 55-64, 65+
ACTIVE_BASE = {
    "M": np.array([0.3, 0.65, 0.93, 0.7, 0.2]),
    "F": np.array([0.07, 0.22, 0.25, 0.12, 0.03]),
}
UNEMPLOYMENT_AGE = np.array([1.8, 1.8, 0.8, 0.6, 0.5])
# Wealth-and-skill tilt of the employment status (log-odds per unit of skill), census order.
EMPLOYMENT_TILT = np.array([0.4, -0.1, 0.6, 0.1, -0.4, 0.0, 0.0, -0.2])
CENSUS_TO_EMP = np.array([S_EMPLOYER, S_SELF, S_PUBLIC, S_PRIVATE, S_FAMILY, S_APPRENTICE,
                          S_COOP, S_OTHER])  # fmt: skip

# Occupation by employment status (rows: EmploymentStatus codes) and milieu. Columns follow OCC.
_OCC_URBAN = [
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0.25, 0.05, 0, 0.45, 0.15, 0, 0.05, 0, 0, 0.05, 0],
    [0, 0.02, 0.02, 0, 0.45, 0.25, 0.03, 0.03, 0, 0.05, 0.13, 0.02],
    [0, 0.08, 0.25, 0.3, 0, 0.02, 0.03, 0, 0, 0.07, 0.22, 0.03],
    [0, 0.03, 0.1, 0.14, 0.04, 0.13, 0.16, 0, 0.02, 0.2, 0.16, 0.02],
    [0, 0, 0, 0, 0.45, 0.25, 0, 0, 0.1, 0.05, 0.15, 0],
    [0, 0, 0, 0, 0.1, 0.5, 0.1, 0, 0, 0.15, 0.15, 0],
    [0, 0.05, 0.05, 0, 0.3, 0.2, 0, 0.2, 0.1, 0.05, 0.05, 0],
    [0, 0, 0, 0.05, 0.1, 0.1, 0.05, 0, 0.05, 0.35, 0.25, 0.05],
]
_OCC_RURAL = [
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0.05, 0.02, 0, 0.3, 0.08, 0, 0.5, 0, 0, 0.05, 0],
    [0, 0, 0, 0, 0.18, 0.1, 0.02, 0.6, 0, 0.04, 0.05, 0.01],
    [0, 0.05, 0.25, 0.3, 0, 0.02, 0.03, 0, 0.02, 0.1, 0.2, 0.03],
    [0, 0.01, 0.03, 0.04, 0.02, 0.08, 0.06, 0, 0.4, 0.26, 0.09, 0.01],
    [0, 0, 0, 0, 0.06, 0.04, 0, 0, 0.85, 0.03, 0.02, 0],
    [0, 0, 0, 0, 0.1, 0.4, 0.05, 0, 0.2, 0.15, 0.1, 0],
    [0, 0, 0.02, 0, 0.1, 0.1, 0, 0.5, 0.25, 0.02, 0.01, 0],
    [0, 0, 0, 0, 0.05, 0.05, 0, 0, 0.4, 0.35, 0.1, 0.05],
]
OCCUPATION_BY_STATUS = {
    "urban": np.asarray(_OCC_URBAN) / np.asarray(_OCC_URBAN).sum(axis=1, keepdims=True),
    "rural": np.asarray(_OCC_RURAL) / np.asarray(_OCC_RURAL).sum(axis=1, keepdims=True),
}
DISABILITY_AGE = np.array([0.4, 0.6, 1.2, 3.0, 6.0])  # 0-14, 15-39, 40-59, 60-74, 75+
DISABILITY_AGE_BANDS = np.array([15, 40, 60, 75])
DISABILITY_TYPES = np.array([0.38, 0.2, 0.12, 0.14, 0.16])  # physical .. multiple

FOREIGN_SHARE = {"urban": 0.0055, "rural": 0.001}
FOREIGN_NATIONALITIES = ("SN", "FR", "CI", "GN", "DZ", "SY", "ML", "ES", "CM", "CN", "CD", "NG",
                         "IT", "TN", "US", "DE", "BE", "GB", "TR", "YE")  # fmt: skip
FOREIGN_WEIGHTS = np.array([14, 13, 8, 8, 7, 6, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2], float)


# --- samplers ------------------------------------------------------------------------------------
def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) probability matrix (rows need not be normalised)."""
    probs = np.atleast_2d(probs)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1).clip(0, probs.shape[1] - 1)


def exact_counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Split n into integer counts proportional to shares (largest remainder), summing to n."""
    shares = np.asarray(shares, dtype=np.float64)
    shares = shares / shares.sum() if shares.sum() > 0 else np.full(len(shares), 1 / len(shares))
    raw = shares * n
    counts = np.floor(raw).astype(np.int64)
    short = n - counts.sum()
    if short > 0:
        counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


def assign_ordered(score: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Category per row with exact counts from shares, lowest scores to the first category."""
    counts = exact_counts(shares, len(score))
    out = np.empty(len(score), dtype=np.int64)
    out[np.argsort(score, kind="stable")] = np.repeat(np.arange(len(counts)), counts)
    return out


def top_share(score: np.ndarray, share: float) -> np.ndarray:
    """Boolean mask of the round(share * n) rows with the highest score."""
    n = len(score)
    k = round(min(max(share, 0.0), 1.0) * n)
    mask = np.zeros(n, dtype=bool)
    if k > 0:
        mask[np.argpartition(-score, k - 1)[:k]] = True
    return mask


def scale_probabilities(base: np.ndarray, target: float, cap: float = 0.97) -> np.ndarray:
    """Probabilities min(k * base, cap) whose sum is target (k found by bisection)."""
    if len(base) == 0 or target <= 0:
        return np.zeros(len(base))
    target = min(target, cap * float((base > 0).sum()))
    lo, hi = 0.0, 1.0
    while np.minimum(hi * base, cap).sum() < target and hi < 1e6:
        hi *= 2
    for _ in range(40):
        mid = (lo + hi) / 2
        if np.minimum(mid * base, cap).sum() < target:
            lo = mid
        else:
            hi = mid
    return np.minimum(hi * base, cap)


def group_cumcount(mask: np.ndarray, start_of_row: np.ndarray) -> np.ndarray:
    """For rows sorted by group: how many earlier rows of the same group have mask True."""
    m = mask.astype(np.int64)
    before = np.cumsum(m) - m
    return before - before[start_of_row]


def first_in_group(mask: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Row index of the first True row of each group, -1 where there is none."""
    out = np.full(n_groups, -1, dtype=np.int64)
    rows = np.flatnonzero(mask)[::-1]  # reversed so the first row is written last
    out[group[rows]] = rows
    return out


def band_index(age: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of the band each age falls in, bands split at the given edges."""
    return np.searchsorted(edges, age, side="right")
