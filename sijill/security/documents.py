"""Documents (JSON) encrypted at rest: what partner bodies were asked and what they answered.

A partner's answer is personal data of the most sensitive kind (health insurance affiliations,
disabilities, civil status, vehicles, land), and the question names every member. They are kept
as evidence of each verification, so they are encrypted like the declared sensitive codes
(sijill.security.fields), with the same rotatable keys (SIJILL_FIELD_KEYS, a key per column
derived from the secret and the column's name), but as whole documents: AES-256-GCM with a
random 96-bit nonce and the column's name as associated data, so an altered value, one pasted
from another column, or one under a key no longer configured is refused on reading.

Stored as text: the key's 6-hex-digit id, then the URL-safe base64 of nonce + ciphertext + tag.
These documents are read one verification at a time, never in bulk scans: one AEAD call per
value is cheap enough (a few µs), unlike the codes' vectorised scheme.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from sijill.security.fields import KID, DecryptionError, _keys, current_kid

NONCE = 12


def seal_document(column: str, value: Any) -> str:
    """`value` (anything JSON can hold) encrypted under the current key of `column`."""
    kid, key = _keys(column)[0]
    nonce = secrets.token_bytes(NONCE)
    plain = json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, column.encode())
    return kid + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_document(column: str, stored: str) -> Any:
    """The value `seal_document` sealed; DecryptionError if altered, foreign or under an
    unknown key."""
    if not isinstance(stored, str) or len(stored) <= KID:
        raise DecryptionError(f"{column}: a value is not an encrypted document")
    try:
        raw = base64.urlsafe_b64decode(stored[KID:])
    except (binascii.Error, ValueError):
        raise DecryptionError(f"{column}: a value is not an encrypted document") from None
    for kid, key in _keys(column):
        if stored[:KID] == kid:
            try:
                plain = AESGCM(key).decrypt(raw[:NONCE], raw[NONCE:], column.encode())
            except (InvalidTag, ValueError):
                raise DecryptionError(f"{column}: a stored value was altered") from None
            return json.loads(plain)
    raise DecryptionError(f"{column}: a value is under a key no longer configured")


def is_sealed_document(stored: Any) -> bool:
    """Whether `stored` is sealed (a key id, then base64), not a clear JSON object or array
    written before these columns were encrypted."""
    return (isinstance(stored, str) and len(stored) > KID
            and all(c in "0123456789abcdef" for c in stored[:KID]))


def is_current_document(column: str, stored: str) -> bool:
    return stored[:KID] == current_kid(column)


class EncryptedJSONField(models.TextField):
    """A JSON document stored encrypted (`seal_document`); the ORM opens it on load.
    The column key defaults to "<db_table>.<attribute>"; filtering on it is refused."""

    # For django-stubs: the attribute holds any JSON value, not the text stored.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def __init__(self, *args: Any, column_key: str | None = None, **kwargs: Any):
        self.column_key = column_key
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.column_key = self.column_key or f"{cls._meta.db_table}.{name}"

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.column_key and self.model is not None and (
                self.column_key != f"{self.model._meta.db_table}.{self.name}"):
            kwargs["column_key"] = self.column_key
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return open_document(self.column_key, value)  # type: ignore[arg-type]

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return value
        return seal_document(self.column_key, value)  # type: ignore[arg-type]

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(f"{self.column_key} is encrypted at rest: it cannot be filtered on "
                             "in SQL")
        return super().get_lookup(lookup_name)
