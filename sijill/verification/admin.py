"""Back-office views of verification for super-users: read-only (decisions go through
services.discrepancy_decide, which records who decided and audits)."""

from django.contrib import admin

from sijill.verification.models import Discrepancy, Evidence, PartnerCheck, Verification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Verification)
class VerificationAdmin(ReadOnlyAdmin):
    list_display = ("household", "declaration", "status", "basis", "by_deadline", "started_at",
                    "deadline", "concluded_at")
    list_filter = ("status", "by_deadline")
    search_fields = ("=household__reference",)
    show_full_result_count = False


@admin.register(PartnerCheck)
class PartnerCheckAdmin(ReadOnlyAdmin):
    list_display = ("verification", "partner", "status", "attempts", "next_attempt_at",
                    "last_error", "answered_at")
    list_filter = ("partner", "status")
    show_full_result_count = False


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("partner_check", "partner", "attempt", "channel", "outcome", "error",
                    "received_at", "elapsed_ms")
    list_filter = ("partner", "outcome", "channel")
    search_fields = ("=household__reference",)
    show_full_result_count = False


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdmin):
    list_display = ("household", "partner", "field", "person_idcs", "declared", "verified",
                    "severity", "status", "decided_by", "decided_at")
    list_filter = ("status", "severity", "partner", "field")
    search_fields = ("=household__reference",)
    show_full_result_count = False
