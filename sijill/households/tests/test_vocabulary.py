"""The declaration's enumerations, with their labels in three languages, for any client."""

from __future__ import annotations

import pytest

from sijill.declaration import vocab

pytestmark = pytest.mark.django_db


def test_anyone_reads_every_enumerated_field_with_its_labels_in_three_languages(as_anonymous):
    r = as_anonymous.get("declaration/vocabulary")
    assert r.status_code == 200, r.content
    body = r.json()
    dwelling = {c["value"]: c["label"] for c in body["household"]["dwelling_type"]}
    assert set(dwelling) == {m.value for m in vocab.DwellingType}
    assert dwelling["apartment"] == {"ar": dwelling["apartment"]["ar"], "fr": "Appartement",
                                     "en": "Apartment"}
    assert dwelling["apartment"]["ar"] not in ("", "Apartment")
    marital = {c["value"]: c["label"] for c in body["members"]["marital_status"]}
    assert "widowed" in marital
    # Every value of every enumerated field has its three labels, none left in English in ar.
    for level in ("household", "members"):
        for choices in body[level].values():
            for c in choices:
                assert c["label"]["ar"] and c["label"]["fr"] and c["label"]["en"]
