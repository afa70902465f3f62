"""Periodic jobs of the core (run by `manage.py scheduler`, see sijill.core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from sijill.core.schedule import periodic


@periodic("core.idempotency_purge", every=timedelta(hours=1))
def idempotency_purge() -> str:
    """Delete the answers kept for idempotent replays once older than IDEMPOTENCY_DAYS."""
    from sijill.core.idempotency import records_purge

    return f"{records_purge()} idempotency records deleted"
