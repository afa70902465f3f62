import random
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sijill.population import idcs
from sijill.population.services import idcs_allocate_many


def _seeded_idcs(seed: int) -> str:
    rng = random.Random(seed)
    return idcs.generate(rng.randrange)


valid_numbers = st.integers(min_value=0, max_value=2**63).map(_seeded_idcs)


@given(valid_numbers)
def test_every_allocated_idcs_is_valid_and_readable(number):
    assert len(number) == 10 and number[0] != "0"
    assert idcs.is_valid(number)
    assert idcs.is_readable(number)


@given(valid_numbers, st.integers(0, 9), st.integers(1, 9))
def test_the_check_digit_catches_every_single_digit_error(number, position, delta):
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    assert not idcs.is_valid("".join(digits))


@given(valid_numbers, st.integers(0, 8))
def test_the_check_digit_catches_every_adjacent_transposition(number, position):
    digits = list(number)
    if digits[position] == digits[position + 1]:
        return
    digits[position], digits[position + 1] = digits[position + 1], digits[position]
    assert not idcs.is_valid("".join(digits))


@settings(max_examples=50)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_hard_to_read_numbers_are_rejected(number):
    has_run = any(number[i] == number[i + 1] == number[i + 2] for i in range(8))
    if has_run:
        assert not idcs.is_readable(number)


def test_sequences_repeats_blocks_and_palindromes_are_filtered():
    assert not idcs.is_readable("4123478561")  # 123 sequential
    assert not idcs.is_readable("4987261530")  # 987 descending
    assert not idcs.is_readable("4777261530")  # 777 repeated
    assert not idcs.is_readable("4545261930")  # 4545 repeated block
    assert not idcs.is_readable("4916006194")  # palindrome
    assert idcs.is_readable("4916026195")


@pytest.mark.django_db
def test_two_hundred_thousand_allocations_are_unique_and_pass_the_filters(person_factory):
    existing = person_factory().idcs
    numbers = idcs_allocate_many(count=200_000)
    assert len(numbers) == len(set(numbers)) == 200_000
    assert existing not in numbers
    assert all(idcs.is_valid(n) and idcs.is_readable(n) for n in numbers)


def test_a_batch_allocation_draws_again_when_a_number_is_taken():
    first = idcs.allocate_batch(50, lambda numbers: set())
    rng = random.Random(7)
    seen: list[list[str]] = []

    def taken(numbers):
        seen.append(numbers)
        return set(numbers[:3]) if len(seen) == 1 else set()

    again = idcs.allocate_batch(50, taken, draw=lambda n: rng.randrange(n))
    assert len(first) == len(set(first)) == 50
    assert len(again) == 50 and not set(seen[0][:3]) & set(again)


def test_a_malformed_or_mistyped_idcs_says_which():
    good = idcs.generate()
    assert idcs.problem(good) is None
    assert idcs.problem("12345") == "idcs_format"
    assert idcs.problem("0" + good[1:]) == "idcs_format"
    wrong_check = good[:9] + str((int(good[9]) + 1) % 10)
    assert idcs.problem(wrong_check) == "idcs_checksum"


def test_allocation_uses_the_operating_system_randomness_by_default():
    assert idcs.generate.__defaults__ == (secrets.randbelow,)


def test_the_vectorised_allocator_follows_exactly_the_same_rules():
    numbers = idcs.generate_many(50_000)
    assert len(numbers) == 50_000
    assert all(idcs.is_valid(n) and idcs.is_readable(n) for n in numbers)
    assert {n[0] for n in numbers} == set("123456789")
    assert {n[-1] for n in numbers} == set("0123456789")


@given(st.lists(st.integers(0, 9), min_size=9, max_size=9))
def test_the_vectorised_check_digit_is_verhoeffs(body):
    import numpy as np
    from stdnum import verhoeff

    check = idcs._check_digits(np.array([body], dtype=np.int8))
    assert str(check[0]) == verhoeff.calc_check_digit("".join(map(str, body)))
    number = np.array([[*body, int(check[0])]], dtype=np.int8)
    assert idcs.checksums_ok(number)[0]


def test_the_vectorised_checksum_refuses_a_mistyped_digit():
    import numpy as np

    good = idcs.generate_many(200)
    digits = np.array([[int(c) for c in n] for n in good], dtype=np.int8)
    assert idcs.checksums_ok(digits).all()
    digits[:, 4] = (digits[:, 4] + 1) % 10  # Verhoeff catches every single-digit error
    assert not idcs.checksums_ok(digits).any()
