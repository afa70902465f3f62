from __future__ import annotations

from typing import Any

import pytest

from sijill.notifications import backends


@pytest.fixture(autouse=True)
def outbox(settings: Any, tmp_path: Any) -> Any:
    """Every test sends through the file backend into its own outbox directory, and runs its
    background tasks in-process when enqueued (after commit)."""
    directory = tmp_path / "outbox"
    settings.NOTIFICATIONS = {**getattr(settings, "NOTIFICATIONS", {}),
                              "SMS_BACKEND": "sijill.notifications.backends.FileBackend",
                              "OUTBOX_DIR": directory}
    settings.TASKS = {"default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    backends.reset()
    yield directory
    backends.reset()
