"""Verified values as scoring sees them: a provider hook, so scoring never imports verification.

The verification app registers a provider (in its AppConfig.ready) that answers, for declaration
version ids, the current *basis*: the revision number of the verified values and the values
themselves (household fields, member fields by IDCS, with the partner that gave each), plus the
fields still unverified when the household was scored. Scoring uses it in every path that scores
a household's current declaration (the single path and the bulk rescore), so a score always says
which values partners confirmed. Without a provider (or for a declaration never verified) the
basis is 0: declared values only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sijill.scoring.engine import Verified


@dataclass(frozen=True)
class VerifiedBasis:
    basis: int = 0
    household: Mapping[str, Verified] = field(default_factory=dict)
    members: Mapping[str, Mapping[str, Verified]] = field(default_factory=dict)
    unverified: tuple[str, ...] = ()


DECLARED_ONLY = VerifiedBasis()

Provider = Callable[[Sequence[int]], Mapping[int, VerifiedBasis]]
_providers: list[Provider] = []
#: source code (a partner) → its name, translatable (registered by the verification app)
_source_names: dict[str, Any] = {}


def provider_register(provider: Provider) -> None:
    """Register a provider of verified values (idempotent)."""
    if provider not in _providers:
        _providers.append(provider)


def verified_for(declaration_ids: Sequence[int]) -> dict[int, VerifiedBasis]:
    """The current verified basis of each declaration that has one (others: declared only)."""
    out: dict[int, VerifiedBasis] = {}
    if not declaration_ids:
        return out
    for provider in _providers:
        out.update(provider(declaration_ids))
    return out


def source_names_register(names: Mapping[str, Any]) -> None:
    """Name the sources of verified values (partner code → lazily translated name)."""
    _source_names.update(names)


def source_name(code: str) -> str:
    """The name of a source in the active language (the code itself when unknown)."""
    return str(_source_names.get(code, code))
