from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User, UserRole
from accounts.signals import admin_entry_audit
from accounts.throttles import login_throttled


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "contact_name", "contact_phone")
    search_fields = ("name", "uscc")


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [UserRoleInline]
    list_display = ("username", "first_name", "last_name", "organisation", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "role_grants__role")
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Platform"), {"fields": ("organisation", "phone")}))


# The back-office login counts against the same per-address `login` throttle as the API and pages.
admin.site.login = login_throttled(admin.site.login)


def _log_deletions_audited(self, request, queryset):
    """Django writes the LogEntries of a bulk "delete selected" with bulk_create, which sends no
    post_save: the audit hook (accounts/signals.py) is called for each of them here."""
    entries = _log_deletions(self, request, queryset)
    if isinstance(entries, list) and len(entries) > 1:
        for entry in entries:
            admin_entry_audit(entry)
    return entries


_log_deletions = admin.ModelAdmin.log_deletions
admin.ModelAdmin.log_deletions = _log_deletions_audited
