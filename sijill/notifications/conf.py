"""Settings of the notifications, with their defaults (settings.NOTIFICATIONS overrides them).

    SMS_BACKEND      dotted path of the SMS backend (default: the file backend)
    EMAIL_BACKEND    dotted path of the e-mail backend (default: Django's e-mail, EMAIL_BACKEND)
    LETTER_BACKEND   dotted path of the letter backend (default: PDF print batches)
    OUTBOX_DIR       where the file backend writes one JSON line per message (sms.jsonl,
                     email.jsonl) and where print batches are written (letters/)
    SMS_GATEWAY_URL, SMS_GATEWAY_TOKEN, SMS_GATEWAY_TIMEOUT, SMS_GATEWAY_RETRIES
    MAX_ATTEMPTS, BACKOFF_SECONDS   outbox retries: attempt n waits BACKOFF × 2^(n−1)
    SENDING_LEASE_SECONDS           a send still "sending" after this is taken up again
    SECRET_TTL_SECONDS              a one-time code not sent within this is never sent
    LETTER_BATCH_MAX                letters per print batch
    SEND_BATCH_MAX                  notices claimed and sent by one batch send task
    SMS_GATEWAY_CONCURRENCY         requests in flight at once when a batch goes to the gateway

SIJILL["NOTICE_LIMIT_DAYS"] (5 to 10, default 10) is the time limit of the index notice; any other
value stops the start (check_limits, called when the app is ready).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS: dict[str, Any] = {
    "SMS_BACKEND": "sijill.notifications.backends.FileBackend",
    "EMAIL_BACKEND": "sijill.notifications.backends.DjangoEmailBackend",
    "LETTER_BACKEND": "sijill.notifications.backends.PrintBatchBackend",
    "OUTBOX_DIR": None,  # VAR_DIR / "outbox"
    "SMS_GATEWAY_URL": "",
    "SMS_GATEWAY_TOKEN": "",
    "SMS_GATEWAY_TIMEOUT": 10.0,
    "SMS_GATEWAY_RETRIES": 2,
    "MAX_ATTEMPTS": 8,
    "BACKOFF_SECONDS": 30,
    "SENDING_LEASE_SECONDS": 300,
    "SECRET_TTL_SECONDS": 600,
    "LETTER_BATCH_MAX": 500,
    "SEND_BATCH_MAX": 500,
    "SMS_GATEWAY_CONCURRENCY": 4,
}
NOTICE_LIMIT_RANGE = (5, 10)


def get(name: str) -> Any:
    value = getattr(settings, "NOTIFICATIONS", {}).get(name, DEFAULTS[name])
    if name == "OUTBOX_DIR":
        return Path(value) if value else Path(settings.VAR_DIR) / "outbox"
    return value


def notice_limit_days() -> int:
    days = getattr(settings, "SIJILL", {}).get("NOTICE_LIMIT_DAYS", 10)
    low, high = NOTICE_LIMIT_RANGE
    if not isinstance(days, int) or isinstance(days, bool) or not low <= days <= high:
        raise ImproperlyConfigured(
            f'SIJILL["NOTICE_LIMIT_DAYS"]={days!r}: the index notice must leave within '
            f"{low} to {high} days of registration")
    return days


def check_limits() -> None:
    notice_limit_days()
