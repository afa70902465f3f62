import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from sijill.core.env import Env


def _start(**env):
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
         "'sijill.settings'; django.setup()"],
        env={**os.environ, **env}, capture_output=True, text=True, check=False)


def test_the_production_profile_refuses_the_default_secret_key():
    result = _start(SIJILL_PROFILE="production", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_production_profile_refuses_debug():
    result = _start(SIJILL_PROFILE="production", DEBUG="true", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_the_production_profile_starts_when_configured():
    result = _start(SIJILL_PROFILE="production", DEBUG="false", SECRET_KEY="k" * 50,
                    ALLOWED_HOSTS="rsu.example.ma", SIJILL_FIELD_KEYS="f" * 40)
    assert result.returncode == 0, result.stderr


def test_the_production_profile_refuses_to_start_without_field_encryption_keys():
    result = _start(SIJILL_PROFILE="production", DEBUG="false", SECRET_KEY="k" * 50,
                    ALLOWED_HOSTS="rsu.example.ma")
    assert result.returncode != 0
    assert "SIJILL_FIELD_KEYS" in result.stderr


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "maybe"), ("PORT", "eighty"),
                                             ("SIJILL_PROFILE", "staging")])
def test_a_value_that_does_not_parse_stops_the_start_naming_the_variable(name, value):
    result = _start(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_strict_parsers():
    env = Env({"A": "yes", "B": "0", "N": "12", "L": "a,b", "E": " "})
    assert env.bool("A", False) is True and env.bool("B", True) is False
    assert env.int("N", 0, maximum=20) == 12
    assert env.list("L", []) == ["a", "b"]
    with pytest.raises(ImproperlyConfigured):
        env.str("E", "default")
    with pytest.raises(ImproperlyConfigured):
        env.int("N", 0, maximum=10)
