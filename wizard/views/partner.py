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
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url

from wizard import access, selectors, services, steps
from wizard.autotask import AutotaskError, Busy, DeadlineExceeded, TimedOut
from wizard.checks import CheckResult, CheckStatus
from wizard.errors import UserFacingError
from wizard.facts import BILLING_SYNC_CONNECTIONS_PATH
from wizard.forms import form_class_for
from wizard.models import StepState, Tenant
from wizard.steps.forms import StepForm, row_action
from wizard.views._types import HtmxHttpRequest

# Result errors that mean Autotask did not answer before the page had to (not a verdict).
LATE = frozenset((DeadlineExceeded.code, Busy.code, TimedOut.code))
# The tag of a message shown next to the Verify button (where the person clicked), not on top.
NEAR_VERIFY = "near-verify"
# Where the list of customers (and the picker) sits: row actions come back here, and say
# what they did there (the message tag), below the picker's Choose buttons.
ROWS_ANCHOR = "#customers"
NEAR_ROWS = "near-rows"


def _member_step(
    request: HtmxHttpRequest, code: uuid.UUID, step_key: str, *, having: str = ""
) -> tuple[Tenant, steps.Step]:
    """The access check first (404 to anyone not a member), then the step: 404 if there is no
    such step, or if it lacks what the view needs (``having``: "verifies", "list_field")."""
    tenant = access.tenant_for_member(request.user, code)
    step = _step_or_404(step_key)
    if having and not getattr(step, having):
        raise Http404("This step has nothing of the kind.")
    return tenant, step


def _step_or_404(step_key: str) -> steps.Step:
    try:
        return steps.STEPS_BY_KEY[step_key]
    except KeyError as e:
        raise Http404("No such step.") from e


def _step_url(tenant: Tenant, step_key: str) -> str:
    return reverse("wizard:step", args=[tenant.code, step_key])


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
    if "rows_shown" in fields and step.list_field:
        rows = progress.answers.get(step.list_field) or []
        initial["rows_shown"] = services.rows_stamp(rows, step.list_key)
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
    for name in ("checklist_shown", "rows_shown", "credentials_stamp"):
        if name in form.fields:
            data[name] = initial.get(name) or ""
    rebased = form_class_for(step)(data, step=step, branch=form.branch_key)
    rebased.is_valid()
    return rebased


# Seconds between a step page's checks for colleagues' changes: quick while a verification
# runs (its results should appear soon after it ends), relaxed otherwise.
LIVE_EVERY = 10
LIVE_EVERY_RUNNING = 2


def _results_version(current: selectors.StepView) -> str:
    """What the verification section shows: the last run, and whether one is running."""
    verified = current.progress.verified_at
    return f"{selectors.version_of(verified)}-{int(current.running)}"


def _live_context(
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
        "checklist_rows": [(i, i.id in ticked) for i in step.checklist_for(branch)],
        "checklist_shown": ",".join(current.progress.checklist),
        "time_zone": tenant.time_zone,
        "shows_dates": step.reads_dates,
        "results": _grouped(current.progress.check_results),
        "running": current.running,
        "live_version": overview.version,
        "results_version": _results_version(current),
        "live_every": LIVE_EVERY_RUNNING if current.running else LIVE_EVERY,
    }


def _grouped(stored: list[dict[str, Any]]) -> list[tuple[str, str, list[CheckResult]]]:
    """Check results grouped by status, worst first; empty groups left out."""
    results = [CheckResult.from_dict(r) for r in stored]
    groups = []
    for status in CheckStatus:
        items = [r for r in results if r.status == status]
        if items:
            groups.append((status.value, status.label, items))
    return groups


def _rows_shown(step: steps.Step, current: selectors.StepView) -> str:
    """The list as the page shows it (services.rows_stamp), for its next change to carry."""
    if not step.list_field:
        return ""
    return services.rows_stamp(current.progress.answers.get(step.list_field) or [], step.list_key)


def _picker(
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
    # The checklist as plain rows: rendering each box through the form's widgets costs more
    # than the rest of the page together.
    if form.is_bound:
        ticked = set(form.data.getlist("checklist")) if hasattr(form.data, "getlist") else set()
        shown = str(form.data.get("checklist_shown", ""))
    else:
        ticked = set(current.progress.checklist)
        shown = ",".join(current.progress.checklist)
    checklist_rows = [(item, item.id in ticked) for item in step.checklist_for(form.branch_key)]
    stored = list(get_messages(request))
    context = {
        **_live_context(tenant, step, overview),
        # Verify's own errors go next to its button; everything else on top of the panel.
        "messages": [m for m in stored if not {NEAR_VERIFY, NEAR_ROWS} & set(m.tags.split())],
        "verify_messages": [m for m in stored if NEAR_VERIFY in m.tags.split()],
        "rows_status": " ".join(str(m) for m in stored if NEAR_ROWS in m.tags.split()),
        "collision": collision,
        "list_rows": current.progress.answers.get(step.list_field) if step.list_field else None,
        "rows_shown": _rows_shown(step, current),
        "checklist_rows": checklist_rows,
        "checklist_shown": shown,
        "branch": branch,
        "sections": step.sections_for(branch) if branch else step.sections,
        "form": form,
        "conflict": conflict,
        "previous": steps.previous_step(step.key),
        "next": steps.next_step(step.key),
        "first_usage": first_usage,
        "picker": _picker(request, tenant, step, overview),
        "reset_notice": selectors.reset_notice(tenant),
    }
    if request.htmx:
        response = render(request, "wizard/step.html#wizard", context, status=status)
        # The step's own URL, also after a POST (verify, save): back/forward and reload work.
        return push_url(response, _step_url(tenant, step.key))
    return render(request, "wizard/step.html", context, status=status)


@login_required
@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
def step(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    tenant, step = _member_step(request, code, step_key)
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
        messages.success(request, _saved_text(submission, action), extra_tags=NEAR_ROWS)
    else:
        messages.success(request, _saved_text(submission, action))
        kept = _colleagues_ticks_kept(tenant, step, form)
        if kept:
            messages.info(
                request,
                "A colleague changed the checklist after you opened this page, and their change "
                "is kept: " + "; ".join(kept) + ". Change it again if it should be otherwise.",
            )
    url = _step_url(tenant, target.key)
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


def _row_label(row: dict[str, Any]) -> str:
    company = row.get("company_name") or "Company"
    contract = row.get("contract_name") or "contract"
    return f"{company} #{row['company_id']} with {contract} #{row['contract_id']}"


def _saved_text(submission: services.Submission, action: str) -> str:
    """What this save did to the list, in words (never only "Saved." after a replace)."""
    if submission.new_row:
        verb = "Replaced the listed row with" if submission.replace_row else "Added"
        return f"Saved. {verb} {_row_label(submission.new_row)}."
    if submission.remove:
        return f"Saved. Removed contract #{submission.remove}."
    if action == "keep":
        return "Saved. Kept the row already listed; nothing was added."
    return "Saved."


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
    tenant, step = _member_step(request, code, step_key)
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
        return redirect(_step_url(tenant, step.key))
    overview = selectors.wizard_overview(tenant)
    # The checklist comes back too, with the ticks as stored, so the form's record of what
    # the page shows stays true (a later Save then changes only what the person changes).
    return render(request, "wizard/step.html#oob", _live_context(tenant, step, overview))


@login_required
@never_cache
@require_GET
def live(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """What changed since the page was made (``?v=``, selectors.live_version), for htmx
    polling: 204 when nothing did; else the state, checklist, results and navigation, each
    swapped in place (hx-swap-oob). The form's inputs are never sent: what someone is typing
    stays as it is."""
    tenant, step = _member_step(request, code, step_key)
    if not request.htmx:
        return redirect(_step_url(tenant, step.key))
    if request.GET.get("v", "") == selectors.live_version(tenant):
        return HttpResponse(status=204)
    overview = selectors.wizard_overview(tenant)
    context = _live_context(tenant, step, overview)
    context["results_changed"] = request.GET.get("r", "") != context["results_version"]
    return render(request, "wizard/step.html#live", context)


@login_required
@require_POST
def skip(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    tenant, step = _member_step(request, code, step_key)
    try:
        services.step_skip(tenant=tenant, step_key=step.key, user=request.user)
    except UserFacingError as e:
        messages.error(request, e.message)
        return redirect(_step_url(tenant, step.key))
    messages.info(request, f"Skipped: {step.title}. {step.skip_consequence}")
    target = steps.next_step(step.key) or step
    return redirect(_step_url(tenant, target.key))


@login_required
@require_POST
def unskip(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    tenant, step = _member_step(request, code, step_key)
    services.step_unskip(tenant=tenant, step_key=step.key, user=request.user)
    return redirect(_step_url(tenant, step.key))


@login_required
@require_POST
def verify(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """Check the step against Autotask; the results and the step's state follow."""
    tenant, step = _member_step(request, code, step_key, having="verifies")
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
    return redirect(_step_url(tenant, step.key))


@login_required
@require_GET
def picker(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """The picker's results alone (htmx search-as-you-type, a company's contracts)."""
    tenant, step = _member_step(request, code, step_key, having="list_field")
    if not request.htmx:
        return redirect(f"{_step_url(tenant, step.key)}?{request.GET.urlencode()}{ROWS_ANCHOR}")
    overview = selectors.wizard_overview(tenant)
    return render(
        request,
        "wizard/inputs/_picker.html#results",
        {
            "tenant": tenant,
            "step": step,
            "picker": _picker(request, tenant, step, overview),
        },
    )


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
        return redirect(_step_url(tenant, overview.resume_step.key))
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
        return redirect(_step_url(tenant, step_key))
    return redirect("wizard:resume", tenant.code)


@login_required
@require_POST
def rows(request: HtmxHttpRequest, code: uuid.UUID, step_key: str) -> HttpResponse:
    """Add (Choose, Replace), keep or remove one row of the step's list, and answer with the
    list alone (htmx): the rest of the form, unsaved choices included, stays as it is.

    Without JavaScript these buttons submit the step form instead; a plain POST here still
    works and returns to the list.
    """
    tenant, step = _member_step(request, code, step_key, having="list_field")
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
            text = _saved_text(submission, action).removeprefix("Saved. ")
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
        return redirect(_step_url(tenant, step.key) + ROWS_ANCHOR)
    overview = selectors.wizard_overview(tenant)
    current = overview.get(step.key)
    context = {
        "tenant": tenant,
        "overview": overview,
        "current": current,
        "step": step,
        "list_rows": current.progress.answers.get(step.list_field),
        "rows_shown": _rows_shown(step, current),
        "collision": collision,
        "rows_status": text,
        "oob": True,
        # For the verification section: a changed list clears the results it held.
        "shows_dates": step.reads_dates,
        "time_zone": tenant.time_zone,
        "results": _grouped(current.progress.check_results),
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
