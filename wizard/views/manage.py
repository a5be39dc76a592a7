"""Distributor staff: the dashboard across tenants, a tenant's detail, reset, invitations.

Access first, always through wizard.access: account managers see their tenants (or all with
the permission), admins may reset. Anyone else gets a 404 (a 403 only for a staff member who
may see the tenant but not reset it).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wizard import access, selectors, services, steps
from wizard.csv_guard import SafeWriter
from wizard.forms import DashboardFilterForm, InvitationForm, PageForm, ResetForm, form_errors
from wizard.models import AuditEvent, Membership, Tenant
from wizard.views.team import send_invitation

PAGE_SIZE = 25
FUNNEL_BAR_MAX = 360  # px of the widest bar in the SVG


def _staff_or_404(request: HttpRequest) -> None:
    if not access.is_staff(request.user):
        raise Http404("Not found.")


def bad_filter(request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse:
    """A filter or page the dashboard does not know: say which, answer 400, show nothing."""
    return render(request, "manage/bad_filter.html", {"errors": errors}, status=400)


def page_of(paginator: Paginator[Any], number: int | None) -> Page[Any]:
    """The page asked for (the first if none); InvalidPage past the last one."""
    try:
        return paginator.page(number or 1)
    except InvalidPage as e:
        raise InvalidPage(
            f"There is no page {number}: this list has {paginator.num_pages} page(s)."
        ) from e


def funnel_bars(counts: list[tuple[str, int]]) -> list[dict[str, Any]]:
    top = max((c for _l, c in counts), default=0) or 1
    return [
        {"label": label, "count": count, "width": round(FUNNEL_BAR_MAX * count / top), "y": i * 30}
        for i, (label, count) in enumerate(counts)
    ]


def _filter_form(request: HttpRequest) -> DashboardFilterForm:
    """Staff only (404 to anyone else), then the dashboard's filter as the query string gave it."""
    _staff_or_404(request)
    return DashboardFilterForm(request.GET)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    if not form.is_valid():
        return bad_filter(request, form_errors(form))
    f = form.dashboard_filter()
    qs = selectors.dashboard_queryset(request.user, f)
    try:
        page = page_of(Paginator(qs, PAGE_SIZE), form.cleaned_data["page"])
    except InvalidPage as e:
        return bad_filter(request, {"page": [str(e)]})
    bars = funnel_bars(selectors.funnel(qs))
    return render(
        request,
        "manage/dashboard.html",
        {
            "filter": f,
            "page": page,
            "rows": [_row(t) for t in page.object_list],
            "funnel": bars,
            "funnel_height": len(bars) * 30,
            "health_choices": selectors.HEALTH_CHOICES,
            "steps": steps.STEPS,
            "managers": selectors.managers_for_filter(request.user),
            "stuck_days": settings.STUCK_AFTER_DAYS,
            "sorts": [
                ("name", "Name"),
                ("-progress", "Most progress"),
                ("progress", "Least progress"),
                ("-activity", "Recent activity"),
                ("activity", "Oldest activity"),
                ("state", "State"),
            ],
        },
    )


def _row(t: Tenant) -> dict[str, Any]:
    health = getattr(t, "health", "")
    return {
        "tenant": t,
        "health": health,
        "health_label": selectors.HEALTH_LABELS.get(health, health),
        "current_step": selectors.step_title_at(t.current_step_index),
        "manager": t.account_manager.get_username() if t.account_manager else "",
    }


def csv_columns() -> list[str]:
    """The export's header: the summary columns, then one per step of the registry."""
    return [
        "name",
        "id",
        "account_manager",
        "finished_steps",
        "current_step",
        "state",
        "last_activity_at",
        "last_verification",
        "last_verified_at",
        *steps.STEP_KEYS,
    ]


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponseBase:
    form = _filter_form(request)
    if not form.is_valid():
        return bad_filter(request, form_errors(form))
    tenants = list(selectors.dashboard_queryset(request.user, form.dashboard_filter()))
    states = selectors.step_states(tenants)
    # Every cell goes through the guard, ours included: a step title or a state label is
    # harmless today, but the rule is simpler to check when it has no exceptions.
    writer = SafeWriter()

    def rows() -> Any:
        yield writer.row(csv_columns())
        for t in tenants:
            r = _row(t)
            yield writer.row(
                [
                    t.name,
                    t.code,
                    r["manager"],
                    t.finished_steps,
                    r["current_step"],
                    r["health_label"],
                    t.last_activity_at.isoformat() if t.last_activity_at else "",
                    t.last_verification_status,
                    t.last_verified_at.isoformat() if t.last_verified_at else "",
                    *[states[t.pk].get(k, "not_started") for k in steps.STEP_KEYS],
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="tenants-{stamp}.csv"'
    return response


@login_required
@require_GET
def tenant_detail(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    tenant = access.staff_tenant_or_404(request.user, code)
    form = PageForm(request.GET)
    if not form.is_valid():
        return bad_filter(request, form_errors(form))
    try:
        events = page_of(
            Paginator(AuditEvent.objects.filter(tenant=tenant).select_related("actor"), 50),
            form.cleaned_data["page"],
        )
    except InvalidPage as e:
        return bad_filter(request, {"page": [str(e)]})
    overview = selectors.wizard_overview(tenant)
    return render(
        request,
        "manage/tenant.html",
        {
            "tenant": tenant,
            "overview": overview,
            "handoff": selectors.handoff(tenant, overview),
            "events": events,
            "event_rows": selectors.collapse_repeats(events.object_list),
            "members": Membership.objects.filter(tenant=tenant).select_related("user"),
            "invitations": services.invitations_pending(tenant),
            "can_reset": access.can_reset(request.user),
            "reset_form": ResetForm(),
            "invite_form": InvitationForm(),
            "steps": steps.STEPS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reset(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """GET: exactly what would be cleared, and the reason field. POST: do it."""
    tenant = access.staff_tenant_or_404(request.user, code)
    access.require_reset(request.user)
    source = request.POST if request.method == "POST" else request.GET
    from_step = source.get("from_step", "")
    if from_step and from_step not in steps.STEPS_BY_KEY:
        raise Http404("No such step.")
    plan = services.reset_plan(tenant, from_step or None)
    form = ResetForm(
        request.POST if request.method == "POST" else None, initial={"from_step": from_step}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.wizard_reset(
                tenant=tenant,
                from_step=from_step or None,
                reason=form.cleaned_data["reason"],
                user=request.user,
                resume_url=request.build_absolute_uri(reverse("wizard:resume", args=[tenant.code])),
            )
        except services.ResetRefused as e:
            form.add_error("reason", str(e))
        else:
            # A whole reset is not a reset "from" the first step: say which one it was.
            what = (
                f"Reset from '{steps.STEPS_BY_KEY[plan.from_step].title}'."
                if from_step
                else "Reset the whole wizard."
            )
            messages.success(
                request,
                f"{what} The tenant's owners are emailed the reason, and the partner sees it "
                "on the wizard's pages until they dismiss it.",
            )
            return redirect("manage:tenant", tenant.code)
    return render(
        request,
        "manage/reset_confirm.html",
        {"tenant": tenant, "form": form, "plan": plan, "from_step": from_step},
    )


@login_required
@require_POST
def invite(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    tenant = access.staff_tenant_or_404(request.user, code)
    form = InvitationForm(request.POST)
    if form.is_valid():
        send_invitation(request, tenant, form)
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("manage:tenant", tenant.code)
