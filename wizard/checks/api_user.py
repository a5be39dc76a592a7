"""api-user: can the API user sign in, and is it the right Autotask?

Order matters and each call is cheap: the zone lookup (no credentials) tells a wrong username
apart; ThresholdInformation is the cheapest authenticated call and tells a wrong Secret (401)
from a rejected integration code (500 "IntegrationCode is invalid."); Companies/0 is the
partner's own company, so the partner can confirm it is the right Autotask.
Reference: shared/reference/autotask-rest-api.md section 9 (probe order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from wizard.autotask import (
    AuthenticationFailed,
    AutotaskClient,
    AutotaskError,
    IntegrationCodeRejected,
    Threshold,
    UnknownUsername,
    Zone,
)
from wizard.checks.base import (
    CheckResult,
    connection_result,
    from_error,
)
from wizard.checks.status import CheckStatus
from wizard.facts import API_ACTIVITY_PATH, USERS_PATH, VENDOR_NAME

WARN_USAGE = 0.5  # Autotask adds latency to every call from 50 % of the hourly threshold.

TITLES = {
    "auth.username": "Autotask knows the API username",
    "auth.secret": "Autotask accepts the Secret",
    # What Autotask's acceptance proves: the code, Username and Secret work together. No REST
    # entity shows the API user's Integration Vendor (reference, Corrections), so that stays
    # a checklist item the partner confirms.
    "auth.integration-code": "Billing Sync's integration code is accepted with this Username "
    "and Secret",
    "auth.company": "This is your Autotask",
    "auth.threshold": "API usage leaves room for Billing Sync",
}


def _not_checked(check_id: str, because: str) -> CheckResult:
    return CheckResult(
        check_id, CheckStatus.UNKNOWN, TITLES[check_id], evidence=f"Not checked: {because}"
    )


def _refused(
    check_id: str, error: AutotaskError, fix: str, *, because: str, not_reached: tuple[str, ...]
) -> list[CheckResult]:
    """Autotask refused the sign-in at ``check_id``: that fails, the checks after it were not
    made (``because`` says why)."""
    failed = CheckResult(
        check_id,
        CheckStatus.FAIL,
        TITLES[check_id],
        evidence=error.user_message,
        fix=fix,
        error=error.code,
    )
    return [failed, *(_not_checked(k, because) for k in not_reached)]


@dataclass(frozen=True)
class Connection:
    """The outcome of signing in: results so far, and what later checks need."""

    results: list[CheckResult]
    zone: Zone | None = None
    threshold: Threshold | None = None

    @property
    def ok(self) -> bool:
        return self.zone is not None and self.threshold is not None


def connect(client: AutotaskClient) -> Connection:
    """Zone lookup, then the cheapest authenticated call: who is this, and may they in?"""
    results: list[CheckResult] = []
    try:
        zone = client.discover_zone()
    except UnknownUsername as e:
        fix = f"Open {USERS_PATH}, open the API user and copy its Username exactly."
        return Connection(
            _refused(
                "auth.username",
                e,
                fix,
                because="the username is not known.",
                not_reached=(
                    "auth.secret",
                    "auth.integration-code",
                    "auth.company",
                    "auth.threshold",
                ),
            )
        )
    except AutotaskError as e:
        if e.transport:
            return Connection([connection_result(e, unread="which zone holds the API user")])
        return Connection([from_error("auth.username", TITLES["auth.username"], e)])
    results.append(
        CheckResult(
            "auth.username",
            CheckStatus.PASS,
            TITLES["auth.username"],
            evidence=f"Autotask found the user in zone {zone.name or '(unnamed)'} ({zone.url}).",
        )
    )

    try:
        threshold = client.get_threshold()
    except AuthenticationFailed as e:
        fix = (
            f"In {USERS_PATH}, open the API user: check Active is ticked and Locked is not, and "
            f"that Integration Vendor is '{VENDOR_NAME}'. If the Secret may be wrong, generate a "
            "new one, save it, and enter it here."
        )
        refused = _refused(
            "auth.secret",
            e,
            fix,
            because="Autotask did not accept the credentials.",
            not_reached=("auth.integration-code", "auth.company", "auth.threshold"),
        )
        return Connection(results + refused)
    except IntegrationCodeRejected as e:
        # Autotask does not document whether it checks the code or the Secret first, so the
        # Secret is not declared good here: it simply was not reached.
        fix = (
            f"In {USERS_PATH}, open the API user, set Integration Vendor to '{VENDOR_NAME}', "
            "click Save & Close, wait a few minutes, verify again."
        )
        refused = _refused(
            "auth.integration-code",
            e,
            fix,
            because="Autotask rejected the integration code.",
            not_reached=("auth.company", "auth.threshold"),
        )
        secret = _not_checked("auth.secret", "Autotask stopped at the integration code first.")
        return Connection([*results, secret, *refused])
    except AutotaskError as e:
        if e.transport:
            # Throttled, thread limit, timeout: no verdict on the Secret either way.
            return Connection(results + [connection_result(e, unread="the sign-in")])
        return Connection(results + [from_error("auth.secret", TITLES["auth.secret"], e)])

    results.append(
        CheckResult(
            "auth.secret",
            CheckStatus.PASS,
            TITLES["auth.secret"],
            evidence="Autotask accepted the Username and Secret.",
        )
    )
    results.append(
        CheckResult(
            "auth.integration-code",
            CheckStatus.PASS,
            TITLES["auth.integration-code"],
            evidence="Autotask accepted Billing Sync's integration code together with this "
            "Username and Secret. Autotask's API does not show the user's Integration Vendor "
            f"itself: confirm in the checklist that it is '{VENDOR_NAME}'.",
        )
    )
    return Connection(results, zone, threshold)


COMPANY = "company"


def reads(client: AutotaskClient) -> dict[str, Callable[[], Any]]:
    """What this step reads after signing in: the partner's own company (company 0)."""
    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
    return {COMPANY: partial(client.get, "Companies", 0)}


def judge_company(company: dict[str, Any] | None | AutotaskError, zone: Zone) -> CheckResult:
    where = f"zone {zone.name or zone.url}" + (
        f", database id {zone.ci}" if zone.ci is not None else ""
    )
    if isinstance(company, AutotaskError):
        return from_error("auth.company", TITLES["auth.company"], company)
    if company is None:
        # With the guide's CRM setting (All for Customer and Cancellation only) the API user
        # cannot see your own company, which is of neither type: expected, and harmless for
        # Billing Sync, which reads customers only. Autotask says 404 or item null alike.
        return CheckResult(
            "auth.company",
            CheckStatus.PASS,
            TITLES["auth.company"],
            evidence=f"Signed in to {where}. Your own company (company 0) is hidden from this "
            "API user, as expected with the guide's CRM setting (All for Customer and "
            "Cancellation only). If you have more than one Autotask, check that the zone "
            "matches the address you log in at.",
        )
    name = str(company.get("companyName") or "(no name)")
    return CheckResult(
        "auth.company",
        CheckStatus.PASS,
        TITLES["auth.company"],
        evidence=f"Connected to {name} ({where}). If this is not your company, the "
        "credentials belong to another Autotask.",
    )


def judge_threshold(threshold: Threshold) -> CheckResult:
    ratio = threshold.usage_ratio
    used = (
        f"{threshold.current_count:,} of {threshold.limit:,} requests in the last "
        f"{threshold.timeframe_minutes} minutes ({ratio:.0%})."
    )
    if ratio >= 1:
        status, fix = (
            CheckStatus.FAIL,
            "Autotask suspends the API at the threshold. Find the integration using it in "
            f"{API_ACTIVITY_PATH}, then verify again.",
        )
    elif ratio >= WARN_USAGE:
        status, fix = (
            CheckStatus.WARN,
            "Above 50 % Autotask slows every API call down. See which integrations use the "
            f"API in {API_ACTIVITY_PATH}.",
        )
    else:
        status, fix = CheckStatus.PASS, ""
    return CheckResult("auth.threshold", status, TITLES["auth.threshold"], evidence=used, fix=fix)


def finish(
    connection: Connection, company: dict[str, Any] | None | AutotaskError
) -> list[CheckResult]:
    if connection.zone is None or connection.threshold is None:
        raise ValueError("finish() needs a connection that succeeded")
    if isinstance(company, AutotaskError) and company.transport:
        return [
            *connection.results,
            judge_threshold(connection.threshold),
            connection_result(company, unread="your own company"),
        ]
    return [
        *connection.results,
        judge_company(company, connection.zone),
        judge_threshold(connection.threshold),
    ]
