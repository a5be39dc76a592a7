"""Reads: who may see which tenant, and the wizard's progress as the pages show it.

One module per concern; callers use ``selectors.<name>`` from this package:

- ``overview``: one tenant's wizard as its pages show it (every partner page starts here);
- ``dashboard``: the staff dashboard and tenant page, in SQL;
- ``finishing``: the hand-off to Billing Sync, and the admin's reset notice;
- ``staff``: staff accounts and existing partners, for bringing partners in.
"""

from __future__ import annotations

from wizard.selectors.dashboard import (
    HEALTH_CHOICES,
    HEALTH_LABELS,
    SORTS,
    DashboardFilter,
    collapse_repeats,
    dashboard_queryset,
    done_index,
    funnel,
    health_expression,
    managers_for_filter,
    step_states,
    step_title_at,
    stuck_cutoff,
)
from wizard.selectors.finishing import (
    Handoff,
    HandoffContract,
    ResetNotice,
    handoff,
    reset_notice,
)
from wizard.selectors.overview import (
    FINISHED,
    VERIFICATION_LOCK_SECONDS,
    StepView,
    WizardOverview,
    credentials_stamp,
    live_version,
    step_checklist,
    step_facts,
    version_of,
    wizard_overview,
)
from wizard.selectors.staff import (
    StaffDirectory,
    account_managers,
    partners_named,
    staff_directory,
)

__all__ = [
    "DashboardFilter",
    "FINISHED",
    "HEALTH_CHOICES",
    "HEALTH_LABELS",
    "Handoff",
    "HandoffContract",
    "ResetNotice",
    "SORTS",
    "StaffDirectory",
    "StepView",
    "VERIFICATION_LOCK_SECONDS",
    "WizardOverview",
    "account_managers",
    "collapse_repeats",
    "credentials_stamp",
    "dashboard_queryset",
    "done_index",
    "funnel",
    "handoff",
    "health_expression",
    "live_version",
    "managers_for_filter",
    "partners_named",
    "reset_notice",
    "staff_directory",
    "step_checklist",
    "step_facts",
    "step_states",
    "step_title_at",
    "stuck_cutoff",
    "version_of",
    "wizard_overview",
]
