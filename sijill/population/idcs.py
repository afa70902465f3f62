"""The IDCS (identifiant numérique civil et social): 10 digits, random, Verhoeff-checked.

Nine cryptographically random digits (the first never 0) and a Verhoeff check digit, which
catches every single-digit error and every adjacent transposition. Numbers that are hard to read
out or copy are rejected, in the spirit of MOSIP's UIN filters. The number encodes nothing about
the person.
"""

from __future__ import annotations

import re
import secrets

from stdnum import verhoeff

LENGTH = 10
_DIGITS = re.compile(r"^[0-9]{10}$")
_REPEATED_BLOCK = re.compile(r"(\d{2,5})\1")


def is_readable(number: str) -> bool:
    """False for numbers that are easy to misread, misdial or guess."""
    for i in range(len(number) - 2):
        a, b, c = (int(d) for d in number[i:i + 3])
        if a == b == c:  # 3+ repeated digits: 777
            return False
        if b - a == c - b and abs(b - a) == 1:  # 3+ sequential digits: 345, 543
            return False
    if _REPEATED_BLOCK.search(number):  # a block repeated at once: 4545, 123123
        return False
    return number != number[::-1]  # palindrome


def generate(randbelow: object = secrets.randbelow) -> str:
    """Draw IDCS candidates until one passes the filters (about 3 in 4 do)."""
    draw = randbelow  # injectable for property tests
    while True:
        body = str(draw(9) + 1) + "".join(str(draw(10)) for _ in range(8))  # type: ignore[operator]
        number = body + verhoeff.calc_check_digit(body)
        if is_readable(number):
            return number


def is_valid(number: str) -> bool:
    """Well-formed: 10 digits, not starting with 0, with a correct check digit."""
    return bool(_DIGITS.match(number)) and number[0] != "0" and verhoeff.is_valid(number)


def problem(value: str) -> str | None:
    """Why `value` is not a valid IDCS, as an error code, or None."""
    if not _DIGITS.match(value):
        return "idcs_format"
    if value[0] == "0":
        return "idcs_format"
    if not verhoeff.is_valid(value):
        return "idcs_checksum"
    return None


def allocate_batch(count: int, taken: object, *, draw: object = None) -> list[str]:
    """`count` distinct new numbers, none of which `taken(numbers) -> set` reports as in use.

    The number space holds about 5e8 readable IDCS, so at national scale a few percent of
    draws collide with an existing person and are simply drawn again.
    """
    gen = (lambda: generate(draw)) if draw is not None else generate  # type: ignore[misc]
    chosen: set[str] = set()
    while len(chosen) < count:
        wanted = count - len(chosen)
        fresh = {gen() for _ in range(wanted)} - chosen
        fresh -= taken(sorted(fresh))  # type: ignore[operator]
        chosen |= fresh
    return sorted(chosen)
