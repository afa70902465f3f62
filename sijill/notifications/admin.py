"""Read-only views of the outbox and the print batches (super-users; the clear text of a
one-time code is never shown: `secret_body` is left out)."""

from django.contrib import admin

from sijill.notifications.models import Notification, PrintBatch


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Notification)
class NotificationAdmin(_ReadOnly):
    list_display = ("created_at", "kind", "channel", "reference", "language", "status",
                    "attempts", "sent_at")
    list_filter = ("kind", "channel", "status", "language")
    search_fields = ("reference", "key")
    exclude = ("secret_body",)


@admin.register(PrintBatch)
class PrintBatchAdmin(_ReadOnly):
    list_display = ("created_at", "letters", "pages", "path", "size_bytes")
