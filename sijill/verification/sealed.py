"""Sensitive codes (health coverage, disability) stored encrypted in verification records.

The declaration keeps these fields encrypted at rest (sijill.security.fields); the copies that
verification keeps — `Verification.values` (partner-confirmed member fields) and a
discrepancy's declared / verified values — are encrypted the same way (one AES block per code,
the column's key, rotatable), and opened only when read."""

from __future__ import annotations

import copy
from typing import Any

from sijill.security.fields import CODES, WIDTH, decrypt_code, encrypt_code


def seal(field: str, value: Any) -> Any:
    if field in CODES and isinstance(value, str) and value in CODES[field]:
        return encrypt_code(field, value)
    return value


def unseal(field: str, value: Any) -> Any:
    if field in CODES and isinstance(value, str) and len(value) == WIDTH:
        return decrypt_code(field, value)
    return value


def _members(values: dict[str, Any], fn: Any) -> dict[str, Any]:
    out = copy.deepcopy(values)
    for fields in (out.get("members") or {}).values():
        for field, pair in fields.items():
            pair[0] = fn(field, pair[0])
    return out


def seal_values(values: dict[str, Any]) -> dict[str, Any]:
    """`Verification.values` as stored: sensitive member codes encrypted."""
    return _members(values, seal)


def unseal_values(values: dict[str, Any]) -> dict[str, Any]:
    """`Verification.values` in clear (for scoring, comparisons and authorised reads)."""
    return _members(values, unseal)
