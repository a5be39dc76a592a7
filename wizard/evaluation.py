"""When is a step done? One pure function, used by services (to store the state) and by
selectors (to tell the partner what is still missing). No I/O.

A step is done only when its conditions hold: the checklist complete, its inputs given and,
for verifying steps, the last verification passed (warnings allowed, failures not). Nobody
can mark a step done by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wizard import steps
from wizard.checks import CheckResult, CheckStatus
from wizard.models import StepState

WAITING_FOR_VERIFICATION = "Waiting for verification against your Autotask."


@dataclass(frozen=True)
class Evaluation:
    state: str
    # What still stands between the partner and "done", in plain words.
    blockers: tuple[str, ...]
    checklist_done: int
    checklist_total: int


def needs_verification(step: steps.Step, answers: Mapping[str, Any]) -> bool:
    return step.verifies and step.verification_wanted(answers)


def evaluate(
    step: steps.Step,
    *,
    state: str,
    answers: Mapping[str, Any],
    checklist: Sequence[str],
    check_results: Sequence[Mapping[str, Any]],
    facts: steps.Facts,
    unfinished_before: Sequence[str] = (),
) -> Evaluation:
    required = [i.id for i in step.checklist_for(step.branch_of(answers))]
    ticked = [i for i in required if i in checklist]
    if state == StepState.SKIPPED:
        return Evaluation(StepState.SKIPPED, (), len(ticked), len(required))

    blockers = step.blockers(answers, facts)
    if step.requires_earlier and unfinished_before:
        # A summary step cannot be done while an earlier step is open.
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

    touched = bool(answers or checklist or check_results) or step.started_by(facts)
    if verification_failed:
        new_state = StepState.NEEDS_ATTENTION
    elif not blockers:
        new_state = StepState.DONE
    elif touched:
        new_state = StepState.IN_PROGRESS
    else:
        new_state = StepState.NOT_STARTED
    return Evaluation(new_state, tuple(blockers), len(ticked), len(required))
