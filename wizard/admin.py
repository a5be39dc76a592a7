from __future__ import annotations

from django.contrib import admin

from wizard.models import AuditEvent, AutotaskCredential, Membership, StepProgress, Tenant


class MembershipInline(admin.TabularInline[Membership, Tenant]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class StepProgressInline(admin.TabularInline[StepProgress, Tenant]):
    model = StepProgress
    extra = 0
    fields = ("step_key", "state", "updated_at", "updated_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    list_display = ["name", "account_manager", "last_activity_at", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["code", "created_at", "last_activity_at"]
    inlines = [MembershipInline, StepProgressInline]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["created_at", "tenant", "actor", "action", "step_key"]
    list_filter = ["action", "step_key"]
    search_fields = ["tenant__name"]

    # The audit trail is append-only, even for admins.
    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(AutotaskCredential)
class AutotaskCredentialAdmin(admin.ModelAdmin[AutotaskCredential]):
    # The encrypted token is not shown either: nothing to gain, something to lose.
    list_display = ["tenant", "username", "updated_at"]
    fields = ("tenant", "username", "updated_at", "updated_by")
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False
