"""Name normalisation for duplicate search (pure Python).

Names are STORED as written (`arabic_name`, `latin_name`: only Unicode composition, tatweel and
spacing tidied): ta marbuta, alef maqsura and hamza are part of a person's legal name. The
folded forms below exist only in the matching keys and comparisons.

Arabic: diacritics and tatweel removed, alef and hamza forms unified, ta marbuta → ha, alef
maqsura → ya. Latin: accents and case removed, Moroccan transliteration variants folded to a
consonant skeleton (Mohammed / Mohamed / Mhamed / Mouhamad → "mhmd"), the article (El / Al /
assimilated "Ett-", "Ess-") dropped. Keys are blocking keys: candidates sharing one are then
scored finely (see matching.py).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_AR_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_AR_MAP = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ي", "ة": "ه", "ى": "ي",
    "ک": "ك", "ی": "ي", "ڭ": "ك", "گ": "ك", "پ": "ب", "ڤ": "ف",
})
_AR_KEEP = re.compile("[^\u0621-\u064a]")
ARABIC_NAME = re.compile(r"^[\u0621-\u065f\u0670\u0640\u06a4\u06a9\u06af\u06ad\u06cc\s'\-]+$")
LATIN_NAME = re.compile(r"^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0152\u0153' \-]+$")


def arabic_name(text: str) -> str:
    """An Arabic name as the register keeps it: as written, composed (NFC), without tatweel
    (a decorative elongation), single spaces. Letters are never folded."""
    return " ".join(unicodedata.normalize("NFC", text).replace("\u0640", "").split())


@lru_cache(maxsize=1 << 16)
def arabic(text: str) -> str:
    """Canonical Arabic spelling: no diacritics, unified letters, single spaces."""
    text = _AR_DIACRITICS.sub("", text).translate(_AR_MAP)
    return " ".join(_AR_KEEP.sub(" ", text).split())


@lru_cache(maxsize=1 << 16)
def arabic_key(text: str) -> str:
    """Blocking key: canonical spelling without spaces or the leading article ال."""
    joined = arabic(text).replace(" ", "")
    if joined.startswith("ال") and len(joined) >= 5:
        joined = joined[2:]
    return joined


@lru_cache(maxsize=1 << 16)
def latin(text: str) -> str:
    """Lower-case ASCII letters and single spaces (accents and punctuation removed)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe"))
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z]+", " ", ascii_only).split())


_FOLDS = [
    ("sch", "x"), ("tch", "x"), ("ch", "x"), ("sh", "x"), ("dj", "j"), ("ph", "f"),
    ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("ck", "k"), ("q", "k"),
    ("ou", "u"), ("oo", "u"), ("w", "u"), ("y", "i"), ("z", "z"),
]
_SUN_ASSIMILATED = re.compile(r"^e([tdsznrlx])\1")


@lru_cache(maxsize=1 << 16)
def latin_key(text: str) -> str:
    """Consonant skeleton of a Latin transliteration, robust to Moroccan spelling variants."""
    words = latin(text).split()
    if len(words) > 1 and words[0] in {"el", "al"}:
        words = words[1:]
    joined = "".join(words)
    if joined[:2] in {"el", "al"} and len(joined) >= 7:
        joined = joined[2:]
    joined = _SUN_ASSIMILATED.sub(r"\1", joined)
    for old, new in _FOLDS:
        joined = joined.replace(old, new)
    joined = re.sub(r"c(?=[eiy])", "s", joined).replace("c", "k")
    if not joined:
        return ""
    head, tail = joined[0], joined[1:]
    if head in "aeiou":
        head = "a"
    tail = re.sub(r"[aeiou]", "", tail)
    return re.sub(r"(.)\1+", r"\1", head + tail)
