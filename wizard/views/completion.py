"""The end of the wizard, and what the partner is told on the way: the completion page (the
hand-off to Billing Sync) and the admin's reset notice."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from wizard import access, selectors, services, steps
from wizard.facts import BILLING_SYNC_CONNECTIONS_PATH
from wizard.views._step import step_url
from wizard.views._types import HtmxHttpRequest


@login_required
@require_GET
def done(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """The completion page: what to take to Billing Sync, printable. Only once it is done."""
    tenant = access.tenant_for_member(request.user, code)
    overview = selectors.wizard_overview(tenant)
    handoff = selectors.handoff(tenant, overview)
    if handoff is None:
        messages.info(
            request,
            "The hand-off to Billing Sync is ready once every step is done or skipped. "
            "This is the first step still open.",
        )
        return redirect(step_url(tenant, overview.resume_step.key))
    return render(
        request,
        "wizard/done.html",
        {
            "tenant": tenant,
            "overview": overview,
            "handoff": handoff,
            "connections_path": BILLING_SYNC_CONNECTIONS_PATH,
        },
    )


@login_required
@require_POST
def reset_notice_dismiss(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """Hide the admin's reset notice for the whole team; back to the page it was read on."""
    tenant = access.tenant_for_member(request.user, code)
    services.reset_notice_dismiss(tenant=tenant, user=request.user)
    step_key = request.POST.get("step", "")
    if step_key in steps.STEPS_BY_KEY:
        return redirect(step_url(tenant, step_key))
    return redirect("wizard:resume", tenant.code)
