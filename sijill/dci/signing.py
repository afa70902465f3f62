"""Message signatures of the DCI envelope (the `signature` field: "header + message").

Format (the standard's MsgSignature example, as in Beckn/HTTP signatures):

    Signature: namespace="spdci", kidId="{sender_id}|{key_id}|ed25519", algorithm="ed25519",
    created="<unix>", expires="<unix>", headers="(created) (expires) digest",
    signature="<base64 Ed25519 signature of the signing string>"

    signing string = "(created): <created>\\n(expires): <expires>\\ndigest: BLAKE-512=<d>"
    d = base64(BLAKE2b-512(canonical JSON of {"header": header, "message": message}))

canonical JSON: keys sorted, separators "," and ":", UTF-8 (not ASCII-escaped). A signature is
accepted from `created - 5 min` to `expires` (at most one hour after `created`).

A partner signs with its Ed25519 private key; its public key is on its DciPartner row. The
registry signs its answers and callbacks with its own key (`SIJILL_DCI_SIGNING_KEY`, base64 of
a 32-byte seed; derived from SECRET_KEY when unset) whose public key is served at
`/api/dci/keys`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings

REGISTRY_KEY_ID = "sijill-dci-1"
SKEW_SECONDS = 300
MAX_VALIDITY_SECONDS = 3600
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class SignatureError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code  # err.signature.missing / err.signature.invalid


def canonical(header: Any, message: Any) -> bytes:
    return json.dumps({"header": header, "message": message}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()


def digest(header: Any, message: Any) -> str:
    return base64.b64encode(hashlib.blake2b(canonical(header, message),
                                            digest_size=64).digest()).decode()


def signing_string(created: int, expires: int, digest_b64: str) -> bytes:
    return f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={digest_b64}".encode()


def sign(private_key: Ed25519PrivateKey, *, header: Any, message: Any, sender_id: str,
         key_id: str, now: int | None = None, validity: int = 600) -> str:
    created = int(now if now is not None else time.time())
    expires = created + validity
    raw = private_key.sign(signing_string(created, expires, digest(header, message)))
    return (f'Signature: namespace="spdci", kidId="{sender_id}|{key_id}|ed25519", '
            f'algorithm="ed25519", created="{created}", expires="{expires}", '
            f'headers="(created) (expires) digest", '
            f'signature="{base64.b64encode(raw).decode()}"')


def verify(signature: str | None, *, public_key_b64: str, sender_id: str, header: Any,
           message: Any, now: int | None = None) -> None:
    """Raise SignatureError unless `signature` is a valid one of `sender_id` over the body."""
    if not signature:
        raise SignatureError("err.signature.missing", "The message is not signed.")
    params = dict(_PARAM.findall(signature))
    try:
        created, expires = int(params["created"]), int(params["expires"])
        kid_sender = params.get("kidId", "").split("|")[0]
        raw = base64.b64decode(params["signature"], validate=True)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    except (KeyError, ValueError) as exc:
        raise SignatureError("err.signature.invalid", "The signature cannot be read.") from exc
    if params.get("algorithm", "ed25519") != "ed25519" or kid_sender != sender_id:
        raise SignatureError("err.signature.invalid", "Wrong algorithm or key id.")
    now = int(now if now is not None else time.time())
    if not (created - SKEW_SECONDS <= now <= expires) or expires - created > MAX_VALIDITY_SECONDS:
        raise SignatureError("err.signature.invalid", "The signature has expired.")
    try:
        key.verify(raw, signing_string(created, expires, digest(header, message)))
    except InvalidSignature as exc:
        raise SignatureError("err.signature.invalid", "The signature does not match.") from exc


def registry_key() -> Ed25519PrivateKey:
    seed_b64 = getattr(settings, "SIJILL_DCI_SIGNING_KEY", "")
    if seed_b64:
        seed = base64.b64decode(seed_b64)
    else:
        seed = hashlib.sha256(b"sijill-dci-signing:" + settings.SECRET_KEY.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    return base64.b64encode(private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def registry_sender_id() -> str:
    return getattr(settings, "SIJILL_DCI_SENDER_ID", "sijill.registry")


def sign_as_registry(*, header: Any, message: Any) -> str:
    return sign(registry_key(), header=header, message=message, sender_id=registry_sender_id(),
                key_id=REGISTRY_KEY_ID)
