"""The actor: who is calling, resolved once per request from a session or a bearer token."""

from __future__ import annotations

from dataclasses import dataclass, field

from sijill.accounts.roles import GRANTS, Perm
from sijill.core.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    role: str
    label: str  # "user:<id>" or "token:<id>", what the audit trail records
    user_id: int | None = None
    token_id: int | None = None
    centre_id: int | None = None
    province_codes: frozenset[str] = field(default_factory=frozenset)
    purpose: str = ""
    idcs: str | None = None  # a citizen's own IDCS

    def can(self, perm: Perm) -> bool:
        return perm in GRANTS.get(self.role, frozenset())

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise PermissionDenied()


SYSTEM = Actor(role="admin", label="system", purpose="system")
