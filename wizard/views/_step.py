"""What every view of a step page shares: the access check with the step, the step's URL, and
the parts of the page that follow colleagues' changes (the live context)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from django.urls import reverse

from wizard import access, selectors, services, steps
from wizard.checks import CheckResult, CheckStatus
from wizard.links import url_html
from wizard.models import Tenant
from wizard.views._types import HtmxHttpRequest

# The tag of a message shown next to the Verify button (where the person clicked), not on top.
NEAR_VERIFY = "near-verify"
# Where the list of customers (and the picker) sits: row actions come back here, and say
# what they did there (the message tag), below the picker's Choose buttons.
ROWS_ANCHOR = "#customers"
NEAR_ROWS = "near-rows"

# Seconds between a step page's checks for colleagues' changes: quick while a verification
# runs (its results should appear soon after it ends), relaxed otherwise.
LIVE_EVERY = 10
LIVE_EVERY_RUNNING = 2


def member_step(
    request: HtmxHttpRequest, code: uuid.UUID, step_key: str, *, having: str = ""
) -> tuple[Tenant, steps.Step]:
    """The access check first (404 to anyone not a member), then the step: 404 if there is no
    such step, or if it lacks what the view needs (``having``: "verifies", "list_field")."""
    tenant = access.tenant_for_member(request.user, code)
    step = step_or_404(step_key)
    if having and not getattr(step, having):
        raise Http404("This step has nothing of the kind.")
    return tenant, step


def step_or_404(step_key: str) -> steps.Step:
    try:
        return steps.STEPS_BY_KEY[step_key]
    except KeyError as e:
        raise Http404("No such step.") from e


def step_url(tenant: Tenant, step_key: str) -> str:
    return reverse("wizard:step", args=[tenant.code, step_key])


def results_version(current: selectors.StepView) -> str:
    """What the verification section shows: the last run, and whether one is running."""
    verified = current.progress.verified_at
    return f"{selectors.version_of(verified)}-{int(current.running)}"


def live_context(
    tenant: Tenant, step: steps.Step, overview: selectors.WizardOverview
) -> dict[str, Any]:
    """What the parts that follow colleagues' changes need (nav, status, checklist,
    verification, and the poller itself), from the stored state."""
    current = overview.get(step.key)
    ticked = set(current.progress.checklist)
    branch = step.branch_of(current.progress.answers)
    return {
        "tenant": tenant,
        "overview": overview,
        "current": current,
        "step": step,
        # The step's own URL for its forms (several on the page), worked out once and escaped
        # for HTML; step_url() above is the plain one, for redirects and headers.
        "step_url": url_html("wizard:step", tenant.code, step.key),
        "checklist_rows": [(i, i.id in ticked) for i in step.checklist_for(branch)],
        "checklist_shown": ",".join(current.progress.checklist),
        "time_zone": tenant.time_zone,
        "shows_dates": step.reads_dates,
        "results": grouped(current.progress.check_results),
        "running": current.running,
        "live_version": overview.version,
        "results_version": results_version(current),
        "live_every": LIVE_EVERY_RUNNING if current.running else LIVE_EVERY,
    }


def grouped(stored: list[dict[str, Any]]) -> list[tuple[str, str, list[CheckResult]]]:
    """Check results grouped by status, worst first; empty groups left out."""
    results = [CheckResult.from_dict(r) for r in stored]
    groups = []
    for status in CheckStatus:
        items = [r for r in results if r.status == status]
        if items:
            groups.append((status.value, status.label, items))
    return groups


def rows_shown(step: steps.Step, current: selectors.StepView) -> str:
    """The list as the page shows it (services.rows_stamp), for its next change to carry."""
    if not step.list_field:
        return ""
    return services.rows_stamp(current.progress.answers.get(step.list_field) or [], step.list_key)
