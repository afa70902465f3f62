"""Pluggable senders, one per channel, chosen by settings (NOTIFICATIONS[...]_BACKEND).

A backend's `send(message)` returns the provider's message id, or raises TemporaryFailure (the
outbox retries later, with backoff) or PermanentFailure (the notice is marked failed). It is
called outside any database transaction, after the outbox row was marked "sending".

- FileBackend: one JSON line per message in OUTBOX_DIR/<channel>.jsonl (demo and tests; the
  line holds the clear text, one-time codes included: it plays the recipient's phone).
- ConsoleBackend: prints the message (development).
- HttpSmsGatewayBackend: POSTs to an SMS gateway with the notification's Idempotency-Key, retrying
  quickly a few times on a timeout or a 5xx before handing back to the outbox's slower backoff.
  The gateway delivers a key once, so a retried or crashed send never goes out twice.
- DjangoEmailBackend: Django's e-mail (settings.EMAIL_BACKEND), with a Message-ID derived from the
  idempotency key (a mail system can drop a duplicate).
Letters are not sent one by one: they are gathered into print batches (letters.py).
"""

from __future__ import annotations

import fcntl
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.utils import timezone
from django.utils.module_loading import import_string

from sijill.notifications import conf


class TemporaryFailure(Exception):
    """Worth retrying later (timeout, gateway down, 5xx, rate limited)."""


class PermanentFailure(Exception):
    """Retrying will not help (number refused, message rejected)."""


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    idempotency_key: str
    kind: str
    channel: str
    to: str
    name: str
    subject: str
    body: str
    reference: str
    language: str


class Backend:
    def send(self, message: OutgoingMessage) -> str:
        raise NotImplementedError

    def send_many(self, messages: Sequence[OutgoingMessage]) -> list[str | Exception]:
        """Send several messages; for each, in order, the provider's id or the exception its
        send raised (one message's failure does not stop the others). By default one `send`
        after the other."""
        results: list[str | Exception] = []
        for message in messages:
            try:
                results.append(self.send(message))
            except Exception as exc:  # handed back to the outbox, per message
                results.append(exc)
        return results


class FileBackend(Backend):
    """Appends one JSON line per message to OUTBOX_DIR/<channel>.jsonl (a batch: all its lines
    in one locked write)."""

    def _append(self, channel: str, lines: list[str]) -> None:
        directory = conf.get("OUTBOX_DIR")
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / f"{channel}.jsonl", "a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            try:
                out.write("".join(lines))
                out.flush()
            finally:
                fcntl.flock(out, fcntl.LOCK_UN)

    @staticmethod
    def _line(message: OutgoingMessage, at: str) -> str:
        return json.dumps({**vars(message), "at": at}, ensure_ascii=False) + "\n"

    def send(self, message: OutgoingMessage) -> str:
        self._append(message.channel, [self._line(message, timezone.now().isoformat())])
        return f"file-{message.idempotency_key}"

    def send_many(self, messages: Sequence[OutgoingMessage]) -> list[str | Exception]:
        at = timezone.now().isoformat()
        by_channel: dict[str, list[str]] = {}
        for message in messages:
            by_channel.setdefault(message.channel, []).append(self._line(message, at))
        for channel, lines in by_channel.items():
            self._append(channel, lines)
        return [f"file-{m.idempotency_key}" for m in messages]


class ConsoleBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        print(f"[{message.channel} to {message.to}] {message.subject}\n{message.body}\n",
              flush=True)
        return f"console-{message.idempotency_key}"


class HttpSmsGatewayBackend(Backend):
    """An HTTP SMS gateway: POST {url}/messages {"to", "body", "reference"} with
    `Idempotency-Key`; answers 2xx {"id": ...}. A repeated key is not delivered twice and gets
    the first id back.

    Timeouts, refused connections and 5xx/429 answers are retried here SMS_GATEWAY_RETRIES times
    (0.2 s, 0.4 s, ...) then raised as TemporaryFailure; other 4xx are a PermanentFailure.
    """

    def __init__(self, url: str | None = None, token: str | None = None,
                 timeout: float | None = None, retries: int | None = None):
        self.url = (url if url is not None else conf.get("SMS_GATEWAY_URL")).rstrip("/")
        self.token = token if token is not None else conf.get("SMS_GATEWAY_TOKEN")
        self.timeout = float(timeout if timeout is not None else conf.get("SMS_GATEWAY_TIMEOUT"))
        self.retries = int(retries if retries is not None else conf.get("SMS_GATEWAY_RETRIES"))

    def _post(self, message: OutgoingMessage) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"to": message.to, "body": message.body,
                           "reference": message.reference}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": message.idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(f"{self.url}/messages", data=body, headers=headers,  # noqa: S310
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"{}")
            except ValueError:
                payload = {}
            return exc.code, payload

    def send(self, message: OutgoingMessage) -> str:
        if not self.url.startswith(("http://", "https://")):
            raise PermanentFailure("SMS_GATEWAY_URL is not an http(s) URL")
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.2 * 2 ** (attempt - 1))
            try:
                status, payload = self._post(message)
            except TimeoutError:
                problem = "timeout"
                continue
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                problem = f"unreachable: {type(exc).__name__}"
                continue
            except ValueError:
                problem = "answer is not JSON"
                continue
            if 200 <= status < 300:
                return str(payload.get("id", ""))
            if status == 429 or status >= 500:
                problem = f"HTTP {status}"
                continue
            raise PermanentFailure(f"HTTP {status}: {str(payload.get('error', ''))[:200]}")
        raise TemporaryFailure(problem)

    def send_many(self, messages: Sequence[OutgoingMessage]) -> list[str | Exception]:
        """One request per message, each with its own Idempotency-Key, a few in flight at once
        (SMS_GATEWAY_CONCURRENCY threads): the gateway's protocol is per message."""
        workers = max(1, int(conf.get("SMS_GATEWAY_CONCURRENCY")))
        if workers == 1 or len(messages) <= 1:
            return super().send_many(messages)

        def one(message: OutgoingMessage) -> str | Exception:
            try:
                return self.send(message)
            except Exception as exc:  # handed back to the outbox, per message
                return exc

        with ThreadPoolExecutor(max_workers=min(workers, len(messages))) as pool:
            return list(pool.map(one, messages))


class DjangoEmailBackend(Backend):
    def send(self, message: OutgoingMessage) -> str:
        from django.conf import settings
        from django.core.mail import EmailMessage

        message_id = f"<{message.idempotency_key}@sijill>"
        email = EmailMessage(subject=message.subject, body=message.body,
                             from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to],
                             headers={"Message-ID": message_id,
                                      "X-Sijill-Reference": message.reference})
        try:
            email.send(fail_silently=False)
        except (OSError, ConnectionError) as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
        return message_id


@cache
def _load(path: str) -> Backend:
    return import_string(path)()


def backend_for(channel: str) -> Backend:
    name = {"sms": "SMS_BACKEND", "email": "EMAIL_BACKEND"}[channel]
    return _load(conf.get(name))


def reset() -> None:
    """Forget the loaded backends (tests that change the settings)."""
    _load.cache_clear()
