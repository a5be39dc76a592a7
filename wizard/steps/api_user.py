"""Step 3 of the guide: the API user Billing Sync signs in with, its Username and Secret."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms

from wizard.facts import API_USER_HELP_URL, SUGGESTED_LEVEL_NAME, VENDOR_NAME
from wizard.steps.base import ChecklistItem, Facts, Instruction, Section, Step
from wizard.steps.forms import StepForm, answer_field
from wizard.steps.rules import unmet

USERNAME_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")


class ApiUserForm(StepForm):
    answer_fields = ()  # username and Secret are stored through services.credentials_save

    # The Username as the page showed it goes along (answer_field), as for every answer.
    username = answer_field(
        forms.CharField(
            required=False,
            max_length=254,
            label="API user Username",
            help_text="As Autotask generated it, e.g. ab1cdef2ghijk3l@yourcompany.com",
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )
    )
    secret = forms.CharField(
        required=False,
        strip=False,
        max_length=255,
        label="API user Secret",
        # Never rendered back into the page, whatever happens.
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "new-password", "aria-describedby": "secret-note"},
        ),
    )

    # An opaque stamp of the credentials stored when the page was made (never the Secret): a
    # new Secret from a page older than a colleague's save is refused (services).
    credentials_stamp = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_username(self) -> str:
        value: str = self.cleaned_data.get("username", "").strip()
        if value and not value.isascii():
            raise forms.ValidationError(
                "Autotask API usernames contain only plain letters, digits and @ . - _; "
                "please copy it again from Autotask."
            )
        if value and not USERNAME_RE.match(value):
            raise forms.ValidationError(
                "This does not look like an Autotask API username. Autotask generates it when "
                "you create the API user; it looks like an email address "
                "(e.g. ab1cdef2ghijk3l@yourcompany.com). Copy it from the user's page."
            )
        return value

    def clean_secret(self) -> str | None:
        value: str = self.cleaned_data.get("secret", "")
        if value == "":
            return None  # blank means "keep the stored Secret"
        if not value.strip():
            raise forms.ValidationError("The Secret cannot be only spaces.")
        if value != value.strip():
            raise forms.ValidationError(
                "The Secret starts or ends with a space, which Autotask never generates. "
                "Copy it again without the surrounding spaces."
            )
        return value


def blockers(answers: Mapping[str, Any], facts: Facts) -> list[str]:
    return unmet(
        (not facts.username, "Enter the API user's Username."),
        (not facts.has_secret, "Enter the API user's Secret."),
    )


STEP = Step(
    key="api-user",
    inputs_template="wizard/inputs/api-user.html",
    form=ApiUserForm,
    blockers=blockers,
    # The Username is kept with the Secret (AutotaskCredential), not in the answers.
    started_by=lambda facts: bool(facts.username),
    title="The API user",
    phase="Configure the Autotask API user",
    summary="Create the API user Billing Sync signs in with, then enter its Username and "
    "Secret here so we can test them.",
    why=(
        "Billing Sync talks to Autotask as this user. Autotask only lets it in when the "
        f"user's Integration Vendor is '{VENDOR_NAME}', the user is Active and not Locked."
    ),
    verifies=True,
    sections=(
        Section(
            "Create the API user in Autotask",
            (
                Instruction(
                    "Open the menu at the top left and go to the resources list.",
                    path="Admin > Resources (Users)",
                ),
                Instruction(
                    "At the top left of the Resources view, click + New and choose New API User.",
                    settings=("+ New", "New API User"),
                ),
                Instruction(
                    "Fill in every required field. Use an email address that someone "
                    "actually reads: Autotask sends notices about this user there.",
                    settings=("Email",),
                ),
                Instruction(
                    "Leave Active ticked and Locked unticked.",
                    settings=("Active", "Locked"),
                ),
                Instruction(
                    "If you made a custom security level in the previous step, choose it as "
                    f"this user's Security Level (for example '{SUGGESTED_LEVEL_NAME}').",
                    settings=("Security Level",),
                ),
                Instruction(
                    f"For Integration Vendor, choose '{VENDOR_NAME}'.",
                    settings=("Integration Vendor", VENDOR_NAME),
                ),
                Instruction(
                    "Generate the Username and the Secret. Copy the Secret somewhere safe now: "
                    "Autotask will not show it again once you save. Billing Sync needs both "
                    "when you set up the Autotask sync.",
                    settings=("Username", "Secret"),
                ),
                Instruction(
                    "Click Save & Close at the top left.",
                    settings=("Save & Close",),
                ),
                Instruction(
                    "Autotask's own help on adding or editing an API user has more detail.",
                    link=API_USER_HELP_URL,
                ),
            ),
        ),
        Section(
            "Enter the credentials here",
            (),
            intro="Type the Username and the Secret below. We store the Secret encrypted "
            "and never show it again; we use it only to check your Autotask.",
        ),
    ),
    checklist=(
        ChecklistItem("user-created", "I created a New API User under Admin > Resources."),
        ChecklistItem("monitored-email", "Its email address is one somebody reads."),
        ChecklistItem("active-checked", "Active is ticked."),
        ChecklistItem("locked-unchecked", "Locked is unticked."),
        ChecklistItem("vendor-selected", f"Integration Vendor is '{VENDOR_NAME}'."),
        ChecklistItem("secret-saved", "I saved the Secret somewhere safe."),
        ChecklistItem("saved-closed", "I clicked Save & Close."),
    ),
)
