"""Where the throttle is applied: partner identity verification."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_a_partner_guessing_one_persons_attributes_is_stopped(as_partner: Any,
                                                              person_factory: Any) -> None:
    person, other = person_factory(), person_factory()
    for day in range(1, 21):
        response = as_partner.post("identity/verify", {
            "idcs": person.idcs, "birth_date": f"1985-01-{day:02d}", "purpose": "guessing"})
        assert response.status_code == 200
    refused = as_partner.post("identity/verify", {"idcs": person.idcs, "birth_date": "1985-01-21"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert int(refused["Retry-After"]) >= 1
    # Another person is still verifiable.
    assert as_partner.post("identity/verify", {"idcs": other.idcs, "sex": "F"}).status_code == 200
