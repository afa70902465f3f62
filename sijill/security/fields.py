"""Sensitive declared fields (disability, health coverage) encrypted at rest, with rotatable keys.

Keys: `settings.SIJILL_FIELD_KEYS`, a list of secrets, the first one current (env
SIJILL_FIELD_KEYS, comma-separated). In the dev profile the default is derived from SECRET_KEY;
the production profile refuses to start without it. To rotate: put a new secret first, keep the
old ones after it, deploy, run `manage.py rotate_field_keys` (re-encrypts every row under the
current key, in batches, resumable), then drop the old secrets.

Scheme (encode-then-encipher, Bellare & Rogaway 2000): a value is a code of a small vocabulary.
Its 16-byte block is [code index][7 random bytes][8 zero bytes], enciphered with AES-256 as one
block (a pseudorandom permutation; `modes.ECB` on exactly one block per value, never on data
longer than a block). The random bytes make equal codes encrypt differently (no frequency
leak: "none" is most members' disability); the zero bytes are redundancy, so any altered
ciphertext, one pasted from another column (each column has its own key, derived from the
secret and the column's name), or one under an unknown key is refused on reading, with
probability 1 - 2^-64. Stored as text: the key's 6-hex-digit id then 32 hex digits (38
characters), the same on SQLite and PostgreSQL and in COPY files.

Why this and not Fernet: the bulk paths (household import, the synthetic loader, batch scoring
and program eligibility) handle millions of members; one block per value lets them encrypt and
decrypt a whole column in ONE call to AES (hardware, ~GB/s) plus numpy, instead of millions of
Python-level Fernet calls (measured ~10 µs each: +90 s for 1M households' 8.6M values).

Two entry points:
- `EncryptedCodeField`, a model field: the ORM encrypts on save and decrypts on load (values(),
  values_list() too). Filtering on it is refused (a random encryption matches nothing).
- `encrypt_column` / `decrypt_column` on Polars series, for COPY writers and SQL readers.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

from sijill.declaration import vocab

BLOCK = 16
KID = 6  # hex digits of the key id
WIDTH = KID + 2 * BLOCK  # stored characters
RANDOM = slice(1, 8)
REDUNDANCY = slice(8, 16)

#: Code tables: the index of a code is its position here. APPEND ONLY — a reordered table would
#: decrypt stored values to the wrong code (tests/test_field_encryption.py pins the order).
CODES: dict[str, tuple[str, ...]] = {
    "disability": ("none", "physical", "visual", "hearing", "mental", "multiple"),
    "health_coverage": ("none", "amo_tadamon", "amo_salaried", "amo_public",
                        "amo_self_employed", "private_insurance", "other"),
}
VOCABULARIES = {"disability": vocab.Disability, "health_coverage": vocab.HealthCoverage}


class DecryptionError(ValueError):
    """A stored value could not be decrypted: altered, or under a key no longer configured."""


def field_secrets() -> list[str]:
    keys = list(getattr(settings, "SIJILL_FIELD_KEYS", []) or [])
    if not keys:
        raise ImproperlyConfigured("SIJILL_FIELD_KEYS is empty: no key to encrypt fields with")
    return keys


@lru_cache(maxsize=64)
def _derive(secret: str, column: str) -> tuple[str, bytes]:
    key = hashlib.sha256(f"sijill-field-key\x00{column}\x00{secret}".encode()).digest()
    kid = hashlib.sha256(b"kid\x00" + key).hexdigest()[:KID]
    return kid, key


def _keys(column: str) -> list[tuple[str, bytes]]:
    """(key id, AES key) of every configured secret for `column`, the current one first."""
    return [_derive(secret, column) for secret in field_secrets()]


def current_kid(column: str) -> str:
    return _keys(column)[0][0]


# --- binary columns <-> numpy, without a Python object per row ---------------------------------


def _binary_to_numpy(series: pl.Series) -> np.ndarray:
    """A Binary series of BLOCK-byte values -> (n, BLOCK) uint8."""
    array = series.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_binary())
    n = len(array)
    if n == 0:
        return np.zeros((0, BLOCK), np.uint8)
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, np.int64)[array.offset:array.offset + n + 1]
    if not (np.diff(offsets) == BLOCK).all():
        raise DecryptionError(f"{series.name}: a value is not an encrypted code")
    return np.frombuffer(data_buf, np.uint8)[offsets[0]:offsets[-1]].reshape(n, BLOCK)


def _numpy_to_binary(blocks: bytes, n: int, name: str) -> pl.Series:
    offsets = np.arange(0, (n + 1) * BLOCK, BLOCK, dtype=np.int64)
    array = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [
        None, pa.py_buffer(offsets), pa.py_buffer(blocks)])
    return pl.Series(name, pl.from_arrow(array))


def _aes(key: bytes, data: bytes, *, decrypt: bool) -> bytes:
    # One AES block per value (see the module docstring): never multi-block ECB of one message.
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305
    worker = cipher.decryptor() if decrypt else cipher.encryptor()
    return worker.update(data) + worker.finalize()


# --- columns ---------------------------------------------------------------------------------


def encrypt_codes(column: str, codes: Sequence[str] | pl.Series) -> pl.Series:
    """Encrypt a column of codes under the current key (vectorised)."""
    table = CODES[column]
    values = codes if isinstance(codes, pl.Series) else pl.Series(column, list(codes), pl.Utf8)
    index = values.cast(pl.Utf8).replace_strict(
        list(table), list(range(len(table))), default=None, return_dtype=pl.UInt8)
    if index.null_count():
        bad = values.filter(index.is_null()).head(1).to_list()
        raise ValueError(f"{column}: unknown code {bad[0]!r}")
    n = len(index)
    blocks = np.zeros((n, BLOCK), np.uint8)
    blocks[:, 0] = index.to_numpy()
    blocks[:, RANDOM] = np.frombuffer(secrets.token_bytes(n * 7), np.uint8).reshape(n, 7)
    kid, key = _keys(column)[0]
    sealed = _numpy_to_binary(_aes(key, blocks.tobytes(), decrypt=False), n, "sealed")
    return (kid + sealed.bin.encode("hex")).alias(values.name or column)


def decrypt_codes(column: str, stored: pl.Series) -> pl.Series:
    """Decrypt a column read as text (vectorised); raises DecryptionError on any bad value."""
    table = CODES[column]
    name = stored.name
    stored = stored.cast(pl.Utf8)
    n = len(stored)
    if stored.null_count() or not (stored.str.len_bytes() == WIDTH).all():
        raise DecryptionError(f"{column}: a value is not an encrypted code")
    try:
        sealed = _binary_to_numpy(stored.str.slice(KID).str.decode("hex"))
    except pl.exceptions.ComputeError as error:
        raise DecryptionError(f"{column}: a value is not an encrypted code") from error
    kids = stored.str.slice(0, KID)
    index = np.full(n, 255, np.uint8)
    left = n
    for kid, key in _keys(column):
        mine = (kids == kid).to_numpy()
        count = int(mine.sum())
        if count == 0:
            continue
        part = sealed if count == n else sealed[mine]
        plain = np.frombuffer(_aes(key, np.ascontiguousarray(part).tobytes(), decrypt=True),
                              np.uint8).reshape(-1, BLOCK)
        if plain[:, REDUNDANCY].any() or (plain[:, 0] >= len(table)).any():
            raise DecryptionError(f"{column}: a stored value was altered")
        if count == n:
            index = plain[:, 0]
        else:
            index[mine] = plain[:, 0]
        left -= count
    if left:
        raise DecryptionError(f"{column}: a value is under a key no longer configured")
    return pl.Series(name, index).replace_strict(list(range(len(table))), list(table),
                                                 return_dtype=pl.Utf8)


def encrypt_code(column: str, code: str) -> str:
    """One value (the ORM's path): the same format as `encrypt_codes`, without Polars."""
    table = CODES[column]
    try:
        index = table.index(code)
    except ValueError:
        raise ValueError(f"{column}: unknown code {code!r}") from None
    kid, key = _keys(column)[0]
    block = bytes([index]) + secrets.token_bytes(7) + bytes(8)
    return kid + _aes(key, block, decrypt=False).hex()


def decrypt_code(column: str, stored: str) -> str:
    """One value (the ORM's path): the same checks as `decrypt_codes`, without Polars."""
    table = CODES[column]
    if not isinstance(stored, str) or len(stored) != WIDTH:
        raise DecryptionError(f"{column}: a value is not an encrypted code")
    try:
        sealed = bytes.fromhex(stored[KID:])
    except ValueError:
        raise DecryptionError(f"{column}: a value is not an encrypted code") from None
    for kid, key in _keys(column):
        if stored[:KID] == kid:
            plain = _aes(key, sealed, decrypt=True)
            if any(plain[REDUNDANCY]) or plain[0] >= len(table):
                raise DecryptionError(f"{column}: a stored value was altered")
            return table[plain[0]]
    raise DecryptionError(f"{column}: a value is under a key no longer configured")


def is_current(column: str, stored: str) -> bool:
    return stored[:KID] == current_kid(column)


def encrypt_frame(frame: pl.DataFrame, columns: Sequence[str] = tuple(CODES)) -> pl.DataFrame:
    """The frame with each present sensitive column encrypted (for COPY writers)."""
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns([encrypt_codes(c, frame[c]).alias(c) for c in present])


def decrypt_frame(frame: pl.DataFrame, columns: Sequence[str] = tuple(CODES)) -> pl.DataFrame:
    """The frame with each present sensitive column decrypted (for SQL readers)."""
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns([decrypt_codes(c, frame[c]).alias(c) for c in present])


# --- the model field -------------------------------------------------------------------------


class EncryptedCodeField(models.CharField):
    """A code of CODES[column] stored encrypted. `column` defaults to the attribute's name."""

    def __init__(self, *args: Any, column_key: str | None = None, **kwargs: Any):
        self.column_key = column_key
        kwargs["max_length"] = WIDTH
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.column_key = self.column_key or name
        if self.column_key not in CODES:
            raise ImproperlyConfigured(f"no code table for encrypted field {self.column_key}")

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        if self.column_key and self.column_key != self.name:
            kwargs["column_key"] = self.column_key
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt_code(self.column_key, value)  # type: ignore[arg-type]

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_code(self.column_key, str(value))  # type: ignore[arg-type]

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(f"{self.column_key} is encrypted at rest: it cannot be filtered on "
                             "in SQL (decrypt the column, then filter)")
        return super().get_lookup(lookup_name)


def encrypt_model_frame(model: type[models.Model], frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (columns named like `model`'s columns) with its encrypted fields encrypted: for
    writers that bypass the ORM (COPY, raw INSERT)."""
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedCodeField) and field.column in frame.columns:
            frame = frame.with_columns(
                encrypt_codes(field.column_key, frame[field.column]).alias(field.column))  # type: ignore[arg-type]
    return frame
