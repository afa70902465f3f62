"""The real database task worker, for tests: run it until the queue is empty."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database, for a worker in another process."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return (f"postgres://{s['USER']}{':' + s['PASSWORD'] if s['PASSWORD'] else ''}@"
            f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}")


def run_worker(**env: str) -> int:
    """Run `manage.py db_worker` until the queue is empty: in a subprocess on PostgreSQL (the
    test must commit: `django_db(transaction=True)`), in this process on SQLite (the test
    database is in memory there). `env`: more environment for the subprocess (e.g.
    SIJILL_PARTNER_URL)."""
    if connection.vendor == "sqlite":
        from django.core.management import call_command

        call_command("db_worker", batch=True, startup_delay=False, reload=False,
                     queue_name="*", verbosity=0)
        return 0
    environment = {**os.environ, "DATABASE_URL": database_url(),
                   "SIJILL_TASK_BACKEND": "django_tasks_db.DatabaseBackend", **env}
    completed = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay",
         "--no-reload", "--queue-name", "*", "-v", "0"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.returncode
