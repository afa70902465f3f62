"""Strict parsing of settings from environment variables.

A value that cannot be parsed stops the process with the variable's name and what was expected,
instead of silently falling back to a default.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def str(self, name: str, default: str) -> str:
        value = self.environ.get(name)
        if value is None:
            return default
        if value.strip() == "":
            raise ImproperlyConfigured(f"{name} is set but empty")
        return value

    # Below the method `str`, the bare name `str` in this class body means Env.str.
    def bool(self, name: builtins.str, default: bool) -> bool:
        value = self.environ.get(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r}: expected one of true/false, 1/0, yes/no, on/off")

    def int(self, name: builtins.str, default: int, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
        value = self.environ.get(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r}: expected an integer") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number}: must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}={number}: must be at most {maximum}")
        return number

    def list(self, name: builtins.str, default: list[builtins.str]) -> list[builtins.str]:
        value = self.environ.get(name)
        if value is None:
            return default
        items = [item.strip() for item in value.split(",")]
        if any(item == "" for item in items):
            raise ImproperlyConfigured(f"{name}={value!r}: expected a comma-separated list")
        return items

    def choice(self, name: builtins.str, default: builtins.str,
               choices: tuple[builtins.str, ...]) -> builtins.str:
        value = self.str(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r}: expected one of {', '.join(choices)}")
        return value
