"""Precompiled querysets: the same rows as the queryset, with new values each time."""

from __future__ import annotations

import pytest

from sijill.core.precompiled import precompiled
from sijill.geography.models import Commune

pytestmark = pytest.mark.django_db


def _communes(*codes: str):  # type: ignore[no-untyped-def]
    return Commune.objects.filter(code__in=codes).order_by("code")


def test_a_precompiled_queryset_gives_the_rows_the_queryset_gives_for_each_new_value() -> None:
    first = ["04.421.01.0", "04.441.01.0"]
    second = [c.code for c in Commune.objects.order_by("-code")[:2]]
    for codes in (first, second):
        rows = list(precompiled(("test.communes", 2), _communes, codes))
        assert [(c.code, c.name_fr) for c in rows] == [
            (c.code, c.name_fr) for c in _communes(*codes)]


def test_a_queryset_whose_parameters_are_not_the_values_given_is_refused() -> None:
    with pytest.raises(ValueError, match="parameters"):
        precompiled("test.extra", lambda code: Commune.objects.filter(code=code, name_fr="x"),
                    ["04.421.01.0"])
