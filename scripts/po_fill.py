"""Fill empty msgstr entries of a .po file from a JSON dictionary {msgid: msgstr}.

Developer helper: `python scripts/po_fill.py sijill/locale/fr/LC_MESSAGES/django.po fr.json`.
The .po files stay the source of truth; this only saves typing when many strings arrive at once.
"""

import json
import re
import sys


def unquote(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines)


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def fill(po_path: str, translations: dict[str, str]) -> int:
    out: list[str] = []
    with open(po_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = filled = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("msgid "):
            block = [line[6:]]
            i += 1
            while i < len(lines) and lines[i].startswith('"'):
                block.append(lines[i])
                i += 1
            msgid = unquote(block)
            out.append("msgid " + block[0])
            out.extend(block[1:])
            if i < len(lines) and lines[i].startswith("msgstr "):
                sblock = [lines[i][7:]]
                i += 1
                while i < len(lines) and lines[i].startswith('"'):
                    sblock.append(lines[i])
                    i += 1
                current = unquote(sblock)
                if msgid and not current and msgid in translations:
                    out.append("msgstr " + quote(translations[msgid]))
                    filled += 1
                else:
                    out.append("msgstr " + sblock[0])
                    out.extend(sblock[1:])
            continue
        out.append(re.sub(r'^"Language: \\n"$', line, line))
        i += 1
    text = "\n".join(out).replace("#, fuzzy\nmsgid \"\"", "msgid \"\"", 1)
    with open(po_path, "w", encoding="utf-8") as f:
        f.write(text)
    return filled


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as f:
        print(fill(sys.argv[1], json.load(f)))
