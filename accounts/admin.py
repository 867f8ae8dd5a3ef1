from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User, UserRole
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
