"""Step 4 of the guide: each customer's Recurring Service contract, and when the sync starts."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms

from wizard.steps.base import ChecklistItem, Facts, Instruction, Section, Step
from wizard.steps.forms import ContractRowMixin, StepForm, answer_field
from wizard.steps.rules import time_zone_needed, unmet

SYNC_START_MOST_RECENT = "most-recent"
SYNC_START_NEXT = "next"
SYNC_START_CHOICES = (
    (SYNC_START_MOST_RECENT, "The most recent invoice (already issued this month)"),
    (SYNC_START_NEXT, "The next invoice (issued next month)"),
)


def first_usage_date(sync_start: str, today: datetime.date) -> datetime.date:
    """The first day of usage the sync copies (DESIGN section 4).

    Invoices are monthly and in arrears: the invoice issued in month M bills month M-1. Starting
    with the most recent invoice (issued this month) therefore copies last month's usage from
    its 1st; starting with the next invoice copies this month's usage from its 1st.
    """
    first_of_this_month = today.replace(day=1)
    if sync_start == SYNC_START_MOST_RECENT:
        return (first_of_this_month - datetime.timedelta(days=1)).replace(day=1)
    if sync_start == SYNC_START_NEXT:
        return first_of_this_month
    raise ValueError(f"unknown sync start {sync_start!r}")


class RecurringContractForm(ContractRowMixin, StepForm):
    answer_fields = ("sync_start",)
    sync_start = answer_field(
        forms.ChoiceField(
            required=False,
            widget=forms.RadioSelect,
            choices=SYNC_START_CHOICES,
            label="Billing Sync will start with",
        )
    )


def blockers(answers: Mapping[str, Any], facts: Facts) -> list[str]:
    return unmet(
        (
            answers.get("sync_start") not in dict(SYNC_START_CHOICES),
            "Choose whether the sync starts with the most recent or the next invoice.",
        ),
        (
            not answers.get("customers"),
            "Add at least one customer and its Recurring Service contract.",
        ),
        (not facts.time_zone_set, time_zone_needed()),
    )


def nothing_to_verify(answers: Mapping[str, Any]) -> str:
    if answers.get("customers") and answers.get("sync_start"):
        return ""
    return "Choose when the sync starts and add at least one customer's contract, then verify."


STEP = Step(
    key="recurring-contract",
    inputs_template="wizard/inputs/recurring-contract.html",
    form=RecurringContractForm,
    blockers=blockers,
    list_caption="Customers added",
    list_field="customers",
    list_label="Customers to sync and their Recurring Service contracts",
    # Billing Sync adds a customer's invoice lines to one contract.
    list_unique_by=("company_id",),
    nothing_to_verify=nothing_to_verify,
    reads_dates=True,
    title="Recurring Service contracts",
    phase="Add a Recurring Service contract",
    summary="Each customer you want to sync needs a Recurring Service contract in Autotask "
    "that starts early enough. Pick them here and we check their type and dates.",
    why=(
        "Billing Sync adds each customer's monthly invoice lines to that customer's Recurring "
        "Service contract. Invoices bill usage in arrears, so the contract must already be "
        "running on the first day of usage that will be synced, or lines are rejected or "
        "prorated."
    ),
    verifies=True,
    verification_needs=("api-user",),
    sections=(
        Section(
            "Create one contract per customer",
            (
                Instruction(
                    "In Autotask, add a contract for each customer you want to sync, "
                    "following Autotask's instructions for adding a Recurring Service "
                    "contract.",
                    settings=("Recurring Service",),
                ),
                Instruction(
                    "Choose when the sync should start: with the most recent invoice or with "
                    "the next one. You make the same choice in Billing Sync when you enable "
                    "the sync, and it decides the first day of usage that will be copied.",
                    settings=("most recent", "next"),
                ),
                Instruction(
                    "Billing is in arrears: set the contract's Start Date on or before that "
                    "first day of usage (we show the date below).",
                    settings=("Start Date",),
                ),
                Instruction(
                    "Make the Start Date the first day of a month, so Autotask does not add "
                    "prorated line items to the invoices.",
                    settings=("first day of the month",),
                ),
                Instruction(
                    "Leave the End Date empty or well in the future: Billing Sync does not "
                    "offer contracts whose end date has passed.",
                    settings=("End Date",),
                ),
            ),
        ),
    ),
    checklist=(
        ChecklistItem("contract-per-customer", "Every customer to sync has its own contract."),
        ChecklistItem("type-recurring", "Each contract's type is Recurring Service."),
        ChecklistItem("start-first-of-month", "Each Start Date is the first day of a month."),
    ),
)
