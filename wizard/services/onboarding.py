"""Bringing partners in: one at a time (/manage/partners/new/), or many from a CSV file (the
import page and ``python manage.py import_partners``).

All three share this module: the same checks of a name, an owner's address and an account
manager, and the same creation (the tenant, its progress rows, an Owner invitation, the audit
entries). An import is idempotent: a partner whose name exists already is skipped, so importing
one file twice creates nothing the second time. A partner's name is unique in the database
(``Tenant.name_key``), so neither a double click nor two imports at the same moment can add
one twice.
The import itself (reading a file, its preview, the confirmed run) is services.partner_import.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from wizard import access, selectors, steps
from wizard.models import (
    AuditEvent,
    Invitation,
    Membership,
    StepProgress,
    Tenant,
    partner_name_key,
)
from wizard.services.audit import Actor, actor_of, audit, audit_many
from wizard.services.errors import (
    MailNotSent,
    PartnerExists,
    PartnerRefused,
)
from wizard.services.team import invitation_mail, staff_address_refusal

logger = logging.getLogger(__name__)

NAME_MAX = 200  # Tenant.name
EMAIL_MAX = 254  # RFC 5321's limit on a path, Django's EmailField

AcceptUrl = Callable[[str], str]


# --- one value at a time ----------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """The name as stored: white space collapsed. PartnerRefused says what is wrong."""
    if "\x00" in raw:
        raise PartnerRefused(
            "The name contains a NUL character, which cannot be stored. Type the name again.",
            field="name",
        )
    name = " ".join(raw.split())
    if not name:
        raise PartnerRefused("Give the partner's name.", field="name")
    if len(name) > NAME_MAX:
        raise PartnerRefused(
            f"The name is {len(name):,} characters long; the limit is {NAME_MAX}. Shorten it.",
            field="name",
        )
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise PartnerRefused(
            "The name contains a control character. Type it again without it.", field="name"
        )
    return name


def clean_owner_email(raw: str, staff_emails: frozenset[str]) -> str:
    """The first owner's address, lower case. Never a staff account's (docs/security.md)."""
    if "\x00" in raw:
        raise PartnerRefused(
            "The email address contains a NUL character. Type it again.", field="owner_email"
        )
    email = raw.strip()
    if not email:
        raise PartnerRefused("Give the first owner's email address.", field="owner_email")
    try:
        if len(email) > EMAIL_MAX:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError as e:
        shown = email if len(email) <= 80 else email[:77] + "..."
        raise PartnerRefused(
            f"{shown!r} is not a valid email address. Give the address as name@example.com.",
            field="owner_email",
        ) from e
    email = email.lower()
    if email in staff_emails:
        raise PartnerRefused(staff_address_refusal(email), field="owner_email")
    return email


def resolve_manager(ref: str, *, importer: Actor, directory: selectors.StaffDirectory) -> Any:
    """The account manager a row names (a staff username or e-mail); the importer if empty.

    Someone who may not assign others (access.may_assign_any_manager) may name only themselves.
    """
    ref = ref.strip()
    if "\x00" in ref:
        raise PartnerRefused(
            "The account manager contains a NUL character.", field="account_manager"
        )
    if not ref:
        if importer is None:
            raise PartnerRefused(
                "Give the account manager: the username or email of a staff account.",
                field="account_manager",
            )
        return importer
    manager = directory.by_username.get(ref.lower())
    if manager is None:
        matches = directory.by_email.get(ref.lower(), [])
        if len(matches) > 1:
            raise PartnerRefused(
                f"More than one staff account has the address {ref}; give the username instead.",
                field="account_manager",
            )
        manager = matches[0] if matches else None
    if manager is None:
        shown = ref if len(ref) <= 80 else ref[:77] + "..."
        raise PartnerRefused(
            f"No active staff account is called {shown!r}. Give the username or email of an "
            "account manager.",
            field="account_manager",
        )
    if (
        importer is not None
        and not access.may_assign_any_manager(importer)
        and manager.pk != importer.pk
    ):
        raise PartnerRefused(
            f"You can add partners only to your own list, and this names {ref}. Put your own "
            "username, or leave it empty; an admin can add partners for colleagues.",
            field="account_manager",
        )
    return manager


def exists_message(tenant: Tenant) -> str:
    manager = tenant.account_manager.get_username() if tenant.account_manager else "nobody"
    return f"A partner named {tenant.name!r} exists already (account manager: {manager})."


# --- creating ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPartner:
    name: str
    owner_email: str
    manager: Any


def create_partners(
    partners: list[NewPartner], *, user: Actor, via: str
) -> list[tuple[Tenant, Invitation]]:
    """Inside the caller's transaction: the tenants, their progress rows, one Owner invitation
    each and their "Partner added" entries, in four INSERTs whatever the number of partners.

    IntegrityError if a name was taken meanwhile (Tenant.name_key): the caller's transaction
    then creates nothing.
    """
    actor = actor_of(user)
    tenants = Tenant.objects.bulk_create(
        [
            Tenant(name=p.name, name_key=partner_name_key(p.name), account_manager=p.manager)
            for p in partners
        ]
    )
    # As tenant_create: a row per step from the start, so that later writes only lock rows.
    StepProgress.objects.bulk_create(
        [StepProgress(tenant=t, step_key=key) for t in tenants for key in steps.STEP_KEYS]
    )
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(tenant=t, email=p.owner_email, role=Membership.Role.OWNER, invited_by=actor)
            for t, p in zip(tenants, partners, strict=True)
        ]
    )
    audit_many(
        [
            AuditEvent(
                tenant=t,
                actor=actor,
                action=AuditEvent.Action.PARTNER_ADDED,
                detail={
                    "name": t.name,
                    "account_manager": p.manager.get_username() if p.manager else "",
                    "via": via,
                },
            )
            for t, p in zip(tenants, partners, strict=True)
        ]
    )
    return list(zip(tenants, invitations, strict=True))


def partner_add(
    *, name: str, owner_email: str, account_manager: Any, user: Actor, accept_url: AcceptUrl
) -> Tenant:
    """Add one partner and invite its first owner (the invitation makes them Owner).

    All or nothing: if the invitation mail cannot be sent, the partner is not added either
    (MailNotSent). PartnerExists for a name in use, PartnerRefused for anything else.
    """
    directory = selectors.staff_directory()
    name = clean_name(name)
    email = clean_owner_email(owner_email, directory.staff_emails)
    # The page offers only what is allowed; this holds for any other caller too.
    if account_manager is None or not access.is_staff(account_manager):
        raise PartnerRefused(
            "Choose an active staff account as the account manager.", field="account_manager"
        )
    if (
        user is not None
        and not access.may_assign_any_manager(user)
        and account_manager.pk != user.pk
    ):
        raise PartnerRefused(
            "You can add partners only to your own list; an admin can add partners for colleagues.",
            field="account_manager",
        )
    existing = selectors.partners_named({partner_name_key(name)})
    if existing:
        tenant = next(iter(existing.values()))
        raise PartnerExists(exists_message(tenant), tenant=tenant)
    try:
        with transaction.atomic():
            # The same creation as an import's, for one partner.
            ((tenant, invitation),) = create_partners(
                [NewPartner(name, email, account_manager)], user=user, via="form"
            )
            # One mail, sent inside the transaction so that a refused mail undoes the partner.
            if not invitation_mail(invitation, user=user, accept_url=accept_url):
                raise MailNotSent("The invitation email could not be sent.")
            audit(
                tenant=tenant,
                user=user,
                action=AuditEvent.Action.INVITATION_SENT,
                detail={"email": invitation.email, "role": invitation.role},
            )
    except IntegrityError as e:
        # A double click, or a colleague a moment faster: the name is taken now.
        taken = selectors.partners_named({partner_name_key(name)})
        if not taken:
            raise
        tenant = next(iter(taken.values()))
        raise PartnerExists(exists_message(tenant), tenant=tenant) from e
    except MailNotSent as e:
        raise MailNotSent(
            "The invitation email could not be sent, so the partner was not added. Try again in "
            "a few minutes; if it keeps failing, tell your administrator."
        ) from e
    return tenant
