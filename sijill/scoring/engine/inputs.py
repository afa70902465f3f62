"""Engine inputs: one household (records) or many (columns), with verified values.

The declaration does not hold identity facts nor where the household lives: the caller joins
age and sex from the population register, and region and milieu from the household's address.
Where verification has spoken, a verified value replaces the declared one and the result says
which variables it fed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from sijill.declaration.model import HOUSEHOLD_FIELDS, Declaration, HouseholdData, MemberData
from sijill.declaration.vocab import Milieu, Relationship, Sex
from sijill.scoring.engine.codes import ENUM_FIELDS, code, encode, string_to_code
from sijill.scoring.engine.derivations import MEMBER_CONTEXT_FIELDS


@dataclass(frozen=True, slots=True)
class Verified:
    """A value a partner body returned, replacing the declared one (e.g. cars=0 by the
    vehicle registry)."""

    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Identity facts from the population register."""

    sex: Sex
    birth_date: date


def age_in_completed_years(birth_date: date, reference_date: date) -> int:
    """Age in completed years on `reference_date` (a 29 February birthday counts on 1 March)."""
    had_birthday = (reference_date.month, reference_date.day) >= (birth_date.month, birth_date.day)
    return reference_date.year - birth_date.year - (0 if had_birthday else 1)


@dataclass(frozen=True, slots=True)
class MemberInput:
    """One member: the declared data, identity facts, and verified member fields."""

    data: MemberData
    age: int
    sex: Sex
    verified: Mapping[str, Verified] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HouseholdInput:
    """One household to score: its declaration version joined with identity and address."""

    household: HouseholdData
    members: tuple[MemberInput, ...]
    region: str
    milieu: Milieu
    verified: Mapping[str, Verified] = field(default_factory=dict)

    @classmethod
    def from_declaration(
        cls,
        declaration: Declaration,
        identities: Mapping[str, Identity],
        *,
        reference_date: date,
        region: str,
        milieu: Milieu | str,
        verified: Mapping[str, Verified] | None = None,
        member_verified: Mapping[str, Mapping[str, Verified]] | None = None,
    ) -> HouseholdInput:
        """Join a declaration with identities (by IDCS) and verified values (by field, and by
        IDCS then field for members)."""
        member_verified = member_verified or {}
        members = []
        for m in declaration.members:
            ident = identities[m.idcs]
            members.append(
                MemberInput(
                    data=m,
                    age=age_in_completed_years(ident.birth_date, reference_date),
                    sex=ident.sex,
                    verified=dict(member_verified.get(m.idcs, {})),
                )
            )
        return cls(
            household=declaration.household,
            members=tuple(members),
            region=region,
            milieu=Milieu(milieu),
            verified=dict(verified or {}),
        )


@dataclass(frozen=True, slots=True)
class ColumnOverride:
    """Verified values for one column of a batch: where `verified` is true, `values` count."""

    values: np.ndarray
    verified: np.ndarray
    source: str = "verification"


@dataclass(slots=True)
class HouseholdBatch:
    """Many households as columns.

    * `household`: one array per HouseholdData field, length n (enum fields as uint8 codes from
      `codes`, flags as bool, counts and dirham amounts as integers);
    * `milieu`: uint8 codes of Milieu; `region`: indices into `region_codes`;
    * `members`: one array per member context field (declared fields, `age`, `sex`), length m,
      grouped by household with the head first, `offsets` (n + 1) delimiting each household's
      rows (members of household i are rows offsets[i]:offsets[i+1]);
    * `household_overrides` / `member_overrides`: verified values per column.
    """

    household: dict[str, np.ndarray]
    members: dict[str, np.ndarray]
    offsets: np.ndarray
    milieu: np.ndarray
    region: np.ndarray
    region_codes: tuple[str, ...]
    household_overrides: dict[str, ColumnOverride] = field(default_factory=dict)
    member_overrides: dict[str, ColumnOverride] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    def validate(self) -> None:
        """Check shapes, non-empty households and one head, first, per household."""
        self.validate_columns()
        if np.any(np.diff(self.offsets) < 1):
            raise ValueError("offsets must start at 0 and every household needs a member")
        region = self.region
        if len(region) and (region.min() < 0 or region.max() >= len(self.region_codes)):
            raise ValueError("region indices must point into region_codes")
        rel = self.members["relationship"]
        head = code(Relationship.HEAD)
        if int(self.offsets[-1]) and (
            np.any(rel[self.offsets[:-1]] != head) or int(np.count_nonzero(rel == head)) != self.n
        ):
            raise ValueError("each household needs exactly one head, listed first")

    def validate_columns(self) -> None:
        """Check the columns' lengths against `offsets` (the cheap part of `validate`; the
        per-household part is done in one pass by the batch kernel)."""
        n, m = self.n, int(self.offsets[-1])
        if self.offsets[0] != 0:
            raise ValueError("offsets must start at 0 and every household needs a member")
        for name in HOUSEHOLD_FIELDS:
            if len(self.household[name]) != n:
                raise ValueError(f"household column {name!r} has the wrong length")
        for name in MEMBER_CONTEXT_FIELDS:
            if len(self.members[name]) != m:
                raise ValueError(f"member column {name!r} has the wrong length")
        if len(self.milieu) != n or len(self.region) != n:
            raise ValueError("milieu and region need one value per household")
        for name, o in self.household_overrides.items():
            if len(o.values) != n or len(o.verified) != n:
                raise ValueError(f"household override {name!r} has the wrong length")
        for name, o in self.member_overrides.items():
            if len(o.values) != m or len(o.verified) != m:
                raise ValueError(f"member override {name!r} has the wrong length")

    @classmethod
    def from_inputs(
        cls, inputs: Sequence[HouseholdInput], region_codes: Sequence[str]
    ) -> HouseholdBatch:
        """Build columns from household records (small batches, tests): head first."""
        region_index = {c: i for i, c in enumerate(region_codes)}
        hh_rows: dict[str, list[Any]] = {f: [] for f in HOUSEHOLD_FIELDS}
        mem_rows: dict[str, list[Any]] = {f: [] for f in MEMBER_CONTEXT_FIELDS}
        hh_over: dict[str, tuple[list[Any], list[bool], set[str]]] = {}
        mem_over: dict[str, tuple[list[Any], list[bool], set[str]]] = {}
        sizes = []
        n_members = 0
        for i, h in enumerate(inputs):
            for f in HOUSEHOLD_FIELDS:
                hh_rows[f].append(getattr(h.household, f))
            for f, v in h.verified.items():
                vals, mask, sources = hh_over.setdefault(f, ([], [], set()))
                vals.extend([None] * (i - len(vals)) + [v.value])
                mask.extend([False] * (i - len(mask)) + [True])
                sources.add(v.source)
            ordered = sorted(h.members, key=lambda m: m.data.relationship != Relationship.HEAD)
            for mem in ordered:
                for f in MEMBER_CONTEXT_FIELDS:
                    mem_rows[f].append(_member_value(mem, f))
                for f, v in mem.verified.items():
                    vals, mask, sources = mem_over.setdefault(f, ([], [], set()))
                    vals.extend([None] * (n_members - len(vals)) + [v.value])
                    mask.extend([False] * (n_members - len(mask)) + [True])
                    sources.add(v.source)
                n_members += 1
            sizes.append(len(h.members))
        offsets = np.zeros(len(inputs) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        household = {f: _column(f, hh_rows[f]) for f in HOUSEHOLD_FIELDS}
        members = {f: _column(f, mem_rows[f]) for f in MEMBER_CONTEXT_FIELDS}
        return cls(
            household=household,
            members=members,
            offsets=offsets,
            milieu=encode("milieu", [h.milieu for h in inputs]),
            region=np.array([region_index[h.region] for h in inputs], dtype=np.int64),
            region_codes=tuple(region_codes),
            household_overrides={
                f: _override(f, vals, mask, sources, household[f], len(inputs))
                for f, (vals, mask, sources) in hh_over.items()
            },
            member_overrides={
                f: _override(f, vals, mask, sources, members[f], n_members)
                for f, (vals, mask, sources) in mem_over.items()
            },
        )

    @classmethod
    def from_polars(
        cls, households: Any, members: Any, region_codes: Sequence[str]
    ) -> HouseholdBatch:
        """Build columns from Polars frames (bulk reads, e.g. after a COPY out).

        `households`: the HouseholdData fields plus `region` (code) and `milieu` (string), one
        row per household. `members`: a `household` column (row number in `households`), the
        member context fields (enum fields as strings) and `age`, `sex`.
        """
        import polars as pl

        head = Relationship.HEAD.value
        members = members.with_columns(
            (pl.col("relationship").cast(pl.Utf8) != head).alias("_not_head")
        ).sort(["household", "_not_head"], maintain_order=True)
        counts = np.bincount(members["household"].to_numpy(), minlength=households.height)
        offsets = np.zeros(households.height + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        region_index = {c: i for i, c in enumerate(region_codes)}

        def col(frame: Any, name: str) -> np.ndarray:
            series = frame[name]
            if name in ENUM_FIELDS:
                mapping = string_to_code(name)
                return (
                    series.cast(pl.Utf8).replace_strict(mapping, return_dtype=pl.UInt8).to_numpy()
                )
            return series.to_numpy()

        return cls(
            household={f: col(households, f) for f in HOUSEHOLD_FIELDS},
            members={f: col(members, f) for f in MEMBER_CONTEXT_FIELDS},
            offsets=offsets,
            milieu=col(households, "milieu"),
            region=np.array(
                [region_index[str(r)] for r in households["region"].to_list()], dtype=np.int64
            ),
            region_codes=tuple(region_codes),
        )


def _member_value(mem: MemberInput, name: str) -> Any:
    if name == "age":
        return mem.age
    if name == "sex":
        return mem.sex
    return getattr(mem.data, name)


def _column(name: str, values: list[Any]) -> np.ndarray:
    if name in ENUM_FIELDS:
        return encode(name, values)
    if values and isinstance(values[0], bool):
        return np.array(values, dtype=bool)
    return np.array(values, dtype=np.int64)


def _override(
    name: str, vals: list[Any], mask: list[bool], sources: set[str], declared: np.ndarray, n: int
) -> ColumnOverride:
    vals = vals + [None] * (n - len(vals))
    mask = mask + [False] * (n - len(mask))
    filled = [v if ok else None for v, ok in zip(vals, mask, strict=True)]
    if name in ENUM_FIELDS:
        values = np.array(
            [code(ENUM_FIELDS[name](v)) if v is not None else 0 for v in filled], dtype=np.uint8
        )
    else:
        values = np.array([v if v is not None else 0 for v in filled], dtype=declared.dtype)
    return ColumnOverride(values, np.array(mask, dtype=bool), ",".join(sorted(sources)))
