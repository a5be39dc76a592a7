"""What the partner takes to Billing Sync at the end (the hand-off), and what they are told
after an admin's reset."""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from wizard import steps
from wizard.autotask import dates
from wizard.models import StepState, Tenant
from wizard.selectors.overview import WizardOverview, wizard_overview

# ---------------------------------------------------------------------------------------------
# The hand-off to Billing Sync: what its connection setup asks for, built once here for the
# completion page, the staff tenant page, the JSON API and the account manager's email. It
# holds the API Username and never the Secret (the Secret is not even read).


@dataclass(frozen=True)
class HandoffContract:
    """One customer's Autotask company and the contract Billing Sync maps it to."""

    company_id: int
    company_name: str  # "" when the row was typed by id and no name was ever read
    contract_id: int
    contract_name: str

    def as_json(self) -> dict[str, Any]:
        return {
            "company": {"id": self.company_id, "name": self.company_name or None},
            "contract": {"id": self.contract_id, "name": self.contract_name or None},
        }


@dataclass(frozen=True)
class Handoff:
    tenant_name: str
    api_username: str
    sync_start: str  # a key of steps.SYNC_START_CHOICES
    sync_start_label: str
    # The first day of usage the sync copies, as of the day everything was verified, in the
    # tenant's time zone (it moves on with the month in which the sync is enabled).
    first_usage: datetime.date | None
    time_zone: str
    recurring: tuple[HandoffContract, ...]
    # Seat Based Annual -> Fixed Price contracts; "yes", "no" or "skipped".
    annual_answer: str
    annual: tuple[HandoffContract, ...]
    verified_at: datetime.datetime | None

    @property
    def verified_on(self) -> datetime.date | None:
        """The day of the verification in the tenant's time zone."""
        if self.verified_at is None:
            return None
        return dates.today_in(self.time_zone or "UTC", now=self.verified_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "api_username": self.api_username,
            "sync_start": {"value": self.sync_start, "label": self.sync_start_label},
            "first_usage_date": self.first_usage.isoformat() if self.first_usage else None,
            "time_zone": self.time_zone,
            "recurring_contracts": [c.as_json() for c in self.recurring],
            "annual": {
                "answer": self.annual_answer,
                "contracts": [c.as_json() for c in self.annual],
            },
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
        }

    def digest(self) -> str:
        """What the hand-off says, as a short fingerprint. Left out: the verification time (a
        re-verification that changes nothing is the same hand-off) and the company and
        contract names (labels only: a verification fills in the names of rows typed by id,
        which changes nothing Billing Sync is given)."""
        content = {
            **self.as_json(),
            "verified_at": None,
            "recurring_contracts": [(c.company_id, c.contract_id) for c in self.recurring],
            "annual": [self.annual_answer, [(c.company_id, c.contract_id) for c in self.annual]],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _contracts(rows: Any) -> tuple[HandoffContract, ...]:
    out = []
    for row in rows or ():
        if not isinstance(row, dict):
            continue
        out.append(
            HandoffContract(
                company_id=int(row.get("company_id") or 0),
                company_name=str(row.get("company_name") or ""),
                contract_id=int(row.get("contract_id") or 0),
                contract_name=str(row.get("contract_name") or ""),
            )
        )
    return tuple(out)


def handoff(tenant: Tenant, overview: WizardOverview | None = None) -> Handoff | None:
    """The hand-off to Billing Sync once every step is done or skipped; None before."""
    overview = overview or wizard_overview(tenant)
    if not overview.all_finished:
        return None
    summary = next(s for s in overview.steps if s.step.requires_earlier)
    recurring_step = steps.REGISTRY.asking("sync_start")
    annual_step = steps.REGISTRY.asking("has_annual")
    recurring = overview.get(recurring_step.key).progress
    annual = overview.get(annual_step.key).progress
    sync_start = str(recurring.answers.get("sync_start", ""))
    verified_at = summary.progress.verified_at
    first_usage = None
    if sync_start in dict(steps.SYNC_START_CHOICES) and tenant.time_zone and verified_at:
        first_usage = steps.first_usage_date(
            sync_start, dates.today_in(tenant.time_zone, now=verified_at)
        )
    if annual.state == StepState.SKIPPED:
        annual_answer = "skipped"
    else:
        annual_answer = str(annual.answers.get("has_annual", ""))
    return Handoff(
        tenant_name=tenant.name,
        api_username=overview.credential_username,
        sync_start=sync_start,
        sync_start_label=dict(steps.SYNC_START_CHOICES).get(sync_start, ""),
        first_usage=first_usage,
        time_zone=tenant.time_zone,
        recurring=_contracts(recurring.answers.get(recurring_step.list_field)),
        annual_answer=annual_answer,
        annual=(
            _contracts(annual.answers.get(annual_step.list_field)) if annual_answer == "yes" else ()
        ),
        verified_at=verified_at,
    )


@dataclass(frozen=True)
class ResetNotice:
    """An admin's reset, as the partner is told about it (from Tenant.reset_notice; no query)."""

    whole: bool
    from_title: str
    at: datetime.datetime | None
    reason: str


def reset_notice(tenant: Tenant) -> ResetNotice | None:
    notice = tenant.reset_notice
    if not notice:
        return None
    try:
        at: datetime.datetime | None = datetime.datetime.fromisoformat(str(notice.get("at")))
    except ValueError:
        at = None
    return ResetNotice(
        whole=bool(notice.get("whole")),
        from_title=str(notice.get("from_title", "")),
        at=at,
        reason=str(notice.get("reason", "")),
    )
