"""Reading a PDF in tests: its text layer (pdftotext), fonts (pdffonts), the glyphs behind each
character (the fonts' ToUnicode maps), one page as an image (pdftoppm)."""

from __future__ import annotations

import re
import subprocess
import zlib
from collections import defaultdict
from pathlib import Path


def text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def fonts(path: Path) -> list[dict[str, str]]:
    """pdffonts' table: name, type, embedded (yes/no), unicode map (yes/no)."""
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                         text=True).stdout.splitlines()[2:]
    rows = []
    for line in out:
        parts = line.split()
        # name type... encoding emb sub uni object ID
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def _streams(data: bytes) -> list[bytes]:
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        raw = match.group(1)
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def glyphs_per_character(path: Path) -> dict[str, set[tuple[int, str]]]:
    """Character → the glyphs (font map index, glyph id) drawn for it, from every ToUnicode
    CMap. Text shaped into contextual forms draws one letter with several glyphs (initial,
    medial, final, isolated); unshaped text draws each letter with one glyph."""
    found: dict[str, set[tuple[int, str]]] = defaultdict(set)
    cmaps = [s for s in _streams(path.read_bytes()) if b"begincmap" in s]
    for index, cmap in enumerate(cmaps):
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
            for glyph, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                chars = bytes.fromhex(uni.decode()).decode("utf-16-be")
                for char in chars:
                    found[char].add((index, glyph.decode().lower()))
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
            for lo, hi, uni in re.findall(
                    rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                start = int(uni, 16)
                for offset, glyph in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    found[chr(start + offset)].add((index, f"{glyph:04x}"))
    return found


def page_png(path: Path, target: Path, *, page: int = 1, dpi: int = 110) -> Path:
    """Render one page to PNG with pdftoppm; returns the PNG's path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                    "-singlefile", str(path), str(stem)], check=True)
    return stem.with_suffix(".png")
