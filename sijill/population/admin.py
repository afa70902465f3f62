"""Back-office views of the register for super-users. Writes go through the services, so
records are read-only here (a change made in the admin would skip versions and the audit)."""

from django.contrib import admin

from sijill.population.models import HeldEnrolment, Person, PersonVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("idcs", "family_name_latin", "first_name_latin", "sex", "birth_date",
                    "status", "enrolment_basis")
    list_filter = ("status", "sex", "enrolment_basis", "enrolment_channel", "nationality")
    search_fields = ("=idcs", "=cnie", "=residence_card", "family_key_latin")
    show_full_result_count = False


@admin.register(PersonVersion)
class PersonVersionAdmin(ReadOnlyAdmin):
    list_display = ("person", "version", "reason", "actor_label", "changed_at")
    search_fields = ("=person__idcs",)


@admin.register(HeldEnrolment)
class HeldEnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "status", "created_by", "created_at", "decided_by")
    list_filter = ("status",)
