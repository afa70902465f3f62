"""Postal letters: PDF by WeasyPrint, Arabic joined and right to left, French; print batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from sijill.households.tests.factories import household_create
from sijill.notifications.letters import batch_path, letters_print
from sijill.notifications.models import Notification, PrintBatch
from sijill.notifications.schedules import print_letters
from sijill.notifications.services import notice_queue
from sijill.notifications.tests import pdf
from sijill.testing.factories import person_create

pytestmark = pytest.mark.django_db

ARTEFACTS = Path(settings.VAR_DIR) / "artefacts"
ARABIC_LETTERS = set("ابتثجحخدذرزسشصضطظعغفقكلمنهوي")


def _household(language: str, **names: str):
    person = person_create(phone="", **names)
    household = household_create(members=[(person, "head")])
    household.notice_language = language
    household.save(update_fields=["notice_language"])
    return household


def _letter(household, key: str = "letter") -> Notification:
    return notice_queue(kind="index_notice", household=household, key=key,
                        context={"index": "9.2741", "review_until": "28/01/2027"})


def test_a_household_without_a_phone_gets_its_index_notice_as_a_letter_in_a_print_batch(
        django_capture_on_commit_callbacks):
    household = _household("ar")
    with django_capture_on_commit_callbacks(execute=True):
        notice = _letter(household)
    notice.refresh_from_db()
    assert (notice.channel, notice.status) == ("letter", "queued")
    print_letters()  # the periodic job
    notice.refresh_from_db()
    assert (notice.channel, notice.status) == ("letter", "sent")
    batch = notice.batch
    assert batch.letters == 1 and batch.pages == 1
    assert batch_path(batch).read_bytes()[:5] == b"%PDF-"


def test_an_arabic_letter_has_joined_right_to_left_arabic_text_in_embedded_arabic_fonts(
        django_capture_on_commit_callbacks):
    household = _household("ar", first_name_ar="محمد", family_name_ar="العلوي")
    with django_capture_on_commit_callbacks(execute=False):
        _letter(household)
    batch = letters_print()
    path = batch_path(batch)

    # The text layer holds the Arabic words in reading order, and the reference.
    layer = pdf.text(path)
    for words in ("السجل الاجتماعي الموحد", "المؤشر الاجتماعي والاقتصادي", "محمد العلوي",
                  household.reference, "9,2741"):  # the Arabic locale's decimal comma
        assert words in layer

    # Arabic fonts are embedded, with a Unicode map.
    arabic = [f for f in pdf.fonts(path) if "Arabic" in f["name"]]
    assert arabic and all(f["emb"] == "yes" and f["uni"] == "yes" for f in arabic)

    # Joined: letters are drawn with their contextual forms, so one letter maps from several
    # glyphs (an unshaped text would draw each letter with its one isolated glyph).
    glyphs = pdf.glyphs_per_character(path)
    shaped = {ch for ch in ARABIC_LETTERS if len(glyphs.get(ch, ())) >= 2}
    assert {"ل", "م", "ع"} <= shaped, shaped

    # Right to left: the page's HTML says so (and the rendered page is kept for a human to see).
    assert 'dir="rtl"' in Notification.objects.get().html
    png = pdf.page_png(path, ARTEFACTS / "notice-letter-ar.png")
    assert png.stat().st_size > 10_000


def test_a_french_letter_is_in_french_with_its_accents(django_capture_on_commit_callbacks):
    household = _household("fr", first_name_latin="Fatima", family_name_latin="Benali")
    with django_capture_on_commit_callbacks(execute=False):
        _letter(household)
    path = batch_path(letters_print())
    layer = " ".join(pdf.text(path).split())
    for words in ("Registre social unifié", "Indice socio-économique de votre ménage",
                  "Fatima Benali", household.reference, "réexamen", "9,2741"):
        assert words in layer
    assert 'dir="ltr"' in Notification.objects.get().html
    assert all(f["emb"] == "yes" for f in pdf.fonts(path))
    pdf.page_png(path, ARTEFACTS / "notice-letter-fr.png")


def test_queued_letters_are_gathered_into_one_pdf_per_batch(
        settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "LETTER_BATCH_MAX": 3}
    with django_capture_on_commit_callbacks(execute=False):
        for i, language in enumerate(("ar", "fr", "en", "ar", "fr")):
            _letter(_household(language), key=f"l{i}")
    first, second = letters_print(), letters_print()
    assert letters_print() is None
    assert (first.letters, second.letters) == (3, 2)
    assert (first.pages, second.pages) == (3, 2)
    assert Notification.objects.filter(status="sent", batch=first).count() == 3
    assert PrintBatch.objects.count() == 2
    assert len(set(pdf.text(batch_path(first)).split("\f"))) >= 3  # three pages of text


def test_a_letter_taken_by_another_printer_meanwhile_is_in_one_batch_only(
        monkeypatch, django_capture_on_commit_callbacks):
    from sijill.notifications import letters

    with django_capture_on_commit_callbacks(execute=False):
        for i in range(3):
            _letter(_household("fr"), key=f"r{i}")
    real = letters.pdf_render
    calls = []

    def render_while_another_printer_takes_one(htmls):
        result = real(htmls)
        if not calls:  # the other printer records the first letter while we render
            other = PrintBatch.objects.create(path="letters/other.pdf", letters=1, pages=1,
                                              sha256="0" * 64, size_bytes=1)
            first = Notification.objects.order_by("id").first()
            Notification.objects.filter(pk=first.pk).update(status="sent", batch=other,
                                                            sent_at=first.created_at)
        calls.append(1)
        return result

    monkeypatch.setattr(letters, "pdf_render", render_while_another_printer_takes_one)
    batch = letters_print()
    assert len(calls) == 2  # the first PDF was discarded, the batch drawn again
    assert batch.letters == 2
    assert sorted(Notification.objects.values_list("batch__letters", flat=True)) == [1, 2, 2]
    assert len(list(batch_path(batch).parent.glob("*.pdf"))) == 1  # only the recorded one
