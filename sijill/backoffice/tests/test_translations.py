"""Every message of the back office is translated in Arabic, French and English, with the same
placeholders as its source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def entries(language: str) -> list[tuple[str, str, bool]]:
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    out = []
    for block in text.split("\n\n")[1:]:
        fuzzy = "#, fuzzy" in block
        lines = [x for x in block.split("\n") if not x.startswith("#")]
        current, values = None, {}
        for line in lines:
            found = re.match(r'^(msgid|msgstr) (".*")$', line)
            if found:
                current = found.group(1)
                values[current] = json.loads(found.group(2))
            elif line.startswith('"') and current:
                values[current] += json.loads(line)
        if values.get("msgid"):
            out.append((values["msgid"], values.get("msgstr", ""), fuzzy))
    return out


@pytest.mark.parametrize("language", ["ar", "fr", "en"])
def test_every_message_is_translated_with_its_placeholders(language):
    found = entries(language)
    assert len(found) > 250
    missing = [m for m, s, fuzzy in found if not s or fuzzy]
    assert not missing, missing
    wrong = [m for m, s, _ in found if set(PLACEHOLDER.findall(m)) != set(PLACEHOLDER.findall(s))]
    assert not wrong, wrong
