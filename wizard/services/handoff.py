"""The hand-off to Billing Sync, mailed to the tenant's account manager when the tenant
finishes: once for each hand-off, never again for a re-verification that changes nothing."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from wizard import selectors
from wizard.models import AuditEvent, Tenant
from wizard.services.audit import audit
from wizard.services.mail import send_template

logger = logging.getLogger(__name__)


def handoff_mail_if_new(tenant_id: int) -> None:
    """In the writer's transaction, once every step is finished: claim this hand-off for
    mailing and send it after the commit.

    The claim is one conditional UPDATE of the tenant's ``handoff_mailed_digest``: of two
    writers finishing the tenant at the same moment, one mails. A daily re-verification finds
    the same digest stored and mails nothing; a setup changed and finished again mails anew.
    """
    tenant = Tenant.objects.select_related("account_manager").get(pk=tenant_id)
    manager = tenant.account_manager
    if manager is None or not manager.email:
        return
    handoff = selectors.handoff(tenant)
    if handoff is None:
        return
    digest = handoff.digest()
    claimed = (
        Tenant.objects.filter(pk=tenant_id)
        .exclude(handoff_mailed_digest=digest)
        .update(handoff_mailed_digest=digest)
    )
    if claimed:
        email = manager.email
        transaction.on_commit(lambda: _send(tenant, handoff, email))


def _send(tenant: Tenant, handoff: selectors.Handoff, email: str) -> None:
    context = {
        "tenant": tenant,
        "handoff": handoff,
        "staff_link": settings.SITE_URL + reverse("manage:tenant", args=[tenant.code]),
    }
    sent = send_template("handoff", context, [email])
    # Recorded either way: the trail shows whether the account manager got it.
    audit(
        tenant=tenant,
        user=None,
        action=AuditEvent.Action.HANDOFF_MAILED,
        detail={"to": "account manager", "sent": sent},
    )
