"""Writes. Every change to a tenant's progress goes through here, under a row lock, and every
change of a step's state leaves an AuditEvent.

Concurrency: two colleagues may work on the same step at once. Each write locks the step's
row, applies only what this user changed (answers field by field, checklist ticks item by
item) and refuses, with EditConflict, to overwrite a value a colleague saved meanwhile.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wizard import checks, crypto, steps
from wizard.autotask import AutotaskClient, Credentials, build_session
from wizard.autotask.sandbox import default_sandbox, install_sandbox
from wizard.cache_mapping import CacheMapping
from wizard.evaluation import evaluate
from wizard.models import (
    AuditEvent,
    AutotaskCredential,
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


def tenant_create(*, name: str, owner: Any = None, account_manager: Any = None) -> Tenant:
    """A new tenant with one progress row per step (so later writes only ever lock rows)."""
    with transaction.atomic():
        tenant = Tenant.objects.create(name=name, account_manager=account_manager)
        StepProgress.objects.bulk_create(
            [StepProgress(tenant=tenant, step_key=key) for key in steps.STEP_KEYS]
        )
        if owner is not None:
            membership_add(tenant=tenant, user=owner, role=Membership.Role.OWNER, actor=None)
    return tenant


def membership_add(*, tenant: Tenant, user: Any, role: str, actor: Actor) -> Membership:
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


def _finish(progress: StepProgress, user: Actor) -> StepProgress:
    """Recompute the state from the stored facts, save, audit a state change, touch the tenant."""
    old_state = progress.state
    result = evaluate(
        progress.step,
        state=progress.state,
        answers=progress.answers,
        checklist=progress.checklist,
        check_results=progress.check_results,
        has_credentials=_has_credentials(progress.tenant),
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
    Tenant.objects.filter(pk=progress.tenant_id).update(last_activity_at=timezone.now())
    return progress


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
        cred.username = username
        if secret is not None:
            cred.secret_encrypted = crypto.encrypt_secret(secret)
            changed = True
        if not changed:
            return
        cred.updated_by = _actor(user)
        cred.save()
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
        if counts.get("fail"):
            progress.failed_verifications += 1
        else:
            progress.failed_verifications = 0
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.VERIFICATION_RUN,
            step_key=step_key,
            detail={
                "counts": counts,
                "failed": sorted({r["id"] for r in results if r["status"] == "fail"}),
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


class NothingToVerify(Exception):
    """The step's inputs are not there yet (e.g. no customer chosen)."""


@dataclass(frozen=True)
class VerificationOutcome:
    step_key: str
    results: list[dict[str, Any]]
    calls: int


def autotask_client(username: str, secret: str, *, scope: str) -> AutotaskClient:
    """A client for one Autotask (or the sandbox when AUTOTASK_SANDBOX is on).

    ``scope`` (the tenant's code) keys the metadata cache and the per-tenant concurrency cap.
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
        # Autotask's thread limit is per integration and endpoint; cap per tenant here.
        concurrency_key=scope,
    )


def _client_for(tenant: Tenant) -> AutotaskClient:
    cred = AutotaskCredential.objects.filter(tenant=tenant).first()
    if cred is None:
        raise CredentialsMissing(
            "Enter the API user's Username and Secret in step 3 (The API user) first."
        )
    return autotask_client(
        cred.username, crypto.decrypt_secret(cred.secret_encrypted), scope=str(tenant.code)
    )


def verification_inputs(tenant: Tenant) -> checks.Inputs:
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
        today=timezone.localdate(),
        customers=list(recurring.get("customers", [])),
        sync_start=str(recurring.get("sync_start", "")),
        annual=annual,
    )


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


def step_verify(*, tenant: Tenant, step_key: str, user: Actor) -> VerificationOutcome:
    """Run the step's checks against Autotask and store the results (one audit event)."""
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
        client = _client_for(tenant)
        if step_key == "review":
            by_step = checks.run_all(client, inputs)
            for key, step_results in by_step.items():
                if key != "review":
                    verification_record(
                        tenant=tenant,
                        step_key=key,
                        user=user,
                        results=[r.as_dict() for r in step_results],
                    )
            results = [r for rs in by_step.values() for r in rs]
        else:
            results = checks.run_step(step_key, client, inputs)
        stored = [r.as_dict() for r in results]
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


def company_search(
    *, tenant: Tenant, query: str, after: int = 0, page_size: int = 20
) -> tuple[list[dict[str, Any]], int | None]:
    """Active customer companies whose name contains ``query``, by id, one page at a time.

    Returns the page and the id to continue after (None on the last page). Keyset paging on id
    keeps every page one call, whatever the number of companies.
    """
    client = _client_for(tenant)
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
    """The contracts of one company, labelled with their type and status for the picker."""
    client = _client_for(tenant)
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
