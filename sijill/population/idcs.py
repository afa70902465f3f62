"""The IDCS (identifiant numérique civil et social): 10 digits, random, Verhoeff-checked.

Nine cryptographically random digits (the first never 0) and a Verhoeff check digit, which
catches every single-digit error and every adjacent transposition. Numbers that are hard to read
out or copy are rejected, in the spirit of MOSIP's UIN filters. The number encodes nothing about
the person.
"""

from __future__ import annotations

import os
import re
import secrets

import numpy as np
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


_D = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
               [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
               [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
               [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
               [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]], dtype=np.int8)
# Permutation rows: p(i) = p(1) applied i times.
_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_P = np.empty((8, 10), dtype=np.int8)
_P[0] = np.arange(10)
for _i in range(1, 8):
    _P[_i] = np.array(_P1)[_P[_i - 1]]
_POWERS = 10 ** np.arange(LENGTH - 1, -1, -1, dtype=np.int64)
_INV = np.array([0, 4, 3, 2, 1, 5, 6, 7, 8, 9], dtype=np.int8)


def _random_digits(rows: int, cols: int) -> np.ndarray:
    """Uniform digits from the OS's cryptographic source (bytes >= 250 are redrawn)."""
    need = rows * cols
    out = np.empty(0, dtype=np.int8)
    while out.size < need:
        raw = np.frombuffer(os.urandom(int((need - out.size) * 1.05) + 16), dtype=np.uint8)
        out = np.concatenate([out, (raw[raw < 250] % 10).astype(np.int8)])
    return out[:need].reshape(rows, cols)


def _random_first_digits(rows: int) -> np.ndarray:
    """Uniform digits 1-9 from the OS's cryptographic source (bytes >= 252 are redrawn)."""
    out = np.empty(0, dtype=np.int8)
    while out.size < rows:
        raw = np.frombuffer(os.urandom(int((rows - out.size) * 1.05) + 16), dtype=np.uint8)
        out = np.concatenate([out, (raw[raw < 252] % 9 + 1).astype(np.int8)])
    return out[:rows]


def _check_digits(body: np.ndarray) -> np.ndarray:
    """The Verhoeff check digit of each row of 9 digits: inv[fold d(c, p(i+1 mod 8, digit))]
    from the right."""
    check = np.zeros(body.shape[0], dtype=np.int8)
    for i in range(9):
        check = _D[check, _P[(i + 1) % 8, body[:, 8 - i]]]
    return _INV[check]


def checksums_ok(digits: np.ndarray) -> np.ndarray:
    """Whether each row of LENGTH digits passes the Verhoeff check (`is_valid`, vectorised)."""
    check = np.zeros(digits.shape[0], dtype=np.int8)
    for i in range(digits.shape[1]):  # fold from the rightmost digit
        check = _D[check, _P[i % 8, digits[:, -1 - i]]]
    return check == 0


def generate_many(count: int) -> list[str]:
    """`count` readable IDCS at once (vectorised; same rules as `generate`, maybe repeats)."""
    result: list[str] = []
    while len(result) < count:
        n = int((count - len(result)) * 1.4) + 8
        body = _random_digits(n, 9)
        body[:, 0] = _random_first_digits(n)
        digits = np.concatenate([body, _check_digits(body)[:, None]], axis=1)
        first, second, third = digits[:, :-2], digits[:, 1:-1], digits[:, 2:]
        step1, step2 = second - first, third - second
        bad_run = ((first == second) & (second == third)) | (
            (step1 == step2) & (np.abs(step1) == 1))
        bad = bad_run.any(axis=1) | (digits == digits[:, ::-1]).all(axis=1)
        for size in range(2, 6):  # a block repeated at once: 4545, 123123
            for start in range(0, LENGTH - 2 * size + 1):
                left = digits[:, start:start + size]
                right = digits[:, start + size:start + 2 * size]
                bad |= (left == right).all(axis=1)
        numbers = (digits[~bad].astype(np.int64) * _POWERS).sum(axis=1)
        result.extend(numbers.astype("U10").tolist())
    return result[:count]


def allocate_batch(count: int, taken: object, *, draw: object = None) -> list[str]:
    """`count` distinct new numbers, none of which `taken(numbers) -> set` reports as in use.

    The number space holds about 5e8 readable IDCS, so at national scale a few percent of
    draws collide with an existing person and are simply drawn again.
    """
    chosen: set[str] = set()
    while len(chosen) < count:
        wanted = count - len(chosen)
        if draw is None:
            fresh = set(generate_many(wanted)) - chosen
        else:
            fresh = {generate(draw) for _ in range(wanted)} - chosen
        fresh -= taken(sorted(fresh))  # type: ignore[operator]
        chosen |= fresh
    return sorted(chosen)
