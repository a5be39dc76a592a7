"""Tenants, their members, their progress through the wizard, and the audit trail.

Rules that keep data sane live in the database as constraints (one progress row per tenant
and step, only known states, skipping only where the guide allows it), so that no code path,
admin action or management command can break them. The steps themselves are code
(wizard/steps/): which keys exist and how many there are is checked by the services, not by
constraints that would need a migration for every new step (docs/decisions/0012).
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from wizard import steps
from wizard.checks.status import CheckStatus


class Tenant(models.Model):
    """One MSP partner organisation going through the wizard."""

    # URLs carry this UUID, never the integer primary key (ids are guessable).
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    # The name as compared when partners are added from /manage/ or imported (NFKC, spaces
    # collapsed, case folded: wizard.services.onboarding.name_key). Unique, so that two imports
    # of one file at the same moment, or a double click, cannot add a partner twice; null for
    # tenants added another way (the Django admin, the demo data), which the import still finds
    # by comparing their names.
    name_key = models.CharField(max_length=200, null=True, blank=True, unique=True, editable=False)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_tenants",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped on every change to the tenant's progress; drives "last activity" and "stuck".
    last_activity_at = models.DateTimeField(null=True, blank=True)

    # A summary of the progress rows, kept current by services on every write, so that the
    # staff dashboard filters, sorts and counts in SQL at any number of tenants.
    finished_steps = models.PositiveSmallIntegerField(default=0)
    # 1-based: the step to resume at; one past the last once every step is done or skipped.
    current_step_index = models.PositiveSmallIntegerField(default=1)
    needs_attention = models.BooleanField(default=False)
    # The most failed verifications in a row on any one step ("stuck" from 3).
    failed_verifications = models.PositiveSmallIntegerField(default=0)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    # The worst status of the last verification of any step; "" until the first one.
    last_verification_status = models.CharField(
        max_length=10, blank=True, default="", choices=CheckStatus.choices
    )

    # Lockout safety: Autotask locks an API user after repeated failed logins, so after two
    # rejected credentials in a row the wizard stops trying until this time.
    auth_failures = models.PositiveSmallIntegerField(default=0)
    auth_paused_until = models.DateTimeField(null=True, blank=True)
    # When Autotask last refused the stored credentials (401, unknown user, code rejected).
    # While set, the daily re-check sends nothing: retrying the same refused Secret every day
    # would only add failed logins towards the API user's lockout. Cleared when credentials
    # are saved again or accepted.
    credentials_refused_at = models.DateTimeField(null=True, blank=True)

    # Drift: checks that passed before and fail on a later re-verification. Set while the
    # episode lasts (one alert at its start, one at recovery), cleared when they pass again.
    drift_checks: models.JSONField[list[dict[str, Any]], list[dict[str, Any]]] = models.JSONField(
        default=list, blank=True
    )
    drift_since = models.DateTimeField(null=True, blank=True)

    # The IANA name of the time zone the partner's Autotask works in ("Australia/Sydney"), ""
    # until someone picks it in step 1. Autotask sends a contract date as the UTC instant of
    # local midnight there, and "today" is the date there too (wizard/autotask/dates.py).
    time_zone = models.CharField(max_length=64, blank=True, default="")

    # The last hand-off mailed to the account manager, as selectors.Handoff.digest(): a
    # finished tenant's re-verifications change nothing in it, so they mail nothing again.
    handoff_mailed_digest = models.CharField(max_length=64, blank=True, default="")
    # The last admin reset, shown on every step page until a member dismisses it: {"whole":
    # bool, "from_step", "from_title", "at" (ISO), "reason"}; {} when there is none to show.
    reset_notice: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(
        default=dict, blank=True
    )

    class Meta:
        ordering = ["name"]
        permissions = [
            ("view_all_tenants", "Can see every tenant, not only those assigned"),
            ("reset_wizard", "Can reset a tenant's wizard"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(current_step_index__gte=1), name="tenant_current_step_range"
            ),
        ]
        indexes = [models.Index(fields=["last_activity_at"], name="tenant_last_activity")]

    def __str__(self) -> str:
        return self.name


def partner_name_key(name: str) -> str:
    """How two partner names are compared: "Contoso  IT" and "contoso it" are one partner.

    NFKC folds look-alike forms (full-width letters, ligatures), split/join collapses every run
    of white space, casefold is Unicode's case-insensitive form.
    """
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()[:200]


STAFF_NEVER_MEMBERS = (
    "Staff follow partners' progress from the dashboard and are never members of a partner tenant."
)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant"], name="membership_one_per_user_tenant"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "member"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.tenant}"

    def clean(self) -> None:
        # For the admin's inline; the services refuse it too (services.membership_add).
        if self.user_id is not None and (self.user.is_staff or self.user.is_superuser):
            raise ValidationError({"user": STAFF_NEVER_MEMBERS})


class StepState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class StepProgress(models.Model):
    """One row per tenant and step: what the partner answered, ticked and what Autotask said."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="progress")
    step_key = models.CharField(max_length=40, choices=steps.STEP_CHOICES)
    state = models.CharField(
        max_length=20, choices=StepState.choices, default=StepState.NOT_STARTED
    )
    # Non-secret answers only. The Secret lives encrypted in AutotaskCredential.
    answers = models.JSONField(default=dict, blank=True)
    # Ids of the checklist items ticked (ids come from wizard.steps).
    checklist = models.JSONField(default=list, blank=True)
    # The last verification: a list of check results (id, status, title, evidence, fix).
    check_results = models.JSONField(default=list, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    failed_verifications = models.PositiveIntegerField(default=0)
    # Set while a verification runs, so a double click or a colleague starts no second run.
    verification_started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["tenant", "step_key"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "step_key"], name="progress_one_per_step"),
            models.CheckConstraint(
                condition=Q(state__in=StepState.values), name="progress_state_valid"
            ),
            # The guide makes only two phases optional; nothing else may ever be skipped.
            models.CheckConstraint(
                condition=~Q(state=StepState.SKIPPED) | Q(step_key__in=steps.SKIPPABLE_KEYS),
                name="progress_skip_only_optional",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} / {self.step_key}: {self.state}"

    @property
    def step(self) -> steps.Step:
        return steps.STEPS_BY_KEY[self.step_key]


class AutotaskCredential(models.Model):
    """The API user's Username and encrypted Secret for one tenant (see wizard.crypto)."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="autotask_credential"
    )
    username = models.CharField(max_length=255)
    # Fernet token; the plaintext never touches the database.
    secret_encrypted = models.TextField()
    # Where this API user's Autotask lives (zoneInformation's answer: name, url, web_url, ci),
    # kept so that later verifications, the daily ones included, skip the lookup. Dropped when
    # Autotask refuses the credentials (the tenant may have moved) or the username changes.
    zone: models.JSONField[dict[str, Any] | None, dict[str, Any] | None] = models.JSONField(
        null=True, blank=True, default=None
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Autotask API user {self.username} for {self.tenant}"

    def __repr__(self) -> str:
        return f"<AutotaskCredential tenant={self.tenant_id} username={self.username!r}>"


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        ANSWERS_SAVED = "answers_saved", "Answers saved"
        CHECKLIST_TICKED = "checklist_ticked", "Checklist item ticked"
        CHECKLIST_UNTICKED = "checklist_unticked", "Checklist item unticked"
        STATE_CHANGED = "state_changed", "Step state changed"
        STEP_SKIPPED = "step_skipped", "Step skipped"
        STEP_UNSKIPPED = "step_unskipped", "Step resumed after skip"
        CREDENTIALS_SAVED = "credentials_saved", "API credentials saved"
        VERIFICATION_RUN = "verification_run", "Verification run"
        WIZARD_RESET = "wizard_reset", "Wizard reset"
        MEMBER_ADDED = "member_added", "Member added"
        INVITATION_SENT = "invitation_sent", "Invitation sent"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        DRIFT_DETECTED = "drift_detected", "Drift detected"
        DRIFT_RECOVERED = "drift_recovered", "Drift recovered"
        REVERIFICATION_POSTPONED = "reverification_postponed", "Re-verification postponed"
        HANDOFF_MAILED = "handoff_mailed", "Hand-off mailed to the account manager"
        RESET_NOTICE_DISMISSED = "reset_notice_dismissed", "Reset notice dismissed"
        PARTNER_ADDED = "partner_added", "Partner added"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    step_key = models.CharField(max_length=40, blank=True, default="")
    # Summaries only: never the Secret, never raw Autotask payloads.
    detail: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(
        default=dict, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_tenant_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.tenant}: {self.action}"


class Invitation(models.Model):
    """An emailed, signed, expiring, single-use invitation to join a tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(
        max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["owner", "member"]), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.tenant}"
