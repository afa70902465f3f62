"""Receivers: a submitted declaration version is verified (then scored) in the background."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from sijill.households.signals import household_submitted

log = logging.getLogger(__name__)


@receiver(household_submitted, dispatch_uid="verification.verify_on_submission")
def _on_household_submitted(sender: Any, household_id: int, version: int,
                            **kwargs: Any) -> None:
    """Sent after commit: the registration stands whatever happens here; a failure is logged
    (household pk only) for the sweeper or an operator (`manage.py verification_start`)."""
    from sijill.verification.services import verification_start

    try:
        verification_start(household_id=household_id, version=version)
    except Exception:
        log.exception("starting the verification of household pk=%s failed", household_id)
