"""The guide's last phase: everything verified again, and what Billing Sync asks for next."""

from __future__ import annotations

from wizard.facts import BILLING_SYNC_CONNECTIONS_PATH
from wizard.steps.base import ChecklistItem, Instruction, Section, Step

STEP = Step(
    key="review",
    requires_earlier=True,
    reads_dates=True,
    title="Review",
    phase="Ready for the next phase",
    summary="Everything checked again in one go, the warnings still open, and what you need "
    "for Billing Sync.",
    why=(
        "The guide asks you to finish these steps before you move on to the next phase: "
        "connecting Autotask in Billing Sync."
    ),
    verifies=True,
    verification_needs=("api-user",),
    sections=(
        Section(
            "What Billing Sync will ask for next",
            (
                Instruction(
                    "The API user's Username and Secret, entered in Billing Sync when you "
                    "configure the Autotask sync.",
                    path=BILLING_SYNC_CONNECTIONS_PATH,
                ),
                Instruction(
                    "Your choice of the most recent or the next invoice when you enable the "
                    "sync (the same one you made in the contracts step).",
                ),
                Instruction(
                    "For each customer, its Autotask company and contract to map it to.",
                ),
                Instruction(
                    "A Billing Code of type Recurring Contract for the synced services. The "
                    "wizard does not check this one: tick it in the checklist once you have "
                    "looked in Autotask.",
                ),
            ),
        ),
    ),
    checklist=(
        ChecklistItem("secret-at-hand", "I have the Secret at hand for Billing Sync."),
        # Billing Sync offers only Billing Codes of this type. Whether the REST API shows a
        # code's type is unconfirmed (reference: autotask-rest-api.md), so the partner checks.
        ChecklistItem(
            "billing-code-recurring-contract",
            "Autotask has a Billing Code of type Recurring Contract for the synced services "
            "(not verified by the wizard: check it yourself).",
        ),
    ),
)
