"""Periodic jobs of scoring (run by `manage.py scheduler`, see sijill.core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from sijill.core.schedule import periodic


@periodic("scoring.recover_runs", every=timedelta(minutes=5), inline=True)
def recover_runs() -> str:
    """Queue again the rescores and impact reports whose worker died (quick, idempotent)."""
    from sijill.scoring.services import runs_recover_stale

    return f"{len(runs_recover_stale())} scoring runs queued again"
