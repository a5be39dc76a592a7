"""The API user's credentials (the Secret encrypted) and the lockout safety around them."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.debug import sensitive_variables

from wizard import crypto, steps
from wizard.facts import USERS_PATH
from wizard.models import (
    AuditEvent,
    AutotaskCredential,
    StepProgress,
    Tenant,
)
from wizard.services.audit import Actor, actor_of, audit
from wizard.services.errors import (
    CREDENTIALS_CHANGED,
    AutotaskPaused,
    EditConflict,
)
from wizard.services.progress import clear_results, evaluate_and_save, finish, lock_step

logger = logging.getLogger(__name__)


@sensitive_variables("secret")
def credentials_save(
    *,
    tenant: Tenant,
    user: Actor,
    username: str | None,
    secret: str | None,
    seen_username: str | None = None,
    stamp: str | None = None,
) -> None:
    """Store the API username and, when given, a new Secret (encrypted before it is stored).

    The Username lives only here (AutotaskCredential), also before any Secret is given (the
    row then has an empty ``secret_encrypted``). Changing either invalidates every earlier
    verification: it may be another Autotask. ``username`` None keeps the stored one.

    What the person's page showed, when the form carried it: ``seen_username``, and ``stamp``
    (crypto.credentials_stamp of the credentials then stored). EditConflict, storing nothing,
    when a colleague saved another Username meanwhile, or new credentials before this Secret.
    """
    with transaction.atomic():
        # The step that asks for the credentials (its state follows them).
        progress = lock_step(tenant, steps.REGISTRY.asking("username").key)
        cred = AutotaskCredential.objects.select_for_update().filter(tenant=tenant).first()
        stored = cred.username if cred is not None else ""
        conflicts: dict[str, object] = {}
        if (
            username is not None
            and seen_username is not None
            and stored not in (seen_username, username)
        ):
            conflicts["username"] = stored
        now = crypto.credentials_stamp(
            *((cred.username, cred.secret_encrypted) if cred else (None, None))
        )
        if secret is not None and stamp is not None and not constant_time_compare(stamp, now):
            conflicts["secret"] = True
        if conflicts:
            raise EditConflict(conflicts, CREDENTIALS_CHANGED if "secret" in conflicts else None)
        username = stored if username is None else username
        if cred is None:
            cred = AutotaskCredential(tenant=tenant, username=username, secret_encrypted="")
        elif cred.username == username and secret is None:
            return
        new_credentials = cred.username != username or (
            secret is not None and not _same_secret(cred, secret)
        )
        if cred.username != username:
            cred.zone = None  # another API user may live in another zone
        cred.username = username
        if secret is not None:
            cred.secret_encrypted = crypto.encrypt_secret(secret)
        cred.updated_by = actor_of(user)
        cred.save()
        # New credentials deserve a daily re-check again.
        Tenant.objects.filter(pk=tenant.pk).update(credentials_refused_at=None)
        if new_credentials:
            _one_attempt(tenant)
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.CREDENTIALS_SAVED,
            step_key=progress.step_key,
            # The username is not secret; the Secret never enters the audit trail.
            detail={"username": username, "secret_replaced": secret is not None},
        )
        # In wizard order, each row evaluated once: finish() would re-evaluate the summary
        # step (the review) from a fresh row and then again from this loop's older copy,
        # writing its state change twice. The credential step's finish() below re-evaluates
        # the summary once more, on everyone's new states.
        others = {
            p.step_key: p for p in StepProgress.objects.select_for_update().filter(tenant=tenant)
        }
        for step in steps.REGISTRY:
            other = others.get(step.key)
            if other is None or other.pk == progress.pk:
                continue
            if step.verifies and other.check_results:
                clear_results(other)
                other.tenant = tenant
                evaluate_and_save(other, user)
        clear_results(progress)
        finish(progress, user)


AUTH_FAILURES_BEFORE_PAUSE = 2
AUTH_PAUSE = datetime.timedelta(minutes=15)


@sensitive_variables("secret")
def _same_secret(cred: AutotaskCredential, secret: str) -> bool:
    """Whether ``secret`` is the one already stored (typed again: not new credentials)."""
    if not cred.secret_encrypted:
        return False
    try:
        return crypto.decrypt_secret(cred.secret_encrypted) == secret
    except crypto.SecretUnreadable:
        return False


def _one_attempt(tenant: Tenant) -> None:
    """Lift the pause for new credentials, for one attempt only.

    The pause guards against sending the same refused credentials again, not against a
    person who fixed them: the new ones may be tried at once. The count stays one short of
    the pause, so if they are refused too the pause applies again straight away.
    """
    row = Tenant.objects.select_for_update().only("auth_failures").get(pk=tenant.pk)
    Tenant.objects.filter(pk=tenant.pk).update(
        auth_failures=min(row.auth_failures, AUTH_FAILURES_BEFORE_PAUSE - 1),
        auth_paused_until=None,
    )


def check_auth_pause(tenant: Tenant, purpose: str = "verify") -> None:
    """Raise AutotaskPaused while the pause lasts, saying why and until when (for the
    customer search, in the search's own words)."""
    until = Tenant.objects.filter(pk=tenant.pk).values_list("auth_paused_until", flat=True)[0]
    now = timezone.now()
    if until is None or until <= now:
        return
    minutes = max(1, round((until - now).total_seconds() / 60))
    when = f"in {minutes} minute{'s' if minutes != 1 else ''}, at {until:%H:%M} UTC"
    fix = (
        f"To try at once, save the corrected Username or Secret in {steps.ref('api-user')}: "
        "new credentials get one attempt straight away."
    )
    if purpose == "search":
        raise AutotaskPaused(
            "The customer search is paused: Autotask refused this API user's credentials twice "
            "in a row, and Autotask locks a user after repeated failed logins. You can search "
            f"again {when}. {fix}",
            until=until,
        )
    raise AutotaskPaused(
        "Autotask refused this API user's credentials twice in a row. Autotask locks a user "
        "after repeated failed logins, so the wizard will not send them again until the pause "
        f"ends: you can verify again {when}. {fix} If the user is already locked, open it in "
        f"Autotask ({USERS_PATH}), go to its Security tab, untick Locked, make sure Active is "
        "ticked, and save.",
        until=until,
    )


def record_auth_outcome(
    tenant: Tenant, *, rejected: bool, accepted: bool, refused: bool | None = None
) -> None:
    """Count a refused Secret towards the pause; remember any refusal of the stored
    credentials (``refused``, default: ``rejected``) so the daily re-check stops sending them."""
    refused = rejected if refused is None else refused
    if rejected:
        with transaction.atomic():
            # Locked, so two failures at the same moment both count.
            row = Tenant.objects.select_for_update().only("auth_failures").get(pk=tenant.pk)
            failures = row.auth_failures + 1
            paused = timezone.now() + AUTH_PAUSE if failures >= AUTH_FAILURES_BEFORE_PAUSE else None
            Tenant.objects.filter(pk=tenant.pk).update(
                auth_failures=failures, auth_paused_until=paused
            )
        if paused is not None:
            logger.warning("credential tests paused tenant=%s until=%s", tenant.code, paused)
    elif accepted:
        Tenant.objects.filter(pk=tenant.pk).update(
            auth_failures=0, auth_paused_until=None, credentials_refused_at=None
        )
    if refused:
        # The first refusal is the date that counts: keep it.
        Tenant.objects.filter(pk=tenant.pk, credentials_refused_at__isnull=True).update(
            credentials_refused_at=timezone.now()
        )
