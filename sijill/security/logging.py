"""No personal data in logs: a filter that scrubs identifiers from every log record.

Installed on the handlers in settings.LOGGING (handler filters see records propagated from every
logger, Django's request and server loggers included). It renders the message with its
arguments, then replaces what looks like an IDCS (10 digits), a CNIE number (1-2 letters and
4-7 digits) or a phone number (Moroccan national or any international +number). The traceback
text is scrubbed too: exception messages often quote the value that failed.

Over-scrubbing (an unrelated 10-digit count) is the accepted price of never leaking an identifier.
"""

from __future__ import annotations

import logging
import re

REDACTED = {"idcs": "[IDCS]", "cnie": "[CNIE]", "phone": "[PHONE]"}

_SEP = r"[\s.\-]?"
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # International numbers first: +212 6 12 34 56 78, 00212612345678, +33 6 12 34 56 78.
    (re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}(?:" + _SEP + r"\(?\d\)?){7,12}(?!\d)"),
     REDACTED["phone"]),
    # Moroccan national format: 06 12 34 56 78, 0712345678, 05-22-...
    (re.compile(r"(?<![\w+])0[5-8](?:" + _SEP + r"\d){8}(?!\d)"), REDACTED["phone"]),
    # IDCS: exactly 10 digits, not part of a longer number.
    (re.compile(r"(?<![\d])\d{10}(?![\d])"), REDACTED["idcs"]),
    # CNIE: one or two letters then 4 to 7 digits, as a word (not a UUID's first group, such as
    # a task id "ab123456-7f0e-...").
    (re.compile(r"\b[A-Za-z]{1,2}\d{4,7}\b(?!-[0-9a-fA-F]{4}-)"), REDACTED["cnie"]),
]


#: A UUID (task and request ids): never personal data, and its hex groups can hold 10 digits in
#: a row, which the IDCS pattern would take.
UUID = re.compile(r"(\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}\b)")


def _scrub_part(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub(text: str) -> str:
    """`text` with identifiers replaced; UUIDs kept whole (re.split keeps them at odd places)."""
    parts = UUID.split(text)
    return "".join(part if i % 2 else _scrub_part(part) for i, part in enumerate(parts))


class PersonalDataFilter(logging.Filter):
    """Rewrite the record in place (message rendered and scrubbed); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we have, scrubbed
            message = f"{record.msg} {record.args}"
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
