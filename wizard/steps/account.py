"""Step 1 of the guide: create or access the Autotask account; and the tenant's time zone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from wizard.autotask.dates import time_zone_names
from wizard.steps.base import Branch, ChecklistItem, Facts, Instruction, Section, Step, unmet
from wizard.steps.forms import StepForm, answer_field

BRANCHES = (
    Branch("new", "I need a new Autotask account", "We don't use Autotask PSA yet."),
    Branch("existing", "We already use Autotask", "We have an Autotask PSA account."),
)

# Where most partners are, first: the distributor's home market, then North America.
COMMON_TIME_ZONES: tuple[tuple[str, str], ...] = (
    ("Australia/Sydney", "Sydney, Melbourne, Canberra (Australia/Sydney)"),
    ("Australia/Brisbane", "Brisbane (Australia/Brisbane)"),
    ("Australia/Adelaide", "Adelaide (Australia/Adelaide)"),
    ("Australia/Darwin", "Darwin (Australia/Darwin)"),
    ("Australia/Hobart", "Hobart (Australia/Hobart)"),
    ("Australia/Perth", "Perth (Australia/Perth)"),
    ("Pacific/Auckland", "Auckland, Wellington (Pacific/Auckland)"),
    ("Asia/Singapore", "Singapore (Asia/Singapore)"),
    ("America/New_York", "US Eastern (America/New_York)"),
    ("America/Chicago", "US Central (America/Chicago)"),
    ("America/Denver", "US Mountain (America/Denver)"),
    ("America/Phoenix", "Arizona (America/Phoenix)"),
    ("America/Los_Angeles", "US Pacific (America/Los_Angeles)"),
    ("America/Anchorage", "Alaska (America/Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Pacific/Honolulu)"),
    ("America/Toronto", "Toronto (America/Toronto)"),
    ("America/Vancouver", "Vancouver (America/Vancouver)"),
    ("Europe/London", "London (Europe/London)"),
)


def time_zone_choices() -> list[Any]:
    """A blank choice, the common zones, then every other IANA zone, each listed once."""
    common = {name for name, _label in COMMON_TIME_ZONES}
    others = [(name, name) for name in time_zone_names() if name not in common]
    return [
        ("", "Choose a time zone"),
        ("Common", list(COMMON_TIME_ZONES)),
        ("All time zones", others),
    ]


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
            widget=forms.Select(
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
