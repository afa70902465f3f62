"""The only writer of the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from sijill.accounts.actors import Actor
from sijill.audit.chain import GENESIS, entry_hash
from sijill.audit.models import AuditEntry
from sijill.audit.selectors import Access, accesses_of
from sijill.core.inserts import insert_rows

_LOCK_KEY = 0x5A1A_A0D1  # advisory lock id serialising chain appends on PostgreSQL


def _tip() -> tuple[int, str]:
    """(seq, hash) of the last entry, or (0, GENESIS); locks the chain until the transaction
    ends (an advisory lock on PostgreSQL, the write lock SQLite's IMMEDIATE mode took)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT tip_seq, tip_hash FROM audit_chain_tip(%s)", [_LOCK_KEY])
            last = cursor.fetchone()
    else:
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return (last[0], last[1]) if last and last[0] is not None else (0, GENESIS)


def audit_record(*, actor: Actor, action: str, entity: str, entity_id: str | int,
                 subject: str = "", purpose: str = "", detail: dict[str, Any] | None = None,
                 ) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction.

    The entry commits or rolls back with the access it records. Appends are serialised (an
    advisory lock on PostgreSQL, the database write lock on SQLite) from reading the last hash
    to the end of the caller's transaction.

    Cost: two round trips on PostgreSQL (lock and read the tip in one function call, then the
    insert). No savepoint: if the append fails, the caller's whole transaction fails with it, as
    an access that could not be recorded must not happen.
    """
    with transaction.atomic(savepoint=False):
        seq, prev = _tip()
        seq += 1
        # Microsecond precision survives every backend, so the verifier rehashes the same text.
        at = datetime.now(UTC)
        fields: dict[str, Any] = {
            "seq": seq, "at": at, "actor_label": actor.label, "actor_role": actor.role,
            "action": action, "entity": entity, "entity_id": str(entity_id),
            "subject": subject, "purpose": purpose or actor.purpose, "detail": detail or {},
        }
        entry = AuditEntry(prev_hash=prev, hash=entry_hash(prev_hash=prev, **fields), **fields)
        insert_rows([entry])
        return entry


@dataclass(frozen=True)
class AuditItem:
    """One entry of a bulk append (the arguments of `audit_record` but the actor)."""

    action: str
    entity: str
    entity_id: str | int
    subject: str = ""
    purpose: str = ""
    detail: dict[str, Any] | None = None


def audit_record_many(*, actor: Actor, items: Sequence[AuditItem]) -> list[AuditEntry]:
    """Append several entries in one go: one tip read (one lock) and one INSERT for all.

    Same chain, same hashes as calling `audit_record` once per item in order (the verifier
    cannot tell the difference); used where one request reads many people at once (a search's
    hits). All or nothing, inside the caller's transaction.
    """
    if not items:
        return []
    with transaction.atomic(savepoint=False):
        seq, prev = _tip()
        at = datetime.now(UTC)
        rows = []
        for item in items:
            seq += 1
            fields: dict[str, Any] = {
                "seq": seq, "at": at, "actor_label": actor.label, "actor_role": actor.role,
                "action": item.action, "entity": item.entity, "entity_id": str(item.entity_id),
                "subject": item.subject, "purpose": item.purpose or actor.purpose,
                "detail": item.detail or {},
            }
            digest = entry_hash(prev_hash=prev, **fields)
            rows.append(AuditEntry(prev_hash=prev, hash=digest, **fields))
            prev = digest
        return AuditEntry.objects.bulk_create(rows)


def accesses_read(*, actor: Actor, before_seq: int | None = None,
                  limit: int = 50) -> list[Access]:
    """The accesses to the caller's own data (citizens). Reading them is itself recorded."""
    from sijill.accounts.roles import Perm

    actor.require(Perm.ACCESSES_READ_OWN)
    if not actor.idcs:
        return []  # an administrator's account is no person's: nothing to show
    with transaction.atomic():
        audit_record(actor=actor, action="read_accesses", entity="person", entity_id=actor.idcs,
                     subject=actor.idcs, purpose="own data")
    return accesses_of(idcs=actor.idcs, before_seq=before_seq, limit=limit)
