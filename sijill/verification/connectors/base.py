"""What every partner connector is: what it is asked, what it confirms, how it reads answers.

A connector is one class (subclass `Connector`, decorate with `@register`): its `code`, the
declaration fields it can confirm (`household_fields`, `member_fields`), which members it is asked
about and with which identifiers (`question`), and how its answer becomes findings (`findings`).
The answer of every partner is a JSON object holding a list of records under `records_key`, each
naming its person in `person_key` (an IDCS); the daily batch files of a partner hold the same
records as rows, so one connector reads both channels.

Transport is plain HTTP: `POST <PARTNER_URL>/<code>/query` with the question as JSON. Anything
but a 200 with a well-formed body is a partner error (`PartnerError`, `MalformedAnswer`): it is
recorded as evidence of the attempt and retried; it never crashes the verification.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from django.utils.functional import Promise

from sijill.declaration.model import Declaration


class PartnerError(Exception):
    """The partner did not give a usable answer (timeout, refused, 5xx, malformed)."""


class MalformedAnswer(PartnerError):
    pass


@dataclass(frozen=True)
class Member:
    idcs: str
    cnie: str
    age: int
    sex: str
    relationship: str


@dataclass(frozen=True)
class Subject:
    """What the registry knows of a household when it asks partners about it."""

    reference: str
    commune: str
    declaration: Declaration
    members: tuple[Member, ...]

    @property
    def adults(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.age >= 18)

    @property
    def idcs(self) -> frozenset[str]:
        return frozenset(m.idcs for m in self.members)


@dataclass
class Findings:
    """What a partner's answer establishes. `household` and `members` (IDCS → field) are
    verified values of declaration fields; `deaths` (IDCS, date) come from civil status;
    `notes` (field, IDCS, value) are differences with no declared field to replace (a birth not
    declared): they become discrepancies only."""

    household: dict[str, Any] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    deaths: list[tuple[str, date]] = field(default_factory=list)
    notes: list[tuple[str, str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    ok: bool
    answer: dict[str, Any]
    error: str
    elapsed_ms: int


class Connector:
    code: ClassVar[str]
    name: ClassVar[str | Promise]
    asked_by: ClassVar[str]  # documentation: the identifiers sent
    household_fields: ClassVar[tuple[str, ...]] = ()
    member_fields: ClassVar[tuple[str, ...]] = ()
    records_key: ClassVar[str] = "records"
    person_key: ClassVar[str] = "idcs"
    #: record fields that must be present and their types (checked before `findings`)
    record_types: ClassVar[dict[str, type | tuple[type, ...]]] = {}

    # -- asking ------------------------------------------------------------------------------

    def asked(self, subject: Subject) -> Iterable[Member]:
        """The members this partner is asked about (default: every member)."""
        return subject.members

    def question(self, subject: Subject) -> dict[str, Any]:
        return {"partner": self.code, "household": subject.reference,
                "persons": [{"idcs": m.idcs, "cnie": m.cnie} for m in self.asked(subject)]}

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field this partner confirms (member fields as members.<field>)."""
        return (*self.household_fields, *(f"members.{f}" for f in self.member_fields))

    # -- reading -----------------------------------------------------------------------------

    def records(self, answer: Any) -> list[dict[str, Any]]:
        """The records of an answer, shape-checked (else MalformedAnswer)."""
        if not isinstance(answer, dict) or not isinstance(answer.get(self.records_key), list):
            raise MalformedAnswer(f"no list {self.records_key!r} in the answer")
        out = []
        for i, record in enumerate(answer[self.records_key]):
            if not isinstance(record, dict) or not isinstance(record.get(self.person_key), str):
                raise MalformedAnswer(f"record {i} has no {self.person_key!r}")
            for name, kind in self.record_types.items():
                value = record.get(name)
                if value is not None and not isinstance(value, kind):
                    raise MalformedAnswer(f"record {i}: {name!r} is not {kind}")
            out.append(record)
        return out

    def parse(self, answer: Any, subject: Subject) -> Findings:
        records = [r for r in self.records(answer) if r[self.person_key] in subject.idcs]
        try:
            return self.findings(records, subject)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedAnswer(f"{type(exc).__name__}: {exc}") from exc

    def findings(self, records: list[dict[str, Any]], subject: Subject) -> Findings:
        raise NotImplementedError

    # -- transport ---------------------------------------------------------------------------

    def call(self, url: str, question: dict[str, Any], *, timeout: float) -> Reply:
        """POST the question; never raises: a failure is a Reply with ok=False."""
        body = json.dumps(question).encode()
        request = urllib.request.Request(  # noqa: S310 (the configured partner URL)
            f"{url}/{self.code}/query", data=body, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        started = time.monotonic()
        error = ""
        answer: dict[str, Any] = {}
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                raw = response.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                error = "malformed answer: not JSON"
            else:
                if isinstance(parsed, dict):
                    answer = parsed
                else:
                    error = "malformed answer: not an object"
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
        except TimeoutError:
            error = "timeout"
        except urllib.error.URLError as exc:
            reason = exc.reason
            error = "timeout" if isinstance(reason, TimeoutError | socket.timeout) else \
                f"unreachable: {type(reason).__name__}"
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}"
        elapsed = int((time.monotonic() - started) * 1000)
        return Reply(ok=not error, answer=answer, error=error, elapsed_ms=elapsed)


CONNECTORS: dict[str, Connector] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Add a connector (a class decorator): adding a partner is adding one class."""
    if cls.code in CONNECTORS:
        raise ValueError(f"two connectors for partner {cls.code!r}")
    CONNECTORS[cls.code] = cls()
    return cls
