"""Rendering of notices in the recipient's language (ar, fr, en), from templates.

Each kind has up to three templates under templates/notifications/<kind>/:
    sms.txt       the SMS text (kept short: one or two SMS segments)
    email.txt     the e-mail body (its subject comes from SUBJECTS)
    letter.html   the letter's content, inside letter_base.html (A4, printed by WeasyPrint)
Every template receives the caller's context plus `reference` (the household's reference number),
`recipient_name`, `address`, `today` and `language`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import select_template
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sijill.notifications.models import Channel, Kind

SUBJECTS: dict[str, Promise] = {
    Kind.INDEX_NOTICE: _("Your household's socio-economic index"),
    Kind.REVIEW_OUTCOME: _("The outcome of your score review"),
    Kind.COMPLAINT_ANSWER: _("The answer to your complaint"),
    Kind.ELIGIBILITY_CHANGE: _("A change in your eligibility for a program"),
    Kind.ONE_TIME_CODE: _("Your sign-in code"),
    Kind.GENERIC: _("A message from the social registry"),
}

LANGUAGES = ("ar", "fr", "en")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str  # the text (SMS, e-mail), or the letter's plain text summary
    html: str  # the letter (empty for SMS and e-mail)


def _lookup(kind: str, *names: str) -> Any:
    """The first template found: the kind's own, in the order given, then the generic ones."""
    return select_template([f"notifications/{k}/{n}" for k in (kind, "generic") for n in names])


def render(*, kind: str, channel: str, language: str, context: dict[str, Any],
           templates: dict[Any, Any] | None = None) -> Rendered:
    """Render one notice in one language (the templates' {% translate %} strings follow it).
    `templates`: a dict the caller keeps for a batch, so each template is looked up once."""
    if templates is not None:
        def _template(kind: str, *names: str) -> Any:
            found = templates.get((kind, names))
            if found is None:
                found = templates[(kind, names)] = _lookup(kind, *names)
            return found
    else:
        _template = _lookup
    with translation.override(language):
        ctx = {"today": timezone.localdate(), "language": language,
               "direction": "rtl" if language == "ar" else "ltr", **context}
        subject = str(SUBJECTS.get(kind, SUBJECTS[Kind.GENERIC]))
        ctx["subject"] = subject
        if channel == Channel.LETTER:
            html = _template(kind, "letter.html").render(ctx)
            return Rendered(subject=subject, body=_template(kind, "sms.txt").render(ctx).strip(),
                            html=html)
        names = ("email.txt", "sms.txt") if channel == Channel.EMAIL else ("sms.txt",)
        return Rendered(subject=subject, body=_template(kind, *names).render(ctx).strip(),
                        html="")
