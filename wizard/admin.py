from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest

from wizard import services, steps
from wizard.models import (
    AuditEvent,
    AutotaskCredential,
    Invitation,
    Membership,
    StepProgress,
    Tenant,
)


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


class ResetActionForm(ActionForm):
    from_step = forms.ChoiceField(
        required=False,
        choices=lambda: [("", "whole wizard")] + [(s.key, f"from {s.title}") for s in steps.STEPS],
    )
    reason = forms.CharField(required=False, max_length=1000)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    list_display = ["name", "account_manager", "finished_steps", "last_activity_at", "created_at"]
    search_fields = ["name"]
    readonly_fields = [
        "code",
        "created_at",
        "last_activity_at",
        "finished_steps",
        "current_step_index",
        "needs_attention",
        "failed_verifications",
        "last_verified_at",
        "last_verification_status",
    ]
    inlines = [MembershipInline, StepProgressInline]
    action_form = ResetActionForm
    actions = ["reset_wizard"]

    @admin.action(
        description="Reset the wizard (choose the step and give a reason below)",
        permissions=["reset"],
    )
    def reset_wizard(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        reason = request.POST.get("reason", "").strip()
        from_step = request.POST.get("from_step") or None
        if not reason:
            self.message_user(request, "Give a reason for the reset.", messages.ERROR)
            return
        for tenant in queryset:
            services.wizard_reset(
                tenant=tenant, from_step=from_step, reason=reason, user=request.user
            )
        self.message_user(request, f"Reset {queryset.count()} tenant(s).", messages.SUCCESS)

    def has_reset_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("wizard.reset_wizard")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["created_at", "tenant", "actor", "action", "step_key"]
    list_filter = ["action", "step_key"]
    search_fields = ["tenant__name"]

    # The audit trail is append-only, even for admins, and only the services append to it:
    # an entry added here could be attributed to anyone and would show on the tenant page.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    """Staff can see and withdraw (delete) invitations; the signed link then stops working."""

    list_display = ["email", "tenant", "role", "invited_by", "created_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "tenant__name"]
    readonly_fields = [
        "tenant",
        "email",
        "role",
        "invited_by",
        "created_at",
        "accepted_at",
        "accepted_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
