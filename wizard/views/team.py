"""A tenant's team (members, invitations) and accepting an invitation."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from wizard import access, selectors, services
from wizard.forms import InvitationForm
from wizard.models import Membership


@login_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    tenant = access.tenant_for_member(request.user, code)
    can_invite = access.can_invite(request.user, tenant)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_invite:
            messages.error(request, "Only an owner of this tenant can invite people.")
            return redirect("wizard:team", tenant.code)
        if form.is_valid():
            send_invitation(request, tenant, form)
            return redirect("wizard:team", tenant.code)
    return render(
        request,
        "wizard/team.html",
        {
            "tenant": tenant,
            "overview": selectors.wizard_overview(tenant),
            "members": Membership.objects.filter(tenant=tenant).select_related("user"),
            "invitations": services.invitations_pending(tenant),
            "can_invite": can_invite,
            "form": form,
        },
    )


def send_invitation(request: HttpRequest, tenant: Any, form: InvitationForm) -> bool:
    """Create and mail an invitation from a valid form; say how it went."""
    try:
        services.invitation_create(
            tenant=tenant,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            user=request.user,
            accept_url=lambda token: request.build_absolute_uri(
                reverse("invitation_accept", args=[token])
            ),
        )
    except services.MailNotSent as e:
        messages.error(request, str(e))
        return False
    messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    return True


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: joins the logged-in user, or creates the account first."""
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationInvalid as e:
        return render(request, "invitation/invalid.html", {"reason": str(e)}, status=410)
    user = request.user
    signup: UserCreationForm[Any] | None = None
    if not user.is_authenticated:
        existing = get_user_model().objects.filter(email__iexact=invitation.email).exists()
        if existing:
            return render(
                request,
                "invitation/accept.html",
                {
                    "invitation": invitation,
                    "login_first": True,
                    "login_url": f"{reverse('login')}?next={request.path}",
                },
            )
        signup = UserCreationForm(request.POST if request.method == "POST" else None)
    if user.is_authenticated and (user.email or "").lower() != invitation.email:
        # A forwarded link must not let someone else into the tenant.
        return render(
            request,
            "invitation/invalid.html",
            {
                "reason": f"This invitation is for {invitation.email}, but you are logged in as "
                f"{user.email or user.get_username()}. Log out, then open the link again, or ask "
                "for an invitation to your own address."
            },
            status=403,
        )
    if request.method == "POST":
        if signup is not None:
            if not signup.is_valid():
                return render(
                    request, "invitation/accept.html", {"invitation": invitation, "signup": signup}
                )
            new_user = signup.save(commit=False)
            new_user.email = invitation.email
            new_user.save()
            login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            user = new_user
        try:
            services.invitation_accept(invitation=invitation, user=user)
        except services.InvitationInvalid as e:
            return render(request, "invitation/invalid.html", {"reason": str(e)}, status=410)
        messages.success(request, f"Welcome to {invitation.tenant.name}.")
        return redirect("wizard:resume", invitation.tenant.code)
    return render(request, "invitation/accept.html", {"invitation": invitation, "signup": signup})
