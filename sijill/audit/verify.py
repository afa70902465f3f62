"""Verification of the audit chain: finds altered, removed and reordered entries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sijill.audit.chain import GENESIS, entry_hash
from sijill.audit.models import AuditEntry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # "altered", "missing", "broken_link"
    detail: str


def audit_verify(*, chunk: int = 5000) -> Iterator[ChainProblem]:
    """Walk the chain in sequence order and yield every problem found."""
    expected_seq = 1
    prev_hash = GENESIS
    last_seq = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last_seq).order_by("seq")[:chunk])
        if not rows:
            return
        for row in rows:
            if row.seq != expected_seq:
                yield ChainProblem(expected_seq, "missing",
                                   f"entries {expected_seq}..{row.seq - 1} are missing")
            if row.prev_hash != prev_hash:
                yield ChainProblem(row.seq, "broken_link",
                                   "does not link to the entry before it (removed or reordered)")
            recomputed = entry_hash(
                prev_hash=row.prev_hash, seq=row.seq, at=row.at, actor_label=row.actor_label,
                actor_role=row.actor_role, action=row.action, entity=row.entity,
                entity_id=row.entity_id, subject=row.subject, purpose=row.purpose,
                detail=row.detail,
            )
            if recomputed != row.hash:
                yield ChainProblem(row.seq, "altered", "content does not match its hash")
            prev_hash = row.hash
            expected_seq = row.seq + 1
            last_seq = row.seq
