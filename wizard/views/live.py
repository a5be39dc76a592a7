"""Step pages that follow colleagues' changes: htmx polls here (static/js/live.js)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wizard import selectors
from wizard.views._step import live_context, member_step, step_url
from wizard.views._types import HtmxHttpRequest


@login_required
@never_cache
@require_GET
def live(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """What changed since the page was made (``?v=``, selectors.live_version), for htmx
    polling: 204 when nothing did; else the state, checklist, results and navigation, each
    swapped in place (hx-swap-oob). The form's inputs are never sent: what someone is typing
    stays as it is."""
    tenant, step = member_step(request, code, step_key)
    if not request.htmx:
        return redirect(step_url(tenant, step.key))
    if request.GET.get("v", "") == selectors.live_version(tenant):
        return HttpResponse(status=204)
    overview = selectors.wizard_overview(tenant)
    context = live_context(tenant, step, overview)
    context["results_changed"] = request.GET.get("r", "") != context["results_version"]
    return render(request, "wizard/step.html#live", context)
