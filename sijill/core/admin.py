"""Admin: the periodic jobs (read-only but for pausing one)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from sijill.core.models import ScheduledJob


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    list_display = ("name", "enabled", "every_seconds", "next_run_at", "status",
                    "last_outcome", "last_finished_at", "runs", "failures")
    list_filter = ("enabled", "status", "last_outcome")
    readonly_fields = tuple(f.name for f in ScheduledJob._meta.fields if f.name != "enabled")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
