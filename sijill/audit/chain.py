"""Hashing of audit entries (pure: shared by the writer and the verifier)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def entry_hash(*, prev_hash: str, seq: int, at: datetime, actor_label: str, actor_role: str,
               action: str, entity: str, entity_id: str, subject: str, purpose: str,
               detail: dict[str, Any]) -> str:
    payload = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor_label, actor_role, action, entity,
         entity_id, subject, purpose, detail],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()
