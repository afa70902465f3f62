"""`manage.py import_households` on a file that cannot be read at all: one clear line, no
traceback, nothing imported."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from sijill.households.models import Household

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("name", "content"), [
    ("empty.csv", b""),
    ("latin1.csv", "household_key,commune\nH1,Kénitra\n".encode("latin-1")),
    ("ragged.csv", b'household_key,commune\nH1,"04.281.01.01,x\nH2\n'),
    ("corrupt.parquet", b"PAR1 this is not a parquet file"),
])
def test_a_file_that_cannot_be_read_is_one_line_and_nothing_is_imported(tmp_path, name,
                                                                         content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        call_command("import_households", str(path))
    message = str(error.value)
    assert name in message and "nothing imported" in message
    assert "\n" not in message
    assert not Household.objects.exists()
