"""JSON for staff: the dashboard's rows with per-step states, and one tenant with its hand-off to
Billing Sync (documented in docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import InvalidPage, Paginator
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from wizard import access, selectors, steps
from wizard.forms import DashboardFilterForm, form_errors
from wizard.models import Tenant
from wizard.views.manage import page_of

API_PAGE_SIZE = 50


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def tenant_json(t: Tenant, states: dict[str, str]) -> dict[str, Any]:
    health = getattr(t, "health", "")
    return {
        "id": str(t.code),
        "name": t.name,
        "account_manager": t.account_manager.get_username() if t.account_manager else None,
        "progress": {"finished": t.finished_steps, "total": len(steps.STEPS)},
        "current_step": (
            None
            if t.current_step_index > len(steps.STEPS)
            else steps.STEPS[t.current_step_index - 1].key
        ),
        "state": health,
        "last_activity_at": _iso(t.last_activity_at),
        "last_verification": {
            "status": t.last_verification_status or None,
            "at": _iso(t.last_verified_at),
        },
        "steps": {key: states.get(key, "not_started") for key in steps.STEP_KEYS},
        "drift": {
            "since": _iso(t.drift_since),
            "checks": [
                {"step": d["step"], "id": d["id"], "title": d["title"], "subject": d["subject"]}
                for d in t.drift_checks
            ],
        },
    }


def bad_request(fields: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"error": "The filter is not valid.", "fields": fields}, status=400)


@login_required
@require_GET
def tenants(request: HttpRequest) -> JsonResponse:
    if not access.is_staff(request.user):
        return JsonResponse({"error": "Not found."}, status=404)
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        return bad_request(form_errors(form))
    f = form.dashboard_filter()
    paginator = Paginator(selectors.dashboard_queryset(request.user, f), API_PAGE_SIZE)
    try:
        page = page_of(paginator, form.cleaned_data["page"])
    except InvalidPage as e:
        return bad_request({"page": [str(e)]})
    items = list(page.object_list)
    states = selectors.step_states(items)
    base = request.build_absolute_uri(request.path)

    def link(number: int) -> str:
        return f"{base}?{f.as_query(page=str(number))}"

    return JsonResponse(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "next": link(page.next_page_number()) if page.has_next() else None,
            "previous": link(page.previous_page_number()) if page.has_previous() else None,
            "results": [tenant_json(t, states[t.pk]) for t in items],
        }
    )


@login_required
@require_GET
def tenant(request: HttpRequest, code: uuid.UUID) -> JsonResponse:
    """One tenant as in the list, with ``handoff``: null until every step is done or skipped."""
    if not access.is_staff(request.user):
        return JsonResponse({"error": "Not found."}, status=404)
    found = (
        access.staff_tenants(request.user)
        .filter(code=code)
        .annotate(health=selectors.health_expression())
        .select_related("account_manager")
        .first()
    )
    if found is None:
        return JsonResponse({"error": "Not found."}, status=404)
    handoff = selectors.handoff(found)
    return JsonResponse(
        {
            **tenant_json(found, selectors.step_states([found])[found.pk]),
            "handoff": handoff.as_json() if handoff else None,
        }
    )
