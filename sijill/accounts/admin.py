from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from sijill.accounts.models import ApiToken, ServiceCentre, User


@admin.register(User)
class SijillUserAdmin(UserAdmin):
    fieldsets = (*(UserAdmin.fieldsets or ()),  # set by Django's UserAdmin (never None)
                 ("Sijill", {"fields": ("role", "centre", "preferred_language")}))
    list_display = ("username", "role", "centre", "is_staff", "is_active")
    list_filter = ("role", "centre", "is_active")


@admin.register(ServiceCentre)
class ServiceCentreAdmin(admin.ModelAdmin):
    list_display = ("code", "name_fr", "commune")
    filter_horizontal = ("provinces",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "prefix", "purpose", "created_at", "revoked_at")
    readonly_fields = ("key_hash", "prefix")
