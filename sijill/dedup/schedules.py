"""Periodic jobs of duplicate detection (run by `manage.py scheduler`, see sijill.core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from sijill.core.schedule import periodic


@periodic("dedup.recover_runs", every=timedelta(minutes=5), inline=True)
def recover_runs() -> str:
    """Hand runs whose worker died to a new attempt (idempotent, quick)."""
    from sijill.accounts.actors import SYSTEM
    from sijill.dedup.services import runs_recover

    return f"{len(runs_recover(actor=SYSTEM))} dedup runs retried"
