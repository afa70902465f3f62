"""Disability and health coverage are encrypted at rest, with keys that can be rotated."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from sijill.declaration import vocab
from sijill.households.models import MemberDeclaration
from sijill.households.tests.factories import household_create
from sijill.security import fields
from sijill.security.fields import (
    CODES,
    DecryptionError,
    decrypt_codes,
    encrypt_codes,
)
from sijill.testing.factories import person_create

OLD_KEY = "old-field-key-0123456789abcdefghijklmnop"
NEW_KEY = "new-field-key-0123456789abcdefghijklmnop"


def _raw(column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM households_memberdeclaration ORDER BY id")
        return [r[0] for r in cursor.fetchall()]


def test_every_code_of_the_vocabularies_has_a_fixed_place_in_the_code_tables() -> None:
    # Append only: a stored value is the index of its code in these tables.
    assert CODES["disability"][:6] == ("none", "physical", "visual", "hearing", "mental",
                                       "multiple")
    assert CODES["health_coverage"][:7] == ("none", "amo_tadamon", "amo_salaried", "amo_public",
                                            "amo_self_employed", "private_insurance", "other")
    assert set(vocab.Disability) <= set(CODES["disability"])
    assert set(vocab.HealthCoverage) <= set(CODES["health_coverage"])


def test_equal_codes_encrypt_differently_and_decrypt_back() -> None:
    sealed = encrypt_codes("disability", ["none"] * 50 + ["mental"])
    assert sealed.n_unique() == 51  # no frequency leak
    assert "none" not in "".join(sealed.to_list())
    assert decrypt_codes("disability", sealed).to_list() == ["none"] * 50 + ["mental"]


def test_an_altered_or_swapped_value_is_refused() -> None:
    value = encrypt_codes("disability", ["physical"])[0]
    flipped = value[:-1] + ("0" if value[-1] != "0" else "1")
    with pytest.raises(DecryptionError):
        decrypt_codes("disability", pl.Series([flipped]))
    # A disability ciphertext pasted into the health coverage column.
    with pytest.raises(DecryptionError):
        decrypt_codes("health_coverage", pl.Series([value]))
    with pytest.raises(DecryptionError):
        decrypt_codes("disability", pl.Series(["not a ciphertext"]))


@pytest.mark.django_db
def test_the_database_holds_no_clear_value_and_the_orm_reads_it_back() -> None:
    head = person_create()
    household_create(members=[(head, "head")])
    assert all(len(v) == fields.WIDTH for v in _raw("disability") + _raw("health_coverage"))
    assert not set(_raw("disability")) & set(CODES["disability"])
    assert not set(_raw("health_coverage")) & set(CODES["health_coverage"])
    member = MemberDeclaration.objects.get()
    assert (member.disability, member.health_coverage) == ("none", "amo_tadamon")
    assert list(MemberDeclaration.objects.values_list("disability", flat=True)) == ["none"]


@pytest.mark.django_db
def test_filtering_on_an_encrypted_column_is_refused_loudly() -> None:
    with pytest.raises(FieldError):
        list(MemberDeclaration.objects.filter(disability="none"))


@pytest.mark.django_db
def test_rotation_reencrypts_every_row_and_everything_stays_readable(settings: Any) -> None:
    settings.SIJILL_FIELD_KEYS = [OLD_KEY]
    for _ in range(3):
        household_create(members=[(person_create(), "head")])
    old = _raw("disability")
    old_kid = fields.current_kid("disability")
    # New key first, the old one kept to read what is not re-encrypted yet.
    settings.SIJILL_FIELD_KEYS = [NEW_KEY, OLD_KEY]
    assert {m.disability for m in MemberDeclaration.objects.all()} == {"none"}
    call_command("rotate_field_keys", "--batch", "2", stdout=open("/dev/null", "w"))  # noqa: SIM115
    new = _raw("disability")
    assert all(v[:6] == fields.current_kid("disability") != old_kid for v in new)
    assert not set(old) & set(new)
    # The old key can go: everything is readable with the new one alone.
    settings.SIJILL_FIELD_KEYS = [NEW_KEY]
    assert [m.health_coverage for m in MemberDeclaration.objects.all()] == ["amo_tadamon"] * 3


@pytest.mark.django_db
def test_a_rotation_interrupted_resumes_and_a_finished_one_has_nothing_to_do(
        settings: Any) -> None:
    from sijill.security.rotation import reencrypt

    settings.SIJILL_FIELD_KEYS = [OLD_KEY]
    for _ in range(5):
        household_create(members=[(person_create(), "head")])
    settings.SIJILL_FIELD_KEYS = [NEW_KEY, OLD_KEY]

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(done: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        reencrypt(connection, batch=2, progress=stop_after_first_batch)
    kid = fields.current_kid("disability")
    assert sum(v.startswith(kid) for v in _raw("disability")) == 2  # the first batch committed
    assert reencrypt(connection, batch=2) == 3
    assert reencrypt(connection, batch=2) == 0


def test_production_refuses_to_start_without_field_keys() -> None:
    import subprocess
    import sys

    env = {"SIJILL_PROFILE": "production", "SECRET_KEY": "x" * 40, "DEBUG": "false",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", "import sijill.settings"], env=env,
                            capture_output=True, text=True, check=False,
                            cwd=str(__import__("django.conf").conf.settings.BASE_DIR))
    assert result.returncode != 0
    assert "SIJILL_FIELD_KEYS" in result.stderr
