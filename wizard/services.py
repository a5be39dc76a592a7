"""Writes. Every change to a tenant's progress goes through here, under a row lock, and every
change of a step's state leaves an AuditEvent.

Concurrency: two colleagues may work on the same step at once. Each write locks the step's
row, applies only what this user changed (answers field by field, checklist ticks item by
item) and refuses, with EditConflict, to overwrite a value a colleague saved meanwhile.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from wizard import checks, crypto, evaluation, steps
from wizard.autotask import (
    AuthenticationFailed,
    AutotaskClient,
    Credentials,
    Zone,
    build_session,
)
from wizard.autotask.dates import is_time_zone, local_date, today_in
from wizard.autotask.limits import Limiter
from wizard.autotask.sandbox import default_sandbox, install_sandbox
from wizard.cache_mapping import CacheMapping
from wizard.cache_slots import slot_store
from wizard.evaluation import evaluate
from wizard.models import (
    STAFF_NEVER_MEMBERS,
    AuditEvent,
    AutotaskCredential,
    Invitation,
    Membership,
    StepProgress,
    StepState,
    Tenant,
)

Actor = AbstractBaseUser | AnonymousUser | None
logger = logging.getLogger(__name__)


class EditConflict(Exception):
    """A colleague saved a different value for a field this user also changed."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(f"conflicting fields: {', '.join(fields)}")
        # field name -> the value now stored (the colleague's).
        self.fields = fields


class SkipNotAllowed(Exception):
    pass


def _actor(user: Actor) -> Any:
    return user if user is not None and user.is_authenticated else None


def audit(
    *, tenant: Tenant, user: Actor, action: str, step_key: str = "", detail: dict[str, Any] | None
) -> AuditEvent:
    return AuditEvent.objects.create(
        tenant=tenant, actor=_actor(user), action=action, step_key=step_key, detail=detail or {}
    )


def tenant_create(
    *, name: str, owner: Any = None, account_manager: Any = None, time_zone: str = ""
) -> Tenant:
    """A new tenant with one progress row per step (so later writes only ever lock rows)."""
    if time_zone and not is_time_zone(time_zone):
        raise ValueError(f"Unknown time zone {time_zone!r}.")
    with transaction.atomic():
        tenant = Tenant.objects.create(
            name=name, account_manager=account_manager, time_zone=time_zone
        )
        StepProgress.objects.bulk_create(
            [StepProgress(tenant=tenant, step_key=key) for key in steps.STEP_KEYS]
        )
        if owner is not None:
            membership_add(tenant=tenant, user=owner, role=Membership.Role.OWNER, actor=None)
    return tenant


class StaffNotMember(Exception):
    """A staff account would have become a member (and could then read or replace the Secret)."""


def is_staff_account(user: Any) -> bool:
    return bool(user.is_staff or user.is_superuser)


def membership_add(*, tenant: Tenant, user: Any, role: str, actor: Actor) -> Membership:
    if is_staff_account(user):
        raise StaffNotMember(f"{user.get_username()} is a staff account. {STAFF_NEVER_MEMBERS}")
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    audit(
        tenant=tenant,
        user=actor,
        action=AuditEvent.Action.MEMBER_ADDED,
        detail={"user": user.get_username(), "role": role},
    )
    return membership


def _lock(tenant: Tenant, step_key: str) -> StepProgress:
    if step_key not in steps.STEPS_BY_KEY:
        raise KeyError(step_key)
    progress, _ = StepProgress.objects.select_for_update().get_or_create(
        tenant=tenant, step_key=step_key
    )
    return progress


def _has_credentials(tenant: Tenant) -> bool:
    return AutotaskCredential.objects.filter(tenant=tenant).exists()


def _unfinished_before(progress: StepProgress) -> list[str]:
    if progress.step_key != "review":
        return []
    states = dict(
        StepProgress.objects.filter(tenant_id=progress.tenant_id)
        .exclude(step_key="review")
        .values_list("step_key", "state")
    )
    return [
        s.title
        for s in steps.STEPS[:-1]
        if states.get(s.key) not in (StepState.DONE, StepState.SKIPPED)
    ]


def _evaluate_and_save(progress: StepProgress, user: Actor) -> None:
    old_state = progress.state
    result = evaluate(
        progress.step,
        state=progress.state,
        answers=progress.answers,
        checklist=progress.checklist,
        check_results=progress.check_results,
        has_credentials=_has_credentials(progress.tenant),
        unfinished_before=_unfinished_before(progress),
        time_zone_set=bool(progress.tenant.time_zone),
    )
    progress.state = result.state
    progress.version += 1
    progress.updated_by = _actor(user)
    progress.save()
    if result.state != old_state:
        audit(
            tenant=progress.tenant,
            user=user,
            action=AuditEvent.Action.STATE_CHANGED,
            step_key=progress.step_key,
            detail={"from": old_state, "to": result.state},
        )


def _finish(progress: StepProgress, user: Actor) -> StepProgress:
    """Recompute the state from the stored facts, save, audit a state change, touch the tenant."""
    _evaluate_and_save(progress, user)
    if progress.step_key != "review":
        # The review's state depends on every earlier step: keep it in line.
        review = (
            StepProgress.objects.select_for_update()
            .filter(tenant_id=progress.tenant_id, step_key="review")
            .first()
        )
        if review is not None and (review.answers or review.checklist or review.check_results):
            review.tenant = progress.tenant
            _evaluate_and_save(review, user)
    tenant_summary_refresh(progress.tenant_id)
    return progress


def tenant_summary_refresh(tenant_id: int, *, touch: bool = True) -> None:
    """Recompute the tenant's dashboard summary from its progress rows (one read, one write)."""
    rows: dict[str, dict[str, Any]] = {
        p["step_key"]: dict(p)
        for p in StepProgress.objects.filter(tenant_id=tenant_id).values(
            "step_key", "state", "failed_verifications"
        )
    }
    finished = [
        str(rows.get(key, {}).get("state")) in (StepState.DONE, StepState.SKIPPED)
        for key in steps.STEP_KEYS
    ]
    current = next((i + 1 for i, ok in enumerate(finished) if not ok), len(steps.STEP_KEYS) + 1)
    fields: dict[str, Any] = {
        "finished_steps": sum(finished),
        "current_step_index": current,
        "needs_attention": any(r["state"] == StepState.NEEDS_ATTENTION for r in rows.values()),
        "failed_verifications": max((r["failed_verifications"] for r in rows.values()), default=0),
    }
    if touch:
        fields["last_activity_at"] = timezone.now()
    Tenant.objects.filter(pk=tenant_id).update(**fields)


def _clear_results(progress: StepProgress) -> None:
    # Results were for other inputs: they no longer say anything about the new ones.
    progress.check_results = []
    progress.verified_at = None


def step_answers_save(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    changes: dict[str, Any],
    seen: dict[str, Any],
) -> StepProgress:
    """Store the fields this user changed. ``seen`` holds the values the user's form showed.

    Raises EditConflict, storing nothing, when a colleague saved another value for one of
    these fields since the form was shown; the caller shows both and lets the user decide.
    """
    with transaction.atomic():
        progress = _lock(tenant, step_key)
        stored = {name: progress.answers.get(name) or "" for name in changes}
        conflicts = {
            name: stored[name]
            for name, value in changes.items()
            if stored[name] != (seen.get(name) or "") and stored[name] != value
        }
        if conflicts:
            raise EditConflict(conflicts)
        really_changed = {k: v for k, v in changes.items() if progress.answers.get(k) != v}
        if not really_changed:
            return progress
        progress.answers = {**progress.answers, **really_changed}
        _clear_results(progress)
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.ANSWERS_SAVED,
            step_key=step_key,
            detail={"fields": sorted(really_changed)},
        )
        return _finish(progress, user)


def answer_list_add(
    *, tenant: Tenant, step_key: str, user: Actor, field: str, item: dict[str, Any], key: str
) -> StepProgress:
    """Append ``item`` to the list answer ``field``, replacing an entry with the same ``key``."""
    with transaction.atomic():
        progress = _lock(tenant, step_key)
        items = [i for i in progress.answers.get(field, []) if i.get(key) != item.get(key)]
        items.append(item)
        progress.answers = {**progress.answers, field: items}
        _clear_results(progress)
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.ANSWERS_SAVED,
            step_key=step_key,
            detail={"fields": [field], "added": {key: item.get(key)}},
        )
        return _finish(progress, user)


def answer_list_remove(
    *, tenant: Tenant, step_key: str, user: Actor, field: str, key: str, value: Any
) -> StepProgress:
    with transaction.atomic():
        progress = _lock(tenant, step_key)
        before = progress.answers.get(field, [])
        items = [i for i in before if str(i.get(key)) != str(value)]
        if len(items) == len(before):
            return progress
        progress.answers = {**progress.answers, field: items}
        _clear_results(progress)
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.ANSWERS_SAVED,
            step_key=step_key,
            detail={"fields": [field], "removed": {key: value}},
        )
        return _finish(progress, user)


def checklist_update(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    ticked: Iterable[str] = (),
    unticked: Iterable[str] = (),
) -> StepProgress:
    """Tick and untick items by id; a colleague's ticks on other items are kept."""
    valid = {i.id for i in steps.STEPS_BY_KEY[step_key].checklist}
    ticked = {i for i in ticked if i in valid}
    unticked = {i for i in unticked if i in valid} - ticked
    with transaction.atomic():
        progress = _lock(tenant, step_key)
        current = set(progress.checklist)
        new = (current | ticked) - unticked
        if new == current:
            return progress
        # Keep the registry's order so the stored list is stable and readable.
        progress.checklist = [i.id for i in progress.step.checklist if i.id in new]
        for action, items in (
            (AuditEvent.Action.CHECKLIST_TICKED, new - current),
            (AuditEvent.Action.CHECKLIST_UNTICKED, current - new),
        ):
            for item in sorted(items):
                audit(
                    tenant=tenant,
                    user=user,
                    action=action,
                    step_key=step_key,
                    detail={"item": item},
                )
        return _finish(progress, user)


# Steps whose results depend on reading Autotask's dates in the tenant's time zone.
DATE_STEPS = ("recurring-contract", "annual-contract", "review")


def tenant_time_zone_save(*, tenant: Tenant, user: Actor, time_zone: str, seen: str) -> Tenant:
    """Store the time zone the tenant's Autotask works in (an IANA name; "" unsets it).

    ``seen`` is the value the user's form showed: EditConflict, storing nothing, if a
    colleague saved another one meanwhile. Contract results were read in the old zone, so
    they are cleared, and the steps' states follow (the zone is an input of the account and
    contract steps). ValueError for a name zoneinfo does not know.
    """
    if time_zone and not is_time_zone(time_zone):
        raise ValueError(f"Unknown time zone {time_zone!r}.")
    with transaction.atomic():
        row = Tenant.objects.select_for_update().get(pk=tenant.pk)
        stored = row.time_zone
        if stored == time_zone:
            return row
        if stored != (seen or ""):
            raise EditConflict({"time_zone": stored})
        row.time_zone = time_zone
        row.save(update_fields=["time_zone"])
        tenant.time_zone = time_zone
        audit(
            tenant=row,
            user=user,
            action=AuditEvent.Action.ANSWERS_SAVED,
            step_key="account",
            detail={"fields": ["time_zone"], "time_zone": time_zone, "previous": stored},
        )
        rows = {
            p.step_key: p
            for p in StepProgress.objects.select_for_update().filter(
                tenant=row, step_key__in=("account", *DATE_STEPS)
            )
        }
        # In wizard order, so the review sees the other steps' new states.
        for key in ("account", *DATE_STEPS):
            progress = rows.get(key)
            if progress is None:
                continue
            progress.tenant = row
            if key in DATE_STEPS and progress.check_results:
                _clear_results(progress)
            _evaluate_and_save(progress, user)
        tenant_summary_refresh(row.pk)
    return row


def tenant_today(tenant: Tenant) -> datetime.date:
    """Today in the tenant's time zone (UTC until one is set: shown with a request to set it)."""
    return today_in(tenant.time_zone or "UTC", timezone.now())


@sensitive_variables("secret")
def credentials_save(*, tenant: Tenant, user: Actor, username: str, secret: str | None) -> None:
    """Store the API username and, when given, a new Secret (encrypted before it is stored).

    Changing either invalidates every earlier verification: it may be another Autotask.
    """
    with transaction.atomic():
        progress = _lock(tenant, "api-user")
        cred = AutotaskCredential.objects.select_for_update().filter(tenant=tenant).first()
        changed = False
        if cred is None:
            if secret is None:
                # No Secret yet: keep the username as an answer so nothing typed is lost.
                if progress.answers.get("username") != username:
                    progress.answers = {**progress.answers, "username": username}
                    _clear_results(progress)
                    audit(
                        tenant=tenant,
                        user=user,
                        action=AuditEvent.Action.ANSWERS_SAVED,
                        step_key="api-user",
                        detail={"fields": ["username"]},
                    )
                    _finish(progress, user)
                return
            cred = AutotaskCredential(tenant=tenant)
            changed = True
        if cred.username != username:
            changed = True
            cred.zone = None  # another API user may live in another zone
        cred.username = username
        if secret is not None:
            cred.secret_encrypted = crypto.encrypt_secret(secret)
            changed = True
        if not changed:
            return
        cred.updated_by = _actor(user)
        cred.save()
        # New credentials deserve a daily re-check again.
        Tenant.objects.filter(pk=tenant.pk).update(credentials_refused_at=None)
        progress.answers = {**progress.answers, "username": username}
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.CREDENTIALS_SAVED,
            step_key="api-user",
            # The username is not secret; the Secret never enters the audit trail.
            detail={"username": username, "secret_replaced": secret is not None},
        )
        for other in StepProgress.objects.select_for_update().filter(tenant=tenant):
            if other.step.verifies and other.check_results:
                if other.pk == progress.pk:
                    continue
                _clear_results(other)
                _finish(other, user)
        _clear_results(progress)
        _finish(progress, user)


def step_skip(*, tenant: Tenant, step_key: str, user: Actor) -> StepProgress:
    step = steps.STEPS_BY_KEY[step_key]
    if not step.optional:
        raise SkipNotAllowed(f"'{step.title}' cannot be skipped.")
    with transaction.atomic():
        progress = _lock(tenant, step_key)
        if progress.state == StepState.SKIPPED:
            return progress
        old = progress.state
        progress.state = StepState.SKIPPED
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.STEP_SKIPPED,
            step_key=step_key,
            detail={"from": old, "consequence": step.skip_consequence},
        )
        return _finish(progress, user)


def step_unskip(*, tenant: Tenant, step_key: str, user: Actor) -> StepProgress:
    with transaction.atomic():
        progress = _lock(tenant, step_key)
        if progress.state != StepState.SKIPPED:
            return progress
        progress.state = StepState.IN_PROGRESS
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.STEP_UNSKIPPED,
            step_key=step_key,
            detail={},
        )
        return _finish(progress, user)


def verification_record(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    results: list[dict[str, Any]],
    verified_at: Any = None,
    calls: int | None = None,
    audited: bool = True,
) -> StepProgress:
    """Store one verification run's results; the step's state follows them.

    Called after the Autotask calls have finished: no transaction is open during them.
    One audit event per run, with counts only (the evidence stays on the step).
    """
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    with transaction.atomic():
        progress = _lock(tenant, step_key)
        progress.check_results = results
        progress.verified_at = verified_at or timezone.now()
        if counts.get(checks.CheckStatus.FAIL):
            progress.failed_verifications += 1
        else:
            progress.failed_verifications = 0
        Tenant.objects.filter(pk=tenant.pk).update(
            last_verified_at=progress.verified_at,
            last_verification_status=checks.worst(results) or "",
        )
        if audited:
            audit(
                tenant=tenant,
                user=user,
                action=AuditEvent.Action.VERIFICATION_RUN,
                step_key=step_key,
                detail={
                    "counts": counts,
                    "failed": sorted(
                        {r["id"] for r in results if r["status"] == checks.CheckStatus.FAIL}
                    ),
                    **({"calls": calls} if calls is not None else {}),
                },
            )
        return _finish(progress, user)


# ---------------------------------------------------------------------------------------------
# Verification against Autotask. The calls run with no transaction open; only the short
# writes before and after them are atomic.

VERIFICATION_LOCK_SECONDS = 300
ZONE_CACHE_SECONDS = 12 * 3600  # zones rarely move; a 401 drops the entry (see the client)
METADATA_CACHE_SECONDS = 3600


class VerificationInProgress(Exception):
    pass


class CredentialsMissing(Exception):
    pass


class AutotaskPaused(Exception):
    """Credential tests are paused for this tenant (lockout safety)."""


AUTH_FAILURES_BEFORE_PAUSE = 2
AUTH_PAUSE = datetime.timedelta(minutes=15)


def _check_auth_pause(tenant: Tenant) -> None:
    until = Tenant.objects.filter(pk=tenant.pk).values_list("auth_paused_until", flat=True)[0]
    now = timezone.now()
    if until is not None and until > now:
        minutes = max(1, round((until - now).total_seconds() / 60))
        raise AutotaskPaused(
            "Autotask rejected this API user's credentials twice in a row. Autotask locks a "
            "user after repeated failed logins, so the wizard will not try again for "
            f"{minutes} minute{'s' if minutes != 1 else ''} (until {until:%H:%M} UTC). "
            "Meanwhile, check the Secret. If the user is already locked, open it in Autotask "
            "(Admin > Resources (Users)), go to its Security tab, untick Locked, make sure "
            "Active is ticked, and save."
        )


def _record_auth_outcome(
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


class NothingToVerify(Exception):
    """The step's inputs are not there yet (e.g. no customer chosen)."""


@dataclass(frozen=True)
class VerificationOutcome:
    step_key: str
    results: list[dict[str, Any]]
    calls: int


# Who waits for the answer: a person on a Verify, a person on the picker, or nobody.
Purpose = Literal["verify", "search", "background"]


def _timing(purpose: Purpose) -> dict[str, Any]:
    """Deadline and retries by purpose: a page answers by its deadline and never retries
    (15 s x 4 attempts plus backoff kept a page and its thread for over a minute); background
    work has no one waiting, so it retries with backoff and has only the per-call timeout."""
    if purpose == "background":
        return {"deadline": None, "max_retries": 3}
    if purpose == "search":
        return {"deadline": settings.AUTOTASK_SEARCH_DEADLINE_SECONDS, "max_retries": 0}
    return {"deadline": settings.AUTOTASK_INTERACTIVE_DEADLINE_SECONDS, "max_retries": 0}


@sensitive_variables("secret")
def autotask_client(
    username: str, secret: str, *, scope: str, purpose: Purpose = "verify"
) -> AutotaskClient:
    """A client for one Autotask (or the sandbox when AUTOTASK_SANDBOX is on).

    ``scope`` (the tenant's code) keys the metadata cache and the per-tenant concurrency cap.
    The deadline of a ``verify`` or ``search`` client counts from here: one client per request.
    """
    session = build_session()
    if settings.AUTOTASK_SANDBOX:
        install_sandbox(
            session,
            default_sandbox(settings.AUTOTASK_INTEGRATION_CODE),
            settings.AUTOTASK_ZONE_INFORMATION_URL,
        )
    return AutotaskClient(
        Credentials(
            username=username, secret=secret, integration_code=settings.AUTOTASK_INTEGRATION_CODE
        ),
        zone_information_url=settings.AUTOTASK_ZONE_INFORMATION_URL,
        timeout=settings.AUTOTASK_TIMEOUT_SECONDS,
        session=session,
        zone_cache=CacheMapping("atzone", ZONE_CACHE_SECONDS),
        metadata_cache=CacheMapping(f"atmeta:{scope}", METADATA_CACHE_SECONDS),
        # Autotask's thread limit is per integration and endpoint; cap per tenant here, over
        # every worker that shares the cache (docs/decisions/0009-autotask-concurrency-cap.md).
        concurrency_key=scope,
        limiter=Limiter(slot_store(), per_tenant=settings.AUTOTASK_MAX_CONCURRENT_PER_TENANT),
        backoff_factor=settings.AUTOTASK_BACKOFF_SECONDS,
        sleep=lambda seconds: _pause(seconds),
        **_timing(purpose),
    )


def _pause(seconds: float) -> None:
    """The client's wait between retries (a seam for tests)."""
    time.sleep(seconds)


def _client_for(tenant: Tenant, purpose: Purpose) -> AutotaskClient:
    _check_auth_pause(tenant)
    cred = AutotaskCredential.objects.filter(tenant=tenant).first()
    if cred is None:
        raise CredentialsMissing(
            "Enter the API user's Username and Secret in step 3 (The API user) first."
        )
    client = autotask_client(
        cred.username,
        crypto.decrypt_secret(cred.secret_encrypted),
        scope=str(tenant.code),
        purpose=purpose,
    )
    # The zone an earlier verification found: no lookup on this run's critical path, even
    # after a restart or once the 12-hour cache entry is gone (as for the daily re-checks).
    if cred.zone and client.zone_cache.get(cred.username) is None:
        # A zone stored by another version of the app is looked up again instead.
        with suppress(TypeError):
            client.zone_cache[cred.username] = Zone(**cred.zone)
    return client


def _remember_zone(tenant: Tenant, client: AutotaskClient) -> None:
    """Keep the zone this run used with the credential; forget it if Autotask refused the
    credentials (the client then drops it: the tenant may have moved to another zone)."""
    username = client.credentials.username
    zone = client.zone_cache.get(username)
    AutotaskCredential.objects.filter(tenant=tenant, username=username).update(
        zone=asdict(zone) if zone is not None else None
    )


def verification_inputs(tenant: Tenant) -> checks.Inputs:
    # Read afresh: a colleague may have set the zone since this tenant object was loaded.
    time_zone = Tenant.objects.filter(pk=tenant.pk).values_list("time_zone", flat=True).first()
    answers = {p.step_key: p for p in StepProgress.objects.filter(tenant=tenant)}
    recurring = answers["recurring-contract"].answers if "recurring-contract" in answers else {}
    annual_row = answers.get("annual-contract")
    annual: list[dict[str, Any]] | None = None
    if (
        annual_row is not None
        and annual_row.state != StepState.SKIPPED
        and annual_row.answers.get("has_annual") == "yes"
    ):
        annual = list(annual_row.answers.get("contracts", []))
    return checks.Inputs(
        # "Today" is the partner's today: the first usage date and "ended" depend on it.
        today=today_in(time_zone or "UTC", timezone.now()),
        customers=list(recurring.get("customers", [])),
        sync_start=str(recurring.get("sync_start", "")),
        annual=annual,
        time_zone=time_zone or "",
    )


NOT_RECHECKED = checks.CheckResult(
    "connection",
    checks.CheckStatus.UNKNOWN,
    "Checked again in the review",
    evidence="Not checked: the API user could not connect (see step 3, The API user).",
)


def _verified_step_keys(tenant: Tenant) -> list[str]:
    """Steps (other than the review) holding results from an earlier verification."""
    return [
        p.step_key
        for p in StepProgress.objects.filter(tenant=tenant).exclude(step_key="review")
        if p.check_results and p.state != StepState.SKIPPED
    ]


def _claim(tenant: Tenant, step_key: str) -> None:
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=VERIFICATION_LOCK_SECONDS)
    # One conditional UPDATE: atomic in every database, so of two simultaneous clicks
    # (or two app servers) exactly one wins.
    claimed = (
        StepProgress.objects.filter(tenant=tenant, step_key=step_key)
        .filter(Q(verification_started_at__isnull=True) | Q(verification_started_at__lt=stale))
        .update(verification_started_at=now)
    )
    if not claimed:
        raise VerificationInProgress(
            "A verification of this step is already running; its results appear here when it "
            "finishes."
        )


def _release(tenant: Tenant, step_key: str) -> None:
    StepProgress.objects.filter(tenant=tenant, step_key=step_key).update(
        verification_started_at=None
    )


def step_verify(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    postpone_above: float | None = None,
    background: bool = False,
) -> VerificationOutcome:
    """Run the step's checks against Autotask and store the results (one audit event).

    A person's Verify answers within AUTOTASK_INTERACTIVE_DEADLINE_SECONDS, without retries;
    ``background`` runs (re-verification, commands) retry with backoff instead.
    """
    step = steps.STEPS_BY_KEY[step_key]
    if not step.verifies:
        raise ValueError(f"{step_key} has nothing to verify")
    _claim(tenant, step_key)
    try:
        inputs = verification_inputs(tenant)
        if step_key == "recurring-contract" and not (inputs.customers and inputs.sync_start):
            raise NothingToVerify(
                "Choose when the sync starts and add at least one customer's contract, then verify."
            )
        if step_key == "annual-contract" and not inputs.annual:
            raise NothingToVerify(
                "Add the Fixed Price contract of at least one annual customer, then verify. "
                "If you have none, say so above: there is then nothing to verify."
            )
        if step_key in ("recurring-contract", "annual-contract") and not inputs.time_zone:
            # Every date rule needs it: no Autotask call for a verdict that could be a day off.
            raise NothingToVerify(evaluation.TIME_ZONE_NEEDED)
        client = _client_for(tenant, "background" if background else "verify")
        if step_key == "review":
            by_step = checks.run(
                client, inputs, background=background, postpone_above=postpone_above
            )
            if (
                list(by_step) == ["api-user"]
                and checks.worst(by_step["api-user"]) != checks.CheckStatus.PASS
            ):
                # No connection: the other steps' earlier verdicts no longer hold either.
                for key in _verified_step_keys(tenant):
                    by_step.setdefault(key, [NOT_RECHECKED])
            for key, step_results in by_step.items():
                if key != "review":
                    # Part of the review's run: the review's one audit event covers them.
                    verification_record(
                        tenant=tenant,
                        step_key=key,
                        user=user,
                        results=[r.as_dict() for r in step_results],
                        audited=False,
                    )
            results = [r for rs in by_step.values() for r in rs]
        else:
            results = checks.run(client, inputs, {step_key})[step_key]
        _remember_zone(tenant, client)
        stored = [r.as_dict() for r in results]
        _record_auth_outcome(
            tenant,
            rejected=any(r.error == "authentication_failed" for r in results),
            refused=any(r.refused_credentials for r in results),
            accepted=bool(results)
            and not any(r.refused_credentials for r in results)
            and any(r.status == checks.CheckStatus.PASS for r in results),
        )
        verification_record(
            tenant=tenant, step_key=step_key, user=user, results=stored, calls=client.calls
        )
        logger.info(
            "verified tenant=%s step=%s calls=%d worst=%s",
            tenant.code,
            step_key,
            client.calls,
            checks.worst(results),
        )
        return VerificationOutcome(step_key, stored, client.calls)
    finally:
        _release(tenant, step_key)


@contextmanager
def _watch_auth(tenant: Tenant) -> Iterator[None]:
    """Count a rejected login from a picker call towards the lockout pause, too."""
    try:
        yield
    except AuthenticationFailed:
        _record_auth_outcome(tenant, rejected=True, accepted=False)
        raise
    _record_auth_outcome(tenant, rejected=False, accepted=True)


def company_search(
    *, tenant: Tenant, query: str, after: int = 0, page_size: int = 20
) -> tuple[list[dict[str, Any]], int | None]:
    """Active customer companies whose name contains ``query``, by id, one page at a time.

    Returns the page and the id to continue after (None on the last page). Keyset paging on id
    keeps every page one call, whatever the number of companies.
    """
    client = _client_for(tenant, "search")
    with _watch_auth(tenant):
        return _company_search(client, query=query, after=after, page_size=page_size)


def _company_search(
    client: AutotaskClient, *, query: str, after: int, page_size: int
) -> tuple[list[dict[str, Any]], int | None]:
    filters: list[dict[str, Any]] = [
        {"op": "eq", "field": "isActive", "value": True},
        {"op": "gt", "field": "id", "value": after},
    ]
    customer = client.picklist_value("Companies", "companyType", "Customer")
    if customer is not None:
        filters.append({"op": "eq", "field": "companyType", "value": int(customer)})
    if query.strip():
        filters.append({"op": "contains", "field": "companyName", "value": query.strip()[:100]})
    page = client.query_page(
        "Companies", filters, include_fields=["id", "companyName"], max_records=page_size
    )
    items = sorted(page.items, key=lambda c: int(c["id"]))
    more = page.next_page_url is not None or len(items) > page_size
    items = items[:page_size]
    return items, (int(items[-1]["id"]) if more and items else None)


def contract_choices(*, tenant: Tenant, company_id: int) -> list[dict[str, Any]]:
    """The contracts of one company, labelled with their type and status for the picker.

    ``startDay``/``endDay`` are the contract's dates in the tenant's time zone (None while the
    zone is not set: Autotask's timestamps alone do not say which day they are).
    """
    client = _client_for(tenant, "search")
    with _watch_auth(tenant):
        rows = _contract_choices(client, company_id)
    for row in rows:
        for field, day in (("startDate", "startDay"), ("endDate", "endDay")):
            row[day] = local_date(row.get(field), tenant.time_zone) if tenant.time_zone else None
    return rows


def _contract_choices(client: AutotaskClient, company_id: int) -> list[dict[str, Any]]:
    rows = client.query(
        "Contracts",
        [{"op": "eq", "field": "companyID", "value": company_id}],
        include_fields=["id", "contractName", "contractType", "status", "startDate", "endDate"],
        max_pages=2,
    )
    fields = {f.name.lower(): f for f in client.entity_fields("Contracts")}
    labels = {
        name: {p.value: p.label for p in fields[name].picklist} if name in fields else {}
        for name in ("contracttype", "status")
    }
    for row in rows:
        row["typeLabel"] = labels["contracttype"].get(str(row.get("contractType")), "")
        row["statusLabel"] = labels["status"].get(str(row.get("status")), "")
    return sorted(rows, key=lambda r: int(r["id"]))


# ---------------------------------------------------------------------------------------------
# Reset (admins). Clears a step and every later one; earlier steps stay as they are.


class ResetRefused(Exception):
    pass


@dataclass(frozen=True)
class ResetPlan:
    from_step: str
    steps: list[dict[str, Any]]
    deletes_credentials: bool
    credential_username: str


def reset_plan(tenant: Tenant, from_step: str | None) -> ResetPlan:
    """Exactly what a reset from ``from_step`` (None: the whole wizard) would clear."""
    start = from_step or steps.STEP_KEYS[0]
    if start not in steps.STEPS_BY_KEY:
        raise ResetRefused(f"Unknown step {start!r}.")
    keys = steps.STEP_KEYS[steps.STEP_KEYS.index(start) :]
    rows = {p.step_key: p for p in StepProgress.objects.filter(tenant=tenant, step_key__in=keys)}
    cred = AutotaskCredential.objects.filter(tenant=tenant).first()
    plan_steps = []
    for key in keys:
        p = rows.get(key)
        plan_steps.append(
            {
                "key": key,
                "title": steps.STEPS_BY_KEY[key].title,
                "state": p.state if p else StepState.NOT_STARTED,
                "state_label": StepState(p.state if p else StepState.NOT_STARTED).label,
                # The time zone is the account step's answer, though kept on the tenant.
                "answers": sorted(
                    [
                        *(p.answers if p else []),
                        *(["time_zone"] if key == "account" and tenant.time_zone else []),
                    ]
                ),
                "checklist": len(p.checklist) if p else 0,
                "results": len(p.check_results) if p else 0,
            }
        )
    return ResetPlan(
        from_step=start,
        steps=plan_steps,
        deletes_credentials="api-user" in keys and cred is not None,
        credential_username=cred.username if cred else "",
    )


def wizard_reset(
    *, tenant: Tenant, from_step: str | None, reason: str, user: Actor, resume_url: str = ""
) -> ResetPlan:
    """Reset the wizard from a step on, with a reason; audited and mailed to the owners."""
    reason = reason.strip()
    if not reason:
        raise ResetRefused("Give a reason: the partner and the audit trail will see it.")
    plan = reset_plan(tenant, from_step)
    keys = [s["key"] for s in plan.steps]
    with transaction.atomic():
        rows = list(
            StepProgress.objects.select_for_update().filter(tenant=tenant, step_key__in=keys)
        )
        # What was there, for the audit trail: answers are non-secret by construction (the
        # Secret lives only in AutotaskCredential) and results are summarised, not copied.
        snapshot = {
            p.step_key: {
                "state": p.state,
                "answers": p.answers,
                "checklist": p.checklist,
                "results": checks.worst(p.check_results) or "",
                "verified_at": p.verified_at.isoformat() if p.verified_at else None,
            }
            for p in rows
        }
        for p in rows:
            p.state = StepState.NOT_STARTED
            p.answers, p.checklist, p.check_results = {}, [], []
            p.verified_at = None
            p.failed_verifications = 0
            p.verification_started_at = None
            p.version += 1
            p.updated_by = _actor(user)
            p.save()
        # A reset starts a new setup: an old drift episode no longer means anything.
        Tenant.objects.filter(pk=tenant.pk).update(drift_checks=[], drift_since=None)
        if plan.deletes_credentials:
            AutotaskCredential.objects.filter(tenant=tenant).delete()
            snapshot["api-user"]["credentials_deleted_for"] = plan.credential_username
        if "account" in snapshot:
            old_zone = Tenant.objects.filter(pk=tenant.pk).values_list("time_zone", flat=True)[0]
            snapshot["account"]["answers"] = {
                **snapshot["account"]["answers"],
                "time_zone": old_zone,
            }
            Tenant.objects.filter(pk=tenant.pk).update(time_zone="")
            tenant.time_zone = ""
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.WIZARD_RESET,
            step_key=plan.from_step,
            detail={"reason": reason, "from_step": plan.from_step, "snapshot": snapshot},
        )
        tenant_summary_refresh(tenant.pk)
        transaction.on_commit(
            lambda: _mail_owners_about_reset(tenant, plan, reason, user, resume_url)
        )
    return plan


def _mail_owners_about_reset(
    tenant: Tenant, plan: ResetPlan, reason: str, user: Actor, resume_url: str
) -> None:
    owners = list(
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not owners:
        return
    who = user.get_username() if user is not None and user.is_authenticated else "An admin"
    title = steps.STEPS_BY_KEY[plan.from_step].title
    cleared = ", ".join(s["title"] for s in plan.steps)
    body = (
        f"{who} reset the Billing Sync setup wizard of {tenant.name} from the step "
        f"'{title}'.\n\nReason: {reason}\n\nCleared: {cleared}."
        + (
            "\nThe stored API user credentials were deleted: enter the Username and Secret again."
            if plan.deletes_credentials
            else ""
        )
        + "\nEarlier steps are unchanged."
        + (f"\n\nContinue here: {resume_url}" if resume_url else "")
    )
    send_quietly(f"Your Billing Sync setup was reset: {title}", body, owners)


# ---------------------------------------------------------------------------------------------
# Invitations: a signed link that expires and works once.

INVITATION_SALT = "wizard.invitation"
INVITATION_MAX_AGE = datetime.timedelta(days=7)


class InvitationInvalid(Exception):
    """The link cannot be used any more (expired, withdrawn, used): HTTP 410."""


class InvitationRefused(Exception):
    """The link is fine, but not for this person (another address, a staff account): 403."""


class MailNotSent(Exception):
    pass


def _staff_email(email: str) -> bool:
    return (
        get_user_model()
        .objects.filter(email__iexact=email.strip())
        .filter(Q(is_staff=True) | Q(is_superuser=True))
        .exists()
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
        raise InvitationRefused(
            f"{email.strip()} belongs to a staff account. {STAFF_NEVER_MEMBERS} Invite someone "
            "from the partner's own team."
        )
    invitation = Invitation.objects.create(
        tenant=tenant, email=email.strip().lower(), role=role, invited_by=_actor(user)
    )
    token = signing.dumps({"i": invitation.pk}, salt=INVITATION_SALT)
    who = user.get_username() if user is not None and user.is_authenticated else "Your team"
    sent = send_quietly(
        f"Join {tenant.name} in the Billing Sync setup wizard",
        f"{who} invited you to help prepare Autotask for Billing Sync for {tenant.name}.\n\n"
        f"Accept here (the link works once and expires in "
        f"{INVITATION_MAX_AGE.days} days):\n{accept_url(token)}\n",
        [invitation.email],
    )
    if not sent:
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


def send_quietly(subject: str, body: str, to: Any) -> bool:
    """Send a mail; a mail server failure is logged, never turned into a lost action."""
    try:
        send_mail(subject, body, None, list(to))
    except Exception:  # SMTP errors come in many classes; the action itself already happened
        logger.exception("could not send mail %r to %d recipient(s)", subject, len(list(to)))
        return False
    return True


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
