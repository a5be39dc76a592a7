"""Invitations: a signed link that expires and works once. Staff are never members."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from wizard.models import (
    STAFF_NEVER_MEMBERS,
    AuditEvent,
    Invitation,
    Membership,
    Tenant,
)
from wizard.services.audit import Actor, actor_of, audit
from wizard.services.errors import (
    InvitationInvalid,
    InvitationRefused,
    MailNotSent,
)
from wizard.services.mail import send_template
from wizard.services.tenants import is_staff_account, membership_add

logger = logging.getLogger(__name__)


INVITATION_SALT = "wizard.invitation"
INVITATION_MAX_AGE = datetime.timedelta(days=7)


def _staff_email(email: str) -> bool:
    return (
        get_user_model()
        .objects.filter(email__iexact=email.strip())
        .filter(Q(is_staff=True) | Q(is_superuser=True))
        .exists()
    )


def staff_address_refusal(email: str) -> str:
    """What an inviter reads when the address is a staff account's (one sentence everywhere)."""
    return (
        f"{email.strip()} belongs to a staff account. {STAFF_NEVER_MEMBERS} Invite someone "
        "from the partner's own team."
    )


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk}, salt=INVITATION_SALT)


def invitation_mail(
    invitation: Invitation, *, user: Actor, accept_url: Any, connection: Any = None
) -> bool:
    """Mail the invitation's link; False if the mail server refused it."""
    who = user.get_username() if user is not None and user.is_authenticated else "Your team"
    return send_template(
        "invitation",
        {
            "who": who,
            "tenant": invitation.tenant,
            "days": INVITATION_MAX_AGE.days,
            "link": accept_url(invitation_token(invitation)),
        },
        [invitation.email],
        connection=connection,
    )


def invitation_create(
    *, tenant: Tenant, email: str, role: str, user: Actor, accept_url: Any
) -> Invitation:
    """Create the invitation and mail its link. ``accept_url(token)`` builds the absolute URL.

    Refused (InvitationRefused) for a staff member's address: an account manager who invited
    themselves would become an owner, with the partner's Secret in reach, and would keep that
    after being reassigned.
    """
    if _staff_email(email):
        raise InvitationRefused(staff_address_refusal(email))
    invitation = Invitation.objects.create(
        tenant=tenant, email=email.strip().lower(), role=role, invited_by=actor_of(user)
    )
    if not invitation_mail(invitation, user=user, accept_url=accept_url):
        # An invitation nobody received is worse than none: undo it and say so.
        invitation.delete()
        raise MailNotSent(
            "The invitation email could not be sent, so no invitation was created. Try again "
            "in a few minutes; if it keeps failing, tell your administrator."
        )
    audit(
        tenant=tenant,
        user=user,
        action=AuditEvent.Action.INVITATION_SENT,
        detail={"email": invitation.email, "role": role},
    )
    return invitation


def invitations_pending(tenant: Tenant) -> Any:
    """Invitations not yet accepted and not yet expired."""
    return Invitation.objects.filter(
        tenant=tenant, accepted_at=None, created_at__gt=timezone.now() - INVITATION_MAX_AGE
    )


def invitation_from_token(token: str) -> Invitation:
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=INVITATION_MAX_AGE)
    except signing.SignatureExpired as e:
        raise InvitationInvalid(
            "This invitation has expired. Ask whoever invited you to send a new one."
        ) from e
    except signing.BadSignature as e:
        raise InvitationInvalid(
            "This invitation link is not valid. Check it was copied whole."
        ) from e
    invitation = Invitation.objects.select_related("tenant").filter(pk=data.get("i")).first()
    if invitation is None:
        raise InvitationInvalid("This invitation was withdrawn.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation was already used. Log in instead.")
    return invitation


def _invitation_claim(invitation: Invitation) -> Invitation:
    """Mark the invitation used, in one conditional UPDATE; only one caller ever wins.

    Runs first in the caller's transaction: on PostgreSQL a concurrent claim waits for the row
    and then finds it taken; on SQLite the write lock serialises them the same way. Anything
    the caller does afterwards (creating the account, the membership) rolls back with the claim.
    """
    now = timezone.now()
    if not Invitation.objects.filter(pk=invitation.pk, accepted_at=None).update(accepted_at=now):
        if not Invitation.objects.filter(pk=invitation.pk).exists():
            raise InvitationInvalid("This invitation was withdrawn.")
        raise InvitationInvalid("This invitation was already used. Log in instead.")
    return Invitation.objects.select_related("tenant").get(pk=invitation.pk)


def _invitation_join(invitation: Invitation, user: Any) -> Membership:
    """Inside the claiming transaction: record who accepted, add the membership, audit."""
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    existing = Membership.objects.filter(tenant=invitation.tenant, user=user).first()
    # Never downgrade an owner who follows a member invitation.
    role = (
        Membership.Role.OWNER
        if existing and existing.role == Membership.Role.OWNER
        else invitation.role
    )
    membership = membership_add(tenant=invitation.tenant, user=user, role=role, actor=user)
    audit(
        tenant=invitation.tenant,
        user=user,
        action=AuditEvent.Action.INVITATION_ACCEPTED,
        detail={"email": invitation.email, "role": role},
    )
    return membership


def invitation_accept(*, invitation: Invitation, user: Any) -> Membership:
    """An existing account joins. Staff are refused (InvitationRefused)."""
    if is_staff_account(user):
        raise InvitationRefused(
            f"You are logged in with a staff account ({user.get_username()}). "
            f"{STAFF_NEVER_MEMBERS} Log out, then open the link again with the partner account "
            "it was meant for."
        )
    with transaction.atomic():
        return _invitation_join(_invitation_claim(invitation), user)


@sensitive_variables("password")
def invitation_signup(*, invitation: Invitation, username: str, password: str) -> Membership:
    """Create the invited person's account and membership, in the transaction that claims the
    invitation: of several sign-ups on one link at the same moment, one creates an account and
    the others create nothing and are told the link was used.

    The account gets the invited address: whoever holds the link was sent it at that address.
    """
    if _staff_email(invitation.email):
        raise InvitationRefused(
            f"{invitation.email} belongs to a staff account. {STAFF_NEVER_MEMBERS}"
        )
    with transaction.atomic():
        claimed = _invitation_claim(invitation)
        user = get_user_model().objects.create_user(
            username=username, email=claimed.email, password=password
        )
        return _invitation_join(claimed, user)
