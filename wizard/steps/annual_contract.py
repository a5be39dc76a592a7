"""The guide's Seat Based Annual phase: a Fixed Price contract per annual customer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from wizard.facts import ACTIVATIONS_PATH, CONTRACTS_CONFIGURE_HELP_URL
from wizard.steps.base import ChecklistItem, Facts, Instruction, Section, Step
from wizard.steps.forms import ContractRowMixin, StepForm, answer_field
from wizard.steps.rules import time_zone_needed, unmet


class AnnualContractForm(ContractRowMixin, StepForm):
    answer_fields = ("has_annual",)
    has_annual = answer_field(
        forms.ChoiceField(
            required=False,
            widget=forms.RadioSelect,
            choices=[
                ("yes", "Yes, some customers have Seat Based Annual subscriptions"),
                ("no", "No, none of our customers has annual seat subscriptions"),
            ],
            label="Do any customers have Seat Based Annual subscriptions?",
        )
    )


def blockers(answers: Mapping[str, Any], facts: Facts) -> list[str]:
    has_annual = answers.get("has_annual")
    return unmet(
        (
            has_annual not in {"yes", "no"},
            "Tell us whether any customer has Seat Based Annual subscriptions.",
        ),
        (
            has_annual == "yes" and not answers.get("contracts"),
            "Add the Fixed Price contract of at least one annual customer.",
        ),
        (has_annual == "yes" and not facts.time_zone_set, time_zone_needed()),
    )


def verification_wanted(answers: Mapping[str, Any]) -> bool:
    # Declaring "no annual customers" leaves nothing in Autotask to check.
    return answers.get("has_annual") != "no"


def nothing_to_verify(answers: Mapping[str, Any]) -> str:
    if answers.get("has_annual") == "yes" and answers.get("contracts"):
        return ""
    return (
        "Add the Fixed Price contract of at least one annual customer, then verify. If you have "
        "none, say so above: there is then nothing to verify."
    )


STEP = Step(
    key="annual-contract",
    inputs_template="wizard/inputs/annual-contract.html",
    form=AnnualContractForm,
    blockers=blockers,
    verification_wanted=verification_wanted,
    list_caption="Contracts added",
    list_field="contracts",
    list_label="Fixed Price contracts of your annual customers",
    nothing_to_verify=nothing_to_verify,
    reads_dates=True,
    title="Seat Based Annual contracts",
    phase="Seat Based Annual",
    summary="Customers with annual seat subscriptions need a separate Fixed Price contract. "
    "Pick them here, or tell us you have none.",
    why=(
        "Annual subscriptions are not billed every month, so they cannot go on the Recurring "
        "Service contract. Autotask needs a different contract for them."
    ),
    optional=True,
    skip_consequence=(
        "Seat Based Annual subscriptions will not sync into Autotask until each of those "
        "customers has a Fixed Price contract. Monthly subscriptions are not affected."
    ),
    verifies=True,
    verification_needs=("api-user",),
    sections=(
        Section(
            "Create a Fixed Price contract",
            (
                Instruction(
                    "A new Autotask has only the Time & Materials and Recurring Service "
                    "contract types active, so Fixed Price may be missing from the list. If "
                    "it is, activate it first.",
                    path=ACTIVATIONS_PATH,
                    settings=("Fixed Price",),
                    link=CONTRACTS_CONFIGURE_HELP_URL,
                ),
                Instruction(
                    "For each customer with annual seat subscriptions that you want to sync, "
                    "create a new contract and choose the contract type Fixed Price. Keep "
                    "the customer's Recurring Service contract for the monthly items.",
                    settings=("Fixed Price",),
                ),
            ),
        ),
    ),
    # Only asked of partners who have annual customers ("yes" below).
    branch_field="has_annual",
    checklist=(
        ChecklistItem("fixed-price-created", "Each annual customer has a new contract.", "yes"),
        ChecklistItem("type-fixed-price", "Its contract type is Fixed Price.", "yes"),
    ),
)
