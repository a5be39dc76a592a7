"""Step 1 of the guide: create or access the Autotask account; and the tenant's time zone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from wizard.steps.base import Branch, ChecklistItem, Facts, Instruction, Section, Step
from wizard.steps.forms import StepForm, answer_field
from wizard.steps.rules import unmet
from wizard.steps.time_zones import TimeZoneSelect, time_zone_choices

BRANCHES = (
    Branch("new", "I need a new Autotask account", "We don't use Autotask PSA yet."),
    Branch("existing", "We already use Autotask", "We have an Autotask PSA account."),
)


class AccountForm(StepForm):
    answer_fields = ("branch",)  # the time zone is stored on the tenant (services)
    branch = answer_field(
        forms.ChoiceField(
            required=False,
            widget=forms.RadioSelect,
            choices=[(b.key, b.label) for b in BRANCHES],
            label="Do you already have Autotask PSA?",
        )
    )
    time_zone = answer_field(
        forms.ChoiceField(
            required=False,
            choices=time_zone_choices,
            label="Your Autotask's time zone",
            error_messages={
                "invalid_choice": "%(value)s is not a time zone we know. Choose one from the "
                "list, for example Australia/Sydney."
            },
            widget=TimeZoneSelect(
                attrs={"aria-describedby": "time-zone-help", "autocomplete": "off"}
            ),
        )
    )


def blockers(answers: Mapping[str, Any], facts: Facts) -> list[str]:
    return unmet(
        (
            answers.get("branch") not in {b.key for b in BRANCHES},
            "Choose whether you need a new Autotask account or already have one.",
        ),
        (not facts.time_zone_set, "Choose the time zone your Autotask works in."),
    )


STEP = Step(
    key="account",
    inputs_template="wizard/inputs/account.html",
    form=AccountForm,
    blockers=blockers,
    title="Your Autotask account",
    phase="Create or access the Autotask account",
    summary="Tell us whether you already use Autotask PSA, then make sure you can sign in.",
    why=(
        "Billing Sync writes invoice lines into your own Autotask PSA, so you need an "
        "Autotask account before anything else, and someone who can use its Admin menu."
    ),
    branch_field="branch",
    branches=BRANCHES,
    sections=(
        Section(
            "Get an account",
            (
                Instruction(
                    "Go to the Autotask website and choose Get A Demo, or ask for pricing. "
                    "Continue here once your Autotask account is live.",
                    settings=("Get A Demo", "request pricing"),
                    branch="new",
                ),
            ),
        ),
        Section(
            "Sign in",
            (
                Instruction(
                    "Sign in to Autotask Home with the login you already have.",
                    settings=("Autotask Home",),
                    branch="existing",
                ),
                Instruction(
                    "The next steps change settings under Admin, so sign in as an Autotask "
                    "administrator (someone who sees the Admin menu at the top left).",
                ),
            ),
        ),
    ),
    checklist=(
        ChecklistItem("account-created", "Our Autotask account has been created.", "new"),
        ChecklistItem("signed-in", "I can sign in to Autotask Home."),
        ChecklistItem("admin-access", "I can open the Admin menu in Autotask."),
    ),
)
