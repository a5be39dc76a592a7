"""When is a step done? One pure function, used by services (to store the state) and by
selectors (to tell the partner what is still missing). No I/O.

A step is done only when its conditions hold: the checklist complete, its inputs given and,
for verifying steps, the last verification passed (warnings allowed, failures not). Nobody
can mark a step done by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wizard import steps
from wizard.checks import CheckResult, CheckStatus
from wizard.models import StepState

WAITING_FOR_VERIFICATION = "Waiting for verification against your Autotask."
TIME_ZONE_NEEDED = (
    "Choose your Autotask's time zone in step 1 (Your Autotask account): contract dates are "
    "read in it."
)


@dataclass(frozen=True)
class Evaluation:
    state: str
    # What still stands between the partner and "done", in plain words.
    blockers: tuple[str, ...]
    checklist_done: int
    checklist_total: int


def needs_verification(step: steps.Step, answers: dict[str, Any]) -> bool:
    # Declaring "no annual customers" leaves nothing in Autotask to check.
    return step.verifies and not (
        step.key == "annual-contract" and answers.get("has_annual") == "no"
    )


def input_blockers(
    step: steps.Step,
    answers: dict[str, Any],
    *,
    has_credentials: bool,
    time_zone_set: bool = True,
) -> list[str]:
    out: list[str] = []
    if step.key == "account":
        if answers.get("branch") not in {"new", "existing"}:
            out.append("Choose whether you need a new Autotask account or already have one.")
        if not time_zone_set:
            out.append("Choose the time zone your Autotask works in.")
    elif step.key == "api-user":
        if not answers.get("username"):
            out.append("Enter the API user's Username.")
        if not has_credentials:
            out.append("Enter the API user's Secret.")
    elif step.key == "recurring-contract":
        if answers.get("sync_start") not in {steps.SYNC_START_MOST_RECENT, steps.SYNC_START_NEXT}:
            out.append("Choose whether the sync starts with the most recent or the next invoice.")
        if not answers.get("customers"):
            out.append("Add at least one customer and its Recurring Service contract.")
        if not time_zone_set:
            out.append(TIME_ZONE_NEEDED)
    elif step.key == "annual-contract":
        has_annual = answers.get("has_annual")
        if has_annual not in {"yes", "no"}:
            out.append("Tell us whether any customer has Seat Based Annual subscriptions.")
        elif has_annual == "yes" and not answers.get("contracts"):
            out.append("Add the Fixed Price contract of at least one annual customer.")
        if has_annual == "yes" and not time_zone_set:
            out.append(TIME_ZONE_NEEDED)
    return out


def evaluate(
    step: steps.Step,
    *,
    state: str,
    answers: dict[str, Any],
    checklist: Sequence[str],
    check_results: Sequence[dict[str, Any]],
    has_credentials: bool,
    unfinished_before: Sequence[str] = (),
    time_zone_set: bool = True,
) -> Evaluation:
    required = [i.id for i in step.checklist_for(step.branch_of(answers))]
    ticked = [i for i in required if i in checklist]
    if state == StepState.SKIPPED:
        return Evaluation(StepState.SKIPPED, (), len(ticked), len(required))

    blockers = input_blockers(
        step, answers, has_credentials=has_credentials, time_zone_set=time_zone_set
    )
    if step.key == "review" and unfinished_before:
        # The review is the summary: it cannot be done while an earlier step is open.
        blockers.append("Finish the earlier steps first: " + ", ".join(unfinished_before) + ".")
    missing = len(required) - len(ticked)
    if missing:
        blockers.append(
            f"Tick the {missing} remaining checklist item{'s' if missing != 1 else ''}."
        )

    statuses = {CheckResult.from_dict(r).status for r in check_results}
    verification_failed = False
    if needs_verification(step, answers):
        if not check_results:
            blockers.append(WAITING_FOR_VERIFICATION)
        elif CheckStatus.FAIL in statuses:
            verification_failed = True
            blockers.append("Fix the failed checks below, then verify again.")
        elif CheckStatus.UNKNOWN in statuses:
            blockers.append("Some checks could not be completed; verify again.")

    touched = bool(answers or checklist or check_results)
    if verification_failed:
        new_state = StepState.NEEDS_ATTENTION
    elif not blockers:
        new_state = StepState.DONE
    elif touched:
        new_state = StepState.IN_PROGRESS
    else:
        new_state = StepState.NOT_STARTED
    return Evaluation(new_state, tuple(blockers), len(ticked), len(required))
