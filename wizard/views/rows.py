"""The step's list (customers, annual contracts): the customer picker's search and a company's
contracts, and the row actions (Choose, Replace, Keep, Remove) answered in place with htmx.
Without JavaScript the same buttons submit the step form (views.partner.step)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from wizard import selectors, services, steps
from wizard.autotask import AutotaskError
from wizard.errors import UserFacingError
from wizard.models import Tenant
from wizard.steps.forms import row_action
from wizard.views._step import (
    NEAR_ROWS,
    ROWS_ANCHOR,
    live_context,
    member_step,
    rows_shown,
    step_url,
)
from wizard.views._types import HtmxHttpRequest


def picker_context(
    request: HtmxHttpRequest, tenant: Tenant, step: steps.Step, overview: selectors.WizardOverview
) -> dict[str, Any] | None:
    """Company search and contract list from Autotask, for the contract steps."""
    if not step.list_field or not overview.has_credentials:
        return None
    query = request.GET.get("q", "")[:100]
    picker: dict[str, Any] = {
        "q": query,
        "companies": None,
        "contracts": None,
        "error": "",
    }
    try:
        if "q" in request.GET:
            after = _int(request.GET.get("after"))
            picker["companies"], picker["next_after"] = services.company_search(
                tenant=tenant, query=query, after=after
            )
        company = _int(request.GET.get("company"))
        if company:
            picker["company_id"] = company
            picker["company_name"] = request.GET.get("company_name", "")[:200]
            picker["contracts"] = services.contract_choices(tenant=tenant, company_id=company)
    except AutotaskError as e:
        picker["error"] = e.user_message
    except UserFacingError as e:
        picker["error"] = e.message
    return picker


def _int(value: str | None) -> int:
    try:
        return max(0, min(int(value or 0), 2_147_483_647))
    except ValueError:
        return 0


def _row_label(row: dict[str, Any]) -> str:
    company = row.get("company_name") or "Company"
    contract = row.get("contract_name") or "contract"
    return f"{company} #{row['company_id']} with {contract} #{row['contract_id']}"


def saved_text(submission: services.Submission, action: str) -> str:
    """What this save did to the list, in words (never only "Saved." after a replace)."""
    if submission.new_row:
        verb = "Replaced the listed row with" if submission.replace_row else "Added"
        return f"Saved. {verb} {_row_label(submission.new_row)}."
    if submission.remove:
        return f"Saved. Removed contract #{submission.remove}."
    if action == "keep":
        return "Saved. Kept the row already listed; nothing was added."
    return "Saved."


@login_required
@require_GET
def picker(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """The picker's results alone (htmx search-as-you-type, a company's contracts)."""
    tenant, step = member_step(request, code, step_key, having="list_field")
    if not request.htmx:
        return redirect(f"{step_url(tenant, step.key)}?{request.GET.urlencode()}{ROWS_ANCHOR}")
    overview = selectors.wizard_overview(tenant)
    return render(
        request,
        "wizard/inputs/_picker.html#results",
        {
            "tenant": tenant,
            "step": step,
            "picker": picker_context(request, tenant, step, overview),
        },
    )


@login_required
@require_POST
def rows(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """Add (Choose, Replace), keep or remove one row of the step's list, and answer with the
    list alone (htmx): the rest of the form, unsaved choices included, stays as it is.

    Without JavaScript these buttons submit the step form instead; a plain POST here still
    works and returns to the list.
    """
    tenant, step = member_step(request, code, step_key, having="list_field")
    action = request.POST.get("action", "")
    row, replace = row_action(action, request.POST)
    submission = services.Submission(
        new_row=row,
        replace_row=replace,
        remove=action.removeprefix("remove:") if action.startswith("remove:") else None,
        # The rows the page showed: a row a colleague added or changed since is not replaced.
        rows_seen=(
            services.parse_rows_stamp(request.POST["rows_shown"])
            if "rows_shown" in request.POST
            else None
        ),
    )
    collision: services.RowCollision | None = None
    conflict = False
    text = ""
    try:
        if row is not None or submission.remove:
            services.step_submit(
                tenant=tenant, step_key=step.key, user=request.user, submission=submission
            )
        if row is not None or submission.remove or action == "keep":
            text = saved_text(submission, action).removeprefix("Saved. ")
    except services.RowCollision as e:
        # The question itself gets the focus (its group is labelled by it): not said twice.
        collision = e
    except services.EditConflict:
        # Nothing stored; the list comes back as it is now, with what happened next to it.
        conflict = True
        text = (
            "A colleague changed this list after you opened this page, and it now shows their "
            "rows. Nothing was added or removed: choose again if you still need to."
        )
    if not request.htmx:
        if collision is not None:
            messages.warning(request, collision.message, extra_tags=NEAR_ROWS)
        elif conflict:
            messages.warning(request, text, extra_tags=NEAR_ROWS)
        elif text:
            messages.success(request, text, extra_tags=NEAR_ROWS)
        return redirect(step_url(tenant, step.key) + ROWS_ANCHOR)
    overview = selectors.wizard_overview(tenant)
    current = overview.get(step.key)
    context = {
        # The step's state, navigation and verification (a changed list clears its results).
        **live_context(tenant, step, overview),
        "list_rows": current.progress.answers.get(step.list_field),
        "rows_shown": rows_shown(step, current),
        "collision": collision,
        "rows_status": text,
        "oob": True,
    }
    # The list, what happened (into the live region), the step's state and navigation, and
    # its verification (results cleared by the change).
    html = render_to_string("wizard/inputs/_contract_rows.html#rows", context, request)
    html += render_to_string("wizard/inputs/_contract_rows.html#status", context, request)
    html += render_to_string("wizard/inputs/_contract_rows.html#question", context, request)
    html += render_to_string("wizard/step.html#oob", context, request)
    if step.verifies:
        html += render_to_string("wizard/step.html#verification", context, request)
    return HttpResponse(html)
