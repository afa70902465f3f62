"""The only writer of the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from sijill.accounts.actors import Actor
from sijill.audit.chain import GENESIS, entry_hash
from sijill.audit.models import AuditEntry
from sijill.audit.selectors import Access, accesses_of

_LOCK_KEY = 0x5A1A_A0D1  # advisory lock id serialising chain appends on PostgreSQL


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
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT tip_seq, tip_hash FROM audit_chain_tip(%s)", [_LOCK_KEY])
                last = cursor.fetchone()
        else:
            last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        # Microsecond precision survives every backend, so the verifier rehashes the same text.
        at = datetime.now(UTC)
        fields = {
            "seq": seq, "at": at, "actor_label": actor.label, "actor_role": actor.role,
            "action": action, "entity": entity, "entity_id": str(entity_id),
            "subject": subject, "purpose": purpose or actor.purpose, "detail": detail or {},
        }
        return AuditEntry.objects.create(prev_hash=prev, hash=entry_hash(prev_hash=prev, **fields),
                                         **fields)


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
