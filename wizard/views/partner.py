"""The partner's wizard. Thin views: the access check first, then a service or a selector.

Every page works without JavaScript (plain links and forms, redirect after POST); with htmx
the same URLs answer with the ``#wizard`` partial and the checklist saves on each click.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url

from wizard import access, selectors, services, steps
from wizard.autotask import Busy, DeadlineExceeded, TimedOut
from wizard.checks import CheckStatus
from wizard.errors import UserFacingError
from wizard.forms import form_class_for
from wizard.models import StepState, Tenant
from wizard.steps.forms import StepForm, row_action
from wizard.views._step import (
    NEAR_ROWS,
    NEAR_VERIFY,
    ROWS_ANCHOR,
    live_context,
    member_step,
    rows_shown,
    step_url,
)
from wizard.views._types import HtmxHttpRequest
from wizard.views.rows import picker_context, saved_text

# Result errors that mean Autotask did not answer before the page had to (not a verdict).
LATE = frozenset((DeadlineExceeded.code, Busy.code, TimedOut.code))


@login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_staff:
        return redirect("manage:dashboard")
    tenants = list(access.tenants_for_member(request.user))
    if len(tenants) == 1:
        return redirect("wizard:resume", tenants[0].code)
    return render(request, "wizard/home.html", {"tenants": tenants})


@login_required
@require_GET
def resume(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    tenant = access.tenant_for_member(request.user, code)
    overview = selectors.wizard_overview(tenant)
    return redirect("wizard:step", tenant.code, overview.resume_step.key)


def _initial(step: steps.Step, overview: selectors.WizardOverview) -> dict[str, Any]:
    progress = overview.get(step.key).progress
    initial: dict[str, Any] = {
        "checklist": list(progress.checklist),
        "checklist_shown": ",".join(progress.checklist),
    }
    initial.update({k: v for k, v in progress.answers.items() if isinstance(v, str)})
    # Inputs stored outside the step's answers: the credential's Username, the tenant's zone.
    fields = form_class_for(step).base_fields
    if "username" in fields:
        initial["username"] = overview.credential_username
    if "time_zone" in fields:
        initial["time_zone"] = overview.tenant.time_zone
    if "credentials_stamp" in fields:
        initial["credentials_stamp"] = selectors.credentials_stamp(overview.tenant)
    return initial


def _rebased(step: steps.Step, form: StepForm, tenant: Tenant) -> StepForm:
    """The person's form again after an EditConflict: what they entered stays, and what the
    page "showed" becomes what is stored now, so that saving again keeps their values."""
    data = form.data.copy()  # type: ignore[attr-defined]
    data.pop("secret", None)  # never sent back to the page
    initial = _initial(step, selectors.wizard_overview(tenant))
    for name, field in form.fields.items():
        if field.show_hidden_initial:
            data[form.add_initial_prefix(name)] = initial.get(name) or ""
    # (The list's rows_shown is not among them: the page renders it from what is stored.)
    for name in ("checklist_shown", "credentials_stamp"):
        if name in form.fields:
            data[name] = initial.get(name) or ""
    rebased = form_class_for(step)(data, step=step, branch=form.branch_key)
    rebased.is_valid()
    return rebased


def _render_step(
    request: HtmxHttpRequest,
    tenant: Tenant,
    step: steps.Step,
    form: StepForm | None = None,
    *,
    conflict: list[tuple[str, str]] | None = None,
    collision: services.RowCollision | None = None,
    status: int = 200,
) -> HttpResponse:
    overview = selectors.wizard_overview(tenant)
    current = overview.get(step.key)
    branch = step.branch_of(current.progress.answers)
    if form is None:
        form = form_class_for(step)(step=step, branch=branch, initial=_initial(step, overview))
    sync_start = current.progress.answers.get("sync_start")
    first_usage = None
    if sync_start in dict(steps.SYNC_START_CHOICES) and tenant.time_zone:
        # The partner's today, not the server's: in Sydney the month turns 11 hours earlier.
        first_usage = steps.first_usage_date(str(sync_start), services.tenant_today(tenant))
    stored = list(get_messages(request))
    context = {
        **live_context(tenant, step, overview),
        # Verify's own errors go next to its button; everything else on top of the panel.
        "messages": [m for m in stored if not {NEAR_VERIFY, NEAR_ROWS} & set(m.tags.split())],
        "verify_messages": [m for m in stored if NEAR_VERIFY in m.tags.split()],
        "rows_status": " ".join(str(m) for m in stored if NEAR_ROWS in m.tags.split()),
        "collision": collision,
        "list_rows": current.progress.answers.get(step.list_field) if step.list_field else None,
        "rows_shown": rows_shown(step, current),
        "branch": branch,
        "sections": step.sections_for(branch) if branch else step.sections,
        "form": form,
        "conflict": conflict,
        "previous": steps.previous_step(step.key),
        "next": steps.next_step(step.key),
        "first_usage": first_usage,
        "picker": picker_context(request, tenant, step, overview),
        "reset_notice": selectors.reset_notice(tenant),
    }
    if form.is_bound:
        # A form shown again (errors, a conflict): its own ticks and branch, not the stored
        # ones the live context shows.
        ticked = set(form.data.getlist("checklist")) if hasattr(form.data, "getlist") else set()
        context["checklist_rows"] = [
            (item, item.id in ticked) for item in step.checklist_for(form.branch_key)
        ]
        context["checklist_shown"] = str(form.data.get("checklist_shown", ""))
    if request.htmx:
        response = render(request, "wizard/step.html#wizard", context, status=status)
        # The step's own URL, also after a POST (verify, save): back/forward and reload work.
        return push_url(response, step_url(tenant, step.key))
    return render(request, "wizard/step.html", context, status=status)


@login_required
@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
def step(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    tenant, step = member_step(request, code, step_key)
    if request.method == "GET":
        return _render_step(request, tenant, step)

    overview = selectors.wizard_overview(tenant)
    branch = step.branch_of(overview.get(step.key).progress.answers)
    if step.branch_field and step.branch_field in request.POST:
        # The branch chosen in this very submit decides which ticks belong to it.
        branch = step.branch_of(request.POST)
    form = form_class_for(step)(request.POST, step=step, branch=branch)
    if not form.is_valid():
        return _render_step(request, tenant, step, form)

    action = request.POST.get("action", "save")
    submission = _submission(step, form, action, request.POST)
    try:
        services.step_submit(
            tenant=tenant, step_key=step.key, user=request.user, submission=submission
        )
    except services.RowCollision as e:
        # Nothing stored: the same form comes back, asking Replace or Keep.
        return _render_step(request, tenant, step, form, collision=e)
    except services.EditConflict as e:
        # Nothing was stored, and no "Saved.": re-show the person's own values, with what
        # colleagues stored as the new baseline, and what they stored in the form's words.
        messages.warning(request, e.message)
        form = _rebased(step, form, tenant)
        return _render_step(request, tenant, step, form, conflict=form.conflict_rows(e.fields))

    target: steps.Step = step
    if action == "next":
        if selectors.wizard_overview(tenant).get(step.key).state == StepState.NOT_STARTED:
            # "Save and continue" with nothing answered must not move on silently.
            if not step.optional:
                return _nothing_answered(request, tenant, step, form)
            messages.info(
                request,
                f"You left “{step.title}” for later: nothing was answered there. Come back to "
                "it any time, or skip it if it does not apply to you.",
            )
        target = steps.next_step(step.key) or step
    elif action == "back":
        target = steps.previous_step(step.key) or step
    elif submission.new_row or submission.remove or action == "keep":
        messages.success(request, saved_text(submission, action), extra_tags=NEAR_ROWS)
    else:
        messages.success(request, saved_text(submission, action))
        kept = _colleagues_ticks_kept(tenant, step, form)
        if kept:
            messages.info(
                request,
                "A colleague changed the checklist after you opened this page, and their change "
                "is kept: " + "; ".join(kept) + ". Change it again if it should be otherwise.",
            )
    url = step_url(tenant, target.key)
    if target is step and (submission.new_row or submission.remove or action == "keep"):
        # Back where the person clicked (the list), with the picker as it was (no JavaScript).
        query = request.GET.urlencode()
        url += (f"?{query}" if query else "") + ROWS_ANCHOR
    return redirect(url)


def _colleagues_ticks_kept(tenant: Tenant, step: steps.Step, form: StepForm) -> list[str]:
    """Items the saved form showed one way and that are stored the other way now.

    A save applies only the ticks the person changed, so such an item is one a colleague
    changed after the page was opened: it is kept, and said, rather than left to be noticed."""
    if "checklist_shown" not in form.data:
        return []
    sent = set(form.cleaned_data.get("checklist", []))
    stored = set(selectors.step_checklist(tenant, step.key))
    return [
        f"\u201c{item.text}\u201d is {'ticked' if item.id in stored else 'not ticked'}"
        for item in step.checklist_for(form.branch_key)
        if (item.id in sent) != (item.id in stored)
    ]


def _nothing_answered(
    request: HtmxHttpRequest, tenant: Tenant, step: steps.Step, form: StepForm
) -> HttpResponse:
    """The form again, saying what the step needs before the wizard can move on."""
    overview = selectors.wizard_overview(tenant)
    needed = " ".join(overview.get(step.key).evaluation.blockers[:1])
    form.add_error(
        None,
        f"This step needs an answer before you continue. {needed}".strip(),
    )
    return _render_step(request, tenant, step, form)


def _submission(step: steps.Step, form: StepForm, action: str, post: Any) -> services.Submission:
    """What the form carried, for services.step_submit to save in one transaction."""
    ticked, unticked = form.checklist_changes()
    changes, seen = form.answer_changes()
    data = form.cleaned_data
    # A picker's Choose or a "Replace" answer carries its row; "Keep" drops the typed one.
    new_row, replace_row = row_action(action, post)
    if new_row is None and action != "keep":
        new_row = getattr(form, "new_row", lambda: None)()
    # Only a Username the person changed is sent: an unchanged one from an old page would
    # otherwise overwrite a colleague's.
    username_changed = "username" in form.fields and "username" in form.changed_data
    return services.Submission(
        changes=changes,
        seen=seen,
        ticked=tuple(sorted(ticked)),
        unticked=tuple(sorted(unticked)),
        time_zone=(
            (data.get("time_zone") or "", form.shown("time_zone"))
            if "time_zone" in form.changed_data
            else None
        ),
        username=data.get("username") if username_changed else None,
        username_seen=form.shown_or_none("username") if username_changed else None,
        secret=data.get("secret"),
        credentials_stamp=data.get("credentials_stamp") or None,
        new_row=new_row if step.list_field else None,
        replace_row=replace_row,
        remove=action.removeprefix("remove:") if action.startswith("remove:") else None,
        rows_seen=(
            services.parse_rows_stamp(str(form.data["rows_shown"]))
            if "rows_shown" in form.fields and "rows_shown" in form.data
            else None
        ),
    )


@login_required
@require_POST
def checklist_toggle(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """One tick, saved as it is clicked (htmx); without JavaScript the step form saves ticks."""
    tenant, step = member_step(request, code, step_key)
    item = request.POST.get("item", "")
    if item not in {i.id for i in step.checklist}:
        return HttpResponse("Unknown checklist item.", status=400)
    ticked = item in request.POST.getlist("checklist")
    services.checklist_update(
        tenant=tenant,
        step_key=step.key,
        user=request.user,
        ticked=[item] if ticked else [],
        unticked=[] if ticked else [item],
    )
    if not request.htmx:
        return redirect(step_url(tenant, step.key))
    overview = selectors.wizard_overview(tenant)
    # The checklist comes back too, with the ticks as stored, so the form's record of what
    # the page shows stays true (a later Save then changes only what the person changes).
    return render(request, "wizard/step.html#oob", live_context(tenant, step, overview))


@login_required
@require_POST
def skip(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    tenant, step = member_step(request, code, step_key)
    try:
        services.step_skip(tenant=tenant, step_key=step.key, user=request.user)
    except UserFacingError as e:
        messages.error(request, e.message)
        return redirect(step_url(tenant, step.key))
    messages.info(request, f"Skipped: {step.title}. {step.skip_consequence}")
    target = steps.next_step(step.key) or step
    return redirect(step_url(tenant, target.key))


@login_required
@require_POST
def unskip(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    tenant, step = member_step(request, code, step_key)
    services.step_unskip(tenant=tenant, step_key=step.key, user=request.user)
    return redirect(step_url(tenant, step.key))


@login_required
@require_POST
def verify(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """Check the step against Autotask; the results and the step's state follow."""
    tenant, step = member_step(request, code, step_key, having="verifies")
    try:
        outcome = services.step_verify(tenant=tenant, step_key=step.key, user=request.user)
    except services.VerificationInProgress:
        # The page itself says so, in the results' place, while the run lasts; the results
        # replace the notice when they arrive (the live updates, or a reload without JS).
        pass
    except UserFacingError as e:
        # Paused, nothing to verify, no credentials: said where the person clicked.
        messages.error(request, e.message, extra_tags=NEAR_VERIFY)
    else:
        statuses = [r["status"] for r in outcome.results]
        summary = ", ".join(s.counted(statuses.count(s)) for s in CheckStatus if s in statuses)
        text = f"Verified against Autotask: {summary}."
        if any(r.get("error") in LATE for r in outcome.results):
            text += (
                " Autotask did not answer in time, so some checks could not be made. Try again "
                "later; nothing you saved is lost."
            )
        if CheckStatus.FAIL in statuses:
            messages.error(request, text)
        elif CheckStatus.WARN in statuses or CheckStatus.UNKNOWN in statuses:
            messages.warning(request, text)
        else:
            messages.success(request, text)
    if request.htmx:
        return _render_step(request, tenant, step)
    return redirect(step_url(tenant, step.key))
