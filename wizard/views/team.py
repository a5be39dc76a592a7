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
from wizard.models import STAFF_NEVER_MEMBERS, Membership


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
    except (services.MailNotSent, services.InvitationRefused) as e:
        messages.error(request, str(e))
        return False
    messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    return True


# The token travels in the mailed link, /invite/<token>/, and nowhere else. That address only
# puts the token in the session and sends the browser on to /invite/, which does the rest: so
# the token is never in the address of a page that is shown, refused or logged (Django logs
# the path of every 4xx answer, "Forbidden: /invite/…"), nor in a Referer header sent from it.
# The access log line of the link itself is redacted by wizard.logging.
INVITATION_SESSION_KEY = "invitation_token"


@require_http_methods(["GET", "POST"])
def accept_link(request: HttpRequest, token: str) -> HttpResponse:
    request.session[INVITATION_SESSION_KEY] = token
    response = redirect("invitation")
    if request.method == "POST":
        response.status_code = 307  # a form posted here before this change keeps its data
    response["Referrer-Policy"] = "no-referrer"
    return response


def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "invitation/invalid.html", {"reason": reason}, status=status)


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest) -> HttpResponse:
    """Accept an invitation: joins the logged-in user, or creates the account first."""
    token = request.session.get(INVITATION_SESSION_KEY)
    if not token:
        return _refused(
            request,
            "No invitation is open in this browser. Open the link from your invitation email "
            "again.",
            410,
        )
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationInvalid as e:
        request.session.pop(INVITATION_SESSION_KEY, None)
        return _refused(request, str(e), 410)
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
                    "login_url": f"{reverse('login')}?next={reverse('invitation')}",
                },
            )
        signup = UserCreationForm(request.POST if request.method == "POST" else None)
    elif services.is_staff_account(user):
        return _refused(
            request,
            f"You are logged in with a staff account ({user.get_username()}). "
            f"{STAFF_NEVER_MEMBERS} Log out, then open the link again with the partner "
            "account it was meant for.",
            403,
        )
    if user.is_authenticated and (user.email or "").lower() != invitation.email:
        # A forwarded link must not let someone else into the tenant.
        return _refused(
            request,
            f"This invitation is for {invitation.email}, but you are logged in as "
            f"{user.email or user.get_username()}. Log out, then open the link again, or ask "
            "for an invitation to your own address.",
            403,
        )
    if request.method == "POST":
        try:
            if signup is not None:
                if not signup.is_valid():
                    return render(
                        request,
                        "invitation/accept.html",
                        {"invitation": invitation, "signup": signup},
                    )
                membership = services.invitation_signup(
                    invitation=invitation,
                    username=signup.cleaned_data["username"],
                    password=signup.cleaned_data["password1"],
                )
                login(
                    request,
                    membership.user,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
            else:
                services.invitation_accept(invitation=invitation, user=user)
        except services.InvitationInvalid as e:
            return _refused(request, str(e), 410)
        except services.InvitationRefused as e:
            return _refused(request, str(e), 403)
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, f"Welcome to {invitation.tenant.name}.")
        return redirect("wizard:resume", invitation.tenant.code)
    return render(request, "invitation/accept.html", {"invitation": invitation, "signup": signup})
