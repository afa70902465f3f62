"""Periodic jobs of verification (run by `manage.py scheduler`, see sijill.core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from sijill.core.schedule import periodic


@periodic("verification.sweep", every=timedelta(minutes=1))
def sweep() -> str:
    """Queue the verification passes that are due: partner attempts whose backoff ended (on a
    backend without deferred tasks), deadlines passed, and the work of a task lost with a
    killed worker (a verification never started or a first attempt never made, late by the
    sweeper's grace: `verification_sweep`)."""
    from sijill.verification.services import verification_sweep

    return f"{verification_sweep()} verifications queued"
