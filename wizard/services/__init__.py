"""Writes, by concern. Every change to a tenant's progress goes through here, under a row lock,
and every change of a step's state leaves an AuditEvent.

Concurrency: two colleagues may work on the same step at once. Each write locks the step's
row, applies only what this user changed (answers field by field, checklist ticks item by
item) and refuses, with EditConflict, to overwrite a value a colleague saved meanwhile.

The modules:

- ``answers``: answers, list rows and checklist ticks; ``step_submit`` saves a whole step form
  in one transaction;
- ``credentials``: the API user's Username and Secret, and the lockout pause;
- ``verification``: running a step's checks against Autotask and recording the results;
- ``autotask``: the one client factory (caches, caps, deadlines, the sandbox);
- ``picker``: the customer picker's Autotask reads;
- ``progress``: the step row lock, the state, the tenant's summary, skipping;
- ``tenants``: tenants, members, the time zone;
- ``reset``: admins' resets and the partner's notice of them; ``handoff``: the hand-off mail;
  ``team``: invitations and mail; ``audit``: the trail;
- ``onboarding``: adding partners; ``partner_import``: many at once, from a CSV file;
- ``errors``: what a service refuses, each a ``UserFacingError`` carrying its sentence.

This module is the package's public surface: callers use ``services.<name>``.
"""

from __future__ import annotations

from wizard.services.answers import (
    Submission,
    answer_list_add,
    answer_list_remove,
    checklist_update,
    list_names_fill,
    parse_rows_stamp,
    rows_stamp,
    step_answers_save,
    step_submit,
)
from wizard.services.audit import Actor, audit
from wizard.services.autotask import autotask_client
from wizard.services.credentials import credentials_save
from wizard.services.errors import (
    AutotaskPaused,
    CredentialsMissing,
    EditConflict,
    ImportChanged,
    ImportRefused,
    InvitationInvalid,
    InvitationRefused,
    MailNotSent,
    NothingToVerify,
    PartnerExists,
    PartnerRefused,
    ResetRefused,
    RowCollision,
    SkipNotAllowed,
    StaffNotMember,
    VerificationInProgress,
)
from wizard.services.handoff import handoff_mail_if_new
from wizard.services.mail import send_quietly
from wizard.services.onboarding import partner_add
from wizard.services.partner_import import (
    ImportPlan,
    ImportResult,
    import_plan,
    import_read,
    import_run,
    preview_from_token,
    preview_token,
)
from wizard.services.picker import company_search, contract_choices
from wizard.services.progress import step_skip, step_unskip, tenant_summary_refresh
from wizard.services.reset import ResetPlan, reset_notice_dismiss, reset_plan, wizard_reset
from wizard.services.team import (
    invitation_accept,
    invitation_create,
    invitation_from_token,
    invitation_signup,
    invitations_pending,
)
from wizard.services.tenants import (
    is_staff_account,
    membership_add,
    tenant_create,
    tenant_time_zone_save,
    tenant_today,
)
from wizard.services.verification import (
    VerificationOutcome,
    step_verify,
    verification_inputs,
    verification_record,
)

__all__ = [
    "Actor",
    "AutotaskPaused",
    "CredentialsMissing",
    "EditConflict",
    "ImportChanged",
    "ImportPlan",
    "ImportRefused",
    "ImportResult",
    "InvitationInvalid",
    "InvitationRefused",
    "MailNotSent",
    "NothingToVerify",
    "PartnerExists",
    "PartnerRefused",
    "ResetPlan",
    "ResetRefused",
    "RowCollision",
    "SkipNotAllowed",
    "StaffNotMember",
    "Submission",
    "VerificationInProgress",
    "VerificationOutcome",
    "answer_list_add",
    "answer_list_remove",
    "audit",
    "autotask_client",
    "checklist_update",
    "import_plan",
    "import_read",
    "import_run",
    "parse_rows_stamp",
    "rows_stamp",
    "company_search",
    "contract_choices",
    "credentials_save",
    "handoff_mail_if_new",
    "invitation_accept",
    "invitation_create",
    "invitation_from_token",
    "invitation_signup",
    "invitations_pending",
    "list_names_fill",
    "is_staff_account",
    "membership_add",
    "reset_notice_dismiss",
    "partner_add",
    "preview_from_token",
    "preview_token",
    "reset_plan",
    "send_quietly",
    "step_answers_save",
    "step_skip",
    "step_submit",
    "step_unskip",
    "step_verify",
    "tenant_create",
    "tenant_summary_refresh",
    "tenant_time_zone_save",
    "tenant_today",
    "verification_inputs",
    "verification_record",
    "wizard_reset",
]
