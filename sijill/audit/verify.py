"""Verification of the audit chain: finds altered, removed and reordered entries.

`chain_problems` is the check itself, over any iterable of entries in sequence order (model
instances, or mappings such as rows read with psycopg from a restored copy of the database);
`audit_verify` runs it over this database's trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sijill.audit.chain import GENESIS, entry_hash
from sijill.audit.models import AuditEntry

FIELDS = ("seq", "at", "actor_label", "actor_role", "action", "entity", "entity_id", "subject",
          "purpose", "detail", "prev_hash", "hash")


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # "altered", "missing", "broken_link"
    detail: str


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def chain_problems(rows: Iterable[Any]) -> Iterator[ChainProblem]:
    """Walk entries (ordered by seq) and yield every problem found."""
    expected_seq = 1
    prev_hash = GENESIS
    for row in rows:
        seq: int = _field(row, "seq")
        at: datetime = _field(row, "at")
        if at.tzinfo is not None:  # hashed in UTC; a raw connection may read another zone
            at = at.astimezone(UTC)
        if seq != expected_seq:
            yield ChainProblem(expected_seq, "missing",
                               f"entries {expected_seq}..{seq - 1} are missing")
        if _field(row, "prev_hash") != prev_hash:
            yield ChainProblem(seq, "broken_link",
                               "does not link to the entry before it (removed or reordered)")
        recomputed = entry_hash(
            prev_hash=_field(row, "prev_hash"), seq=seq, at=at,
            actor_label=_field(row, "actor_label"), actor_role=_field(row, "actor_role"),
            action=_field(row, "action"), entity=_field(row, "entity"),
            entity_id=_field(row, "entity_id"), subject=_field(row, "subject"),
            purpose=_field(row, "purpose"), detail=_field(row, "detail"),
        )
        if recomputed != _field(row, "hash"):
            yield ChainProblem(seq, "altered", "content does not match its hash")
        prev_hash = _field(row, "hash")
        expected_seq = seq + 1


def _entries(chunk: int) -> Iterator[AuditEntry]:
    last_seq = None
    while True:
        rows = AuditEntry.objects.order_by("seq")
        if last_seq is not None:
            rows = rows.filter(seq__gt=last_seq)
        batch = list(rows[:chunk])
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def audit_verify(*, chunk: int = 5000) -> Iterator[ChainProblem]:
    """Walk this database's chain in sequence order and yield every problem found."""
    return chain_problems(_entries(chunk))
