"""Postal letters: rendered as PDF by WeasyPrint and gathered into print batches.

A letter is queued like any notice (its HTML rendered in the household's language, Arabic right
to left with the Noto fonts, French and English left to right). `letters_print` takes up to
LETTER_BATCH_MAX queued letters (oldest first), renders each, writes their pages as ONE PDF under
OUTBOX_DIR/letters/, then in one short transaction records a PrintBatch (path, letters, pages,
SHA-256, size) and marks the letters sent with the batch — only if all of them are still queued,
so a letter is in exactly one recorded batch. A crash before that commit leaves an unrecorded
PDF on disk (never printed: only recorded batches are) and the letters queued for the next.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from sijill.notifications import conf
from sijill.notifications.models import Channel, Kind, Notification, PrintBatch, Status


def pdf_render(htmls: Iterable[str]) -> tuple[bytes, int]:
    """One PDF of every letter's pages, and its page count."""
    from weasyprint import HTML

    documents = [HTML(string=html, base_url=None).render() for html in htmls]
    if not documents:
        raise ValueError("no letters to render")
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf(), len(pages)


def letters_print(*, limit: int | None = None) -> PrintBatch | None:
    """Print one batch of queued letters; None when there is none.

    The PDF is rendered outside any transaction (seconds for hundreds of letters: no lock is
    held meanwhile), then one short transaction records the batch, if every letter in it is
    still queued; otherwise (another printer took some meanwhile) the PDF is discarded and the
    batch drawn again."""
    limit = limit or conf.get("LETTER_BATCH_MAX")
    for _attempt in range(3):
        letters = list(Notification.objects.filter(channel=Channel.LETTER, status=Status.QUEUED)
                       .order_by("id").values_list("id", "html", "kind", "household_id")[:limit])
        if not letters:
            return None
        pdf, pages = pdf_render(html for _id, html, _kind, _household in letters)
        directory = conf.get("OUTBOX_DIR") / "letters"
        directory.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        name = f"letters/{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.pdf"
        path = conf.get("OUTBOX_DIR") / name
        path.write_bytes(pdf)
        ids = [pk for pk, _html, _kind, _household in letters]
        with transaction.atomic():
            still = Notification.objects.filter(pk__in=ids, status=Status.QUEUED)
            if connection.features.has_select_for_update:
                still = still.select_for_update()
            if len(list(still.values_list("pk", flat=True))) != len(ids):
                path.unlink(missing_ok=True)
                continue
            batch = PrintBatch.objects.create(path=name, letters=len(ids), pages=pages,
                                              sha256=hashlib.sha256(pdf).hexdigest(),
                                              size_bytes=len(pdf))
            Notification.objects.filter(pk__in=ids).update(
                status=Status.SENT, batch=batch, sent_at=now, attempts=1, last_attempt_at=now,
                provider_message_id=f"batch-{batch.pk}")
            from sijill.notifications.services import household_mark_notified

            for household_id in sorted({h for _id, _html, kind, h in letters
                                        if kind == Kind.INDEX_NOTICE and h}):
                household_mark_notified(household_id=household_id)
        return batch
    return None


def batch_path(batch: PrintBatch) -> Path:
    return conf.get("OUTBOX_DIR") / batch.path
