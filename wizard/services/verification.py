"""Verification against Autotask. The calls run with no transaction open; only the short
writes before (the lock) and after (the results, in one transaction) are atomic."""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wizard import checks, steps
from wizard.autotask import (
    AutotaskClient,
)
from wizard.autotask.dates import today_in
from wizard.checks.contracts import names_from_subject
from wizard.models import (
    AuditEvent,
    AutotaskCredential,
    StepProgress,
    StepState,
    Tenant,
)
from wizard.selectors import VERIFICATION_LOCK_SECONDS
from wizard.services.answers import list_names_fill
from wizard.services.audit import Actor, audit
from wizard.services.autotask import client_for
from wizard.services.credentials import record_auth_outcome
from wizard.services.errors import (
    NothingToVerify,
    VerificationInProgress,
)
from wizard.services.progress import evaluate_and_save, tenant_summary_refresh

logger = logging.getLogger(__name__)


def verification_record(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    results: list[dict[str, Any]],
    calls: int | None = None,
) -> StepProgress:
    """Store one step's verification results, as if its run had just ended (tests, seeding)."""
    with transaction.atomic():
        _record(tenant, user, {step_key: results}, run_step=step_key, calls=calls)
        return StepProgress.objects.get(tenant=tenant, step_key=step_key)


def _record(
    tenant: Tenant,
    user: Actor,
    by_step: dict[str, list[dict[str, Any]]],
    *,
    run_step: str,
    calls: int | None,
) -> dict[Key, dict[str, Any]]:
    """Store a run's results on every step they belong to; return what those steps held before.

    Runs in the caller's transaction, after the Autotask calls. Each step's state follows its
    results; the run leaves one ``verification_run`` event (counts and failed ids only, never
    the evidence), and the tenant's summary is refreshed once.
    """
    now = timezone.now()
    rows = {
        p.step_key: p
        for p in StepProgress.objects.select_for_update().filter(
            tenant=tenant, step_key__in=list(by_step)
        )
    }
    previous: dict[Key, dict[str, Any]] = {}
    # In wizard order, so a summary step (the review) is judged on the others' new states.
    for step in steps.REGISTRY:
        progress = rows.get(step.key)
        if progress is None or step.key not in by_step:
            continue
        for r in progress.check_results:
            previous[(step.key, r.get("id", ""), r.get("subject", ""))] = r
        results = by_step[step.key]
        progress.tenant = tenant
        progress.check_results = results
        progress.verified_at = now
        failed = any(r["status"] == checks.CheckStatus.FAIL for r in results)
        progress.failed_verifications = progress.failed_verifications + 1 if failed else 0
        evaluate_and_save(progress, user)
    everything = [r for results in by_step.values() for r in results]
    Tenant.objects.filter(pk=tenant.pk).update(
        last_verified_at=now, last_verification_status=checks.worst(everything) or ""
    )
    counts: dict[str, int] = {}
    for r in everything:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    audit(
        tenant=tenant,
        user=user,
        action=AuditEvent.Action.VERIFICATION_RUN,
        step_key=run_step,
        detail={
            "counts": counts,
            "failed": sorted(
                {r["id"] for r in everything if r["status"] == checks.CheckStatus.FAIL}
            ),
            **({"calls": calls} if calls is not None else {}),
        },
    )
    tenant_summary_refresh(tenant.pk)
    return previous


Key = tuple[str, str, str]  # step, check id, subject


@dataclass(frozen=True)
class VerificationOutcome:
    step_key: str
    # The run's results, flat (for the step page) and by the step they belong to.
    results: list[dict[str, Any]]
    by_step: dict[str, list[dict[str, Any]]]
    calls: int
    # What the verified steps held before this run (for drift: pass before, fail now).
    previous: dict[Key, dict[str, Any]] = field(default_factory=dict)


def _fill_names(tenant: Tenant, results: list[dict[str, Any]]) -> None:
    """Hand-typed rows get the names this run read from Autotask (the results' subjects)."""
    companies: dict[int, str] = {}
    contracts: dict[int, str] = {}
    for r in results:
        named = names_from_subject(str(r.get("subject", "")))
        if named is not None:
            contract_id, company, contract = named
            if company:
                companies[contract_id] = company
            if contract:
                contracts[contract_id] = contract
    if companies or contracts:
        list_names_fill(tenant=tenant, contracts=contracts, by_contract=companies)


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


def _not_rechecked() -> checks.CheckResult:
    return checks.CheckResult(
        "connection",
        checks.CheckStatus.UNKNOWN,
        "Checked again in the review",
        evidence=f"Not checked: the API user could not connect (see {steps.ref('api-user')}).",
    )


def _verified_step_keys(tenant: Tenant) -> list[str]:
    """Steps (other than summary steps) holding results from an earlier verification."""
    summaries = [s.key for s in steps.STEPS if s.requires_earlier]
    return [
        p.step_key
        for p in StepProgress.objects.filter(tenant=tenant).exclude(step_key__in=summaries)
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
        # updated_at too: colleagues' open pages see the run start (selectors.live_version).
        .update(verification_started_at=now, updated_at=now)
    )
    if not claimed:
        raise VerificationInProgress(
            "A verification of this step is already running; its results appear here when it "
            "finishes."
        )


def _release(tenant: Tenant, step_key: str) -> None:
    StepProgress.objects.filter(tenant=tenant, step_key=step_key).update(
        verification_started_at=None, updated_at=timezone.now()
    )


def step_verify(
    *,
    tenant: Tenant,
    step_key: str,
    user: Actor,
    background: bool = False,
    postpone_above: float | None = None,
) -> VerificationOutcome:
    """Run the step's checks against Autotask, store the results, and return them.

    A person's Verify answers within AUTOTASK_INTERACTIVE_DEADLINE_SECONDS, without retries.
    ``background`` runs (re-verification, commands) retry with backoff instead, and stop
    early, storing nothing (checks.Postponed), above ``postpone_above`` of the API threshold.
    """
    step = steps.STEPS_BY_KEY[step_key]
    if not step.verifies:
        raise ValueError(f"{step_key} has nothing to verify")
    _claim(tenant, step_key)
    try:
        inputs = verification_inputs(tenant)
        progress = StepProgress.objects.get(tenant=tenant, step_key=step_key)
        missing = step.nothing_to_verify(progress.answers)
        if missing:
            raise NothingToVerify(missing)
        if step.reads_dates and not step.requires_earlier and not inputs.time_zone:
            # Every date rule needs it: no Autotask call for a verdict that could be a day off.
            raise NothingToVerify(steps.time_zone_needed())
        client = client_for(tenant, "background" if background else "verify")
        if step.requires_earlier:
            by_step = {
                key: [r.as_dict() for r in results]
                for key, results in checks.run(
                    client,
                    inputs,
                    background=background,
                    postpone_above=postpone_above if background else None,
                ).items()
            }
            if (
                list(by_step) == ["api-user"]
                and checks.worst(by_step["api-user"]) != checks.CheckStatus.PASS
            ):
                # No connection: the other steps' earlier verdicts no longer hold either.
                for key in _verified_step_keys(tenant):
                    by_step.setdefault(key, [_not_rechecked().as_dict()])
            results = [r for rs in by_step.values() for r in rs]
            by_step[step_key] = results
        else:
            results = [r.as_dict() for r in checks.run(client, inputs, {step_key})[step_key]]
            by_step = {step_key: results}
        _remember_zone(tenant, client)
        ran = [checks.CheckResult.from_dict(r) for r in results]
        record_auth_outcome(
            tenant,
            rejected=any(r.error == "authentication_failed" for r in ran),
            refused=any(r.refused_credentials for r in ran),
            accepted=bool(ran)
            and not any(r.refused_credentials for r in ran)
            and any(r.status == checks.CheckStatus.PASS for r in ran),
        )
        with transaction.atomic():
            previous = _record(tenant, user, by_step, run_step=step_key, calls=client.calls)
            _fill_names(tenant, results)
        logger.info(
            "verified tenant=%s step=%s calls=%d worst=%s",
            tenant.code,
            step_key,
            client.calls,
            checks.worst(results),
        )
        return VerificationOutcome(step_key, results, by_step, client.calls, previous)
    finally:
        _release(tenant, step_key)
