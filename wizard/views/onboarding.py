"""Staff bring partners in: one at a time, or many from a CSV file (preview, then confirm).

Access first, as on every /manage/ page: active staff only, anyone else gets a 404. What an
account manager may do (add to their own list only) is decided by wizard.access and enforced
by the service, which the management command `import_partners` shares.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from wizard import access, selectors, services
from wizard.errors import UserFacingError
from wizard.forms import PartnerForm, PartnerImportConfirmForm, PartnerImportForm
from wizard.services import partner_import as importing


def _staff_or_404(request: HttpRequest) -> None:
    if not access.can_add_partners(request.user):
        raise Http404("Not found.")


def _accept_url(request: HttpRequest) -> Any:
    return lambda token: request.build_absolute_uri(reverse("invitation_accept", args=[token]))


@login_required
@require_http_methods(["GET", "POST"])
def partner_new(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    choose = access.may_assign_any_manager(request.user)
    managers = selectors.account_managers() if choose else None
    form = PartnerForm(
        request.POST if request.method == "POST" else None,
        managers=managers,
        initial={"account_manager": request.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        manager = form.cleaned_data["account_manager"] if choose else request.user
        try:
            tenant = services.partner_add(
                name=form.cleaned_data["name"],
                owner_email=form.cleaned_data["owner_email"],
                account_manager=manager,
                user=request.user,
                accept_url=_accept_url(request),
            )
        except services.PartnerExists as e:  # added a moment ago (a double click)
            form.existing = e.tenant
            form.add_error("name", e.message)
        except services.PartnerRefused as e:
            form.add_error(e.field or None, e.message)
        except UserFacingError as e:
            form.add_error(None, e.message)
        else:
            messages.success(
                request,
                f"{tenant.name} was added. An invitation went to "
                f"{form.cleaned_data['owner_email'].strip().lower()}: accepting it makes them "
                "the partner's owner.",
            )
            return redirect("manage:tenant", tenant.code)
    existing = form.existing
    # A link only to a partner this person may open; others would meet a 404.
    if existing is not None and not access.staff_tenants(request.user).filter(pk=existing.pk):
        existing = None
    return render(
        request,
        "manage/partner_new.html",
        {"form": form, "choose": choose, "existing": existing},
    )


def _preview(
    request: HttpRequest,
    plan: services.ImportPlan,
    *,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    existing = [r.existing.pk for r in plan.existing if r.existing is not None]
    return render(
        request,
        "manage/partner_import.html",
        {
            "form": PartnerImportForm(),
            "plan": plan,
            # Existing partners are linked only where this person may open them.
            "visible": set(
                access.staff_tenants(request.user)
                .filter(pk__in=existing)
                .values_list("pk", flat=True)
            ),
            "token": services.preview_token(plan, importer=request.user),
            "notice": notice,
            **_import_context(request),
        },
        status=status,
    )


def _import_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "columns": importing.COLUMNS,
        "max_rows": f"{importing.MAX_ROWS:,}",
        "choose": access.may_assign_any_manager(request.user),
    }


@login_required
@require_http_methods(["GET", "POST"])
def partner_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: the preview of the file, with nothing created yet."""
    _staff_or_404(request)
    form = PartnerImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # Never more than one byte past the limit in memory: enough to refuse a big file.
            content = services.import_read(
                upload.read(importing.MAX_FILE_BYTES + 1), size=upload.size
            )
            plan = services.import_plan(content=content, importer=request.user)
        except services.ImportRefused as e:
            form.add_error("file", e.message)
        else:
            return _preview(request, plan)
    return render(
        request,
        "manage/partner_import.html",
        {"form": form, "plan": None, **_import_context(request)},
    )


@login_required
@require_POST
def partner_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import exactly the file the preview showed, if it still does what the preview said."""
    _staff_or_404(request)
    form = PartnerImportConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "This confirmation is incomplete. Upload the file again.")
        return redirect("manage:partner_import")
    try:
        content, fingerprint = services.preview_from_token(
            form.cleaned_data["preview"], importer=request.user
        )
        result = services.import_run(
            content=content,
            importer=request.user,
            accept_url=_accept_url(request),
            expected=fingerprint,
            skip_errors=form.cleaned_data["skip_errors"],
        )
    except services.ImportChanged as e:
        return _preview(request, e.plan, notice=e.message, status=409)
    except services.ImportRefused as e:
        messages.error(request, e.message)
        return redirect("manage:partner_import")
    messages.success(request, _summary(result))
    if result.mail_failed:
        names = ", ".join(r.name for r in result.mail_failed[:10])
        more = len(result.mail_failed) - 10
        messages.warning(
            request,
            f"{len(result.mail_failed)} invitation email(s) could not be sent ({names}"
            f"{f' and {more} more' if more > 0 else ''}). Those partners were added: invite "
            "their owners from each partner's page.",
        )
    return redirect("manage:dashboard")


def _summary(result: services.ImportResult) -> str:
    created = len(result.created)
    parts = [
        f"{created} partner{'s' if created != 1 else ''} created"
        + (" and their owners invited" if created else "")
    ]
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped because they exist already")
    if result.not_imported:
        parts.append(f"{len(result.not_imported)} line(s) with errors not imported")
    return "Import done: " + "; ".join(parts) + "."
