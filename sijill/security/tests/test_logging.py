"""No personal data in logs: the filter scrubs identifiers, and it is installed."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from sijill.security.logging import PersonalDataFilter, scrub


@pytest.mark.parametrize(("text", "expected"), [
    ("read person 1234567890 for review", "read person [IDCS] for review"),
    ("cnie=AB123456 ok", "cnie=[CNIE] ok"),
    ("CNIE Z98765, then", "CNIE [CNIE], then"),
    ("phone +212612345678", "phone [PHONE]"),
    ("phone +212 6 12 34 56 78.", "phone [PHONE]."),
    ("call 06 12 34 56 78 now", "call [PHONE] now"),
    ("call 0712345678", "call [PHONE]"),
    ("fax 00212522123456", "fax [PHONE]"),
    ("/api/v1/persons/1234567890/history", "/api/v1/persons/[IDCS]/history"),
])
def test_identifiers_are_scrubbed(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize("text", [
    "took 1234 ms", "seq 123456789012 done", "HTTP/1.1 200 1534", "sha256 ok",
    "2026-11-29 12:00:00", "household HH-7F3A9C",
])
def test_ordinary_text_is_left_alone(text):
    assert scrub(text) == text


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("sijill.test", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_scrubs_arguments_and_tracebacks():
    try:
        raise ValueError("no person with IDCS 1234567890, phone +212612345678")
    except ValueError:
        import sys

        record = _record("enrolment of %s (CNIE %s) failed", "9876543210", "AB123456",
                         exc_info=sys.exc_info())
    assert PersonalDataFilter().filter(record) is True
    assert record.getMessage() == "enrolment of [IDCS] (CNIE [CNIE]) failed"
    text = logging.Formatter().format(record)
    for secret in ("1234567890", "9876543210", "AB123456", "612345678"):
        assert secret not in text
    assert "[IDCS]" in record.exc_text and "[PHONE]" in record.exc_text


def test_the_filter_is_on_every_configured_handler():
    from django.conf import settings

    config = settings.LOGGING
    assert config["filters"]["personal_data"]["()"].endswith("PersonalDataFilter")
    for name, handler in config["handlers"].items():
        assert "personal_data" in handler.get("filters", []), name
    handlers = [*logging.getLogger().handlers, *logging.getLogger("django.server").handlers]
    handlers = [h for h in handlers if not type(h).__module__.startswith("_pytest")]
    assert len(handlers) == 2
    for handler in handlers:
        assert any(isinstance(f, PersonalDataFilter) for f in handler.filters), handler


@pytest.mark.django_db
def test_a_request_log_line_does_not_carry_the_idcs():
    handler = next(h for h in logging.getLogger().handlers
                   if not type(h).__module__.startswith("_pytest"))
    seen: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    capture = Capture()
    capture.filters = list(handler.filters)
    logging.getLogger().addHandler(capture)
    try:
        Client().get("/no-such-page/1234567890")  # django.request logs "Not Found: <path>"
    finally:
        logging.getLogger().removeHandler(capture)
    assert any("Not Found" in line for line in seen)
    assert not any("1234567890" in line for line in seen)


def test_a_task_id_is_not_taken_for_an_identity_card_number() -> None:
    line = "Task id=a7994412-a799-44d4-bbfe-f468787645a3 state=SUCCESSFUL"
    assert scrub(line) == line
    assert scrub("cnie AB123456 sent") == "cnie [CNIE] sent"


def test_a_task_id_with_ten_digits_in_a_row_is_left_whole() -> None:
    line = "Task id=9c0ca5f9-edb2-4b18-8bf0-1234567890ab state=SUCCESSFUL for 1234567890"
    assert scrub(line) == ("Task id=9c0ca5f9-edb2-4b18-8bf0-1234567890ab state=SUCCESSFUL for "
                           "[IDCS]")
