"""The step registry: the partner guide, phase by phase, as data. No I/O, no database.

Source: shared/reference/billing-sync-autotask-guide.md. Every instruction and setting of the
guide appears here in our own words, with Autotask's menu paths and setting names written
exactly as Autotask shows them (tests/test_steps.py holds the guide line by line against this).
Step keys are stored in the database and used in URLs: never rename a shipped key.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VENDOR_NAME = "Rhipe - Cloud Services"
DEFAULT_LEVEL_NAME = "API User (system) (API-only)"
SUGGESTED_LEVEL_NAME = "Crayon Integration"
API_USER_HELP_URL = (
    "https://autotask.net/help/content/4_admin/1CompanySettings_Users/ResourcesUsersHR/"
    "Resources/API_User_Add_Edit.htm"
)

SYNC_START_MOST_RECENT = "most-recent"
SYNC_START_NEXT = "next"
SYNC_START_CHOICES = (
    (SYNC_START_MOST_RECENT, "The most recent invoice (already issued this month)"),
    (SYNC_START_NEXT, "The next invoice (issued next month)"),
)


@dataclass(frozen=True)
class Instruction:
    """One thing to do in Autotask. ``path`` is a menu path, ``settings`` exact setting names."""

    text: str
    path: str = ""
    settings: tuple[str, ...] = ()
    # "" for everyone, else only shown on that branch of the step (e.g. "new" / "existing").
    branch: str = ""
    # A page of Autotask's own help, shown as a link.
    link: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    instructions: tuple[Instruction, ...]
    intro: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    """Something the partner confirms by hand because the API cannot see it."""

    id: str
    text: str
    branch: str = ""


@dataclass(frozen=True)
class Branch:
    key: str
    label: str
    hint: str


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    # The guide's own heading for this phase, so partners can match it to the article.
    phase: str
    summary: str
    why: str
    sections: tuple[Section, ...]
    checklist: tuple[ChecklistItem, ...]
    optional: bool = False
    skip_consequence: str = ""
    # True when the step is only done once its Autotask checks pass.
    verifies: bool = False
    branches: tuple[Branch, ...] = ()
    # Steps whose data this step's verification needs (e.g. the API user's credentials).
    verification_needs: tuple[str, ...] = field(default=())
    # The answer that picks the branch of the instructions and checklist, if any.
    branch_field: str = ""

    def branch_of(self, answers: Mapping[str, Any]) -> str:
        return str(answers.get(self.branch_field, "")) if self.branch_field else ""

    def checklist_for(self, branch: str) -> tuple[ChecklistItem, ...]:
        return tuple(i for i in self.checklist if not i.branch or i.branch == branch)

    def sections_for(self, branch: str) -> tuple[Section, ...]:
        out = []
        for section in self.sections:
            items = tuple(i for i in section.instructions if not i.branch or i.branch == branch)
            if items or section.intro:
                out.append(Section(section.title, items, section.intro))
        return tuple(out)


# The six security areas of the custom level, each with exactly what to set. Shared by the
# security-level step (instructions + checklist) and by its checks (the fix names the box).
SECURITY_AREAS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "CONTRACTS",
        "Set the Contracts object permissions View and Edit to All: View is what lets the API "
        "user read contracts at all (the Internal Costs checkbox does not). Then tick 'Can "
        "modify contract Internal Costs' and 'Service/Bundle on contract changes', and leave "
        "every other checkbox in the area unticked.",
        (
            "Contracts View: All",
            "Contracts Edit: All",
            "Can modify contract Internal Costs",
            "Service/Bundle on contract changes",
        ),
    ),
    (
        "CRM",
        "Set 'Customer' to All and 'Cancellation' to All. CRM access is set per company type, "
        "so Autotask will report Companies as restricted: that is expected.",
        ("Customer: All", "Cancellation: All"),
    ),
    (
        "INVENTORY",
        "For 'Products', allow View, Add, Edit and Delete.",
        ("Products: View", "Products: Add", "Products: Edit", "Products: Delete"),
    ),
    (
        "ADMIN",
        "Tick 'Products, Services, & Inventory' and leave the rest unticked.",
        ("Products, Services, & Inventory",),
    ),
    (
        "WEB SERVICES API",
        "Make sure 'Can login to Web Services API' is enabled; everything else in the area can "
        "stay unticked.",
        ("Can login to Web Services API",),
    ),
    (
        "OTHER",
        "Under Miscellaneous, tick 'Can View Internal Cost and Sensitive Data'.",
        ("Can View Internal Cost and Sensitive Data",),
    ),
)


def _area_slug(area: str) -> str:
    return area.lower().replace(" ", "-")


STEPS: tuple[Step, ...] = (
    Step(
        key="account",
        title="Your Autotask account",
        phase="Create or access the Autotask account",
        summary="Tell us whether you already use Autotask PSA, then make sure you can sign in.",
        why=(
            "Billing Sync writes invoice lines into your own Autotask PSA, so you need an "
            "Autotask account before anything else, and someone who can use its Admin menu."
        ),
        branch_field="branch",
        branches=(
            Branch("new", "I need a new Autotask account", "We don't use Autotask PSA yet."),
            Branch("existing", "We already use Autotask", "We have an Autotask PSA account."),
        ),
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
    ),
    Step(
        key="security-level",
        title="Security level for the API user",
        phase="Enable a custom security level (optional, highly recommended)",
        summary=(
            "Give the API user its own security level with only the rights Billing Sync needs."
        ),
        why=(
            "Billing Sync needs to view Companies, view and update Contracts, and view and "
            "update Services. Autotask's default API level can read and change everything; a "
            "copy trimmed to these rights limits what the API user can do if its Secret leaks."
        ),
        optional=True,
        skip_consequence=(
            "The API user will keep the default 'API User (system)' security level. Billing Sync "
            "still works, but that level can read and change everything in your Autotask through "
            "the API, so a leaked Secret would expose all of it. Verification will report this as "
            "'works, but not least privilege'."
        ),
        verifies=True,
        verification_needs=("api-user",),
        sections=(
            Section(
                "Copy the API user level",
                (
                    Instruction(
                        "Open the list of security levels.",
                        path="Admin > Account Settings & Users > Resources/Users > Security Levels",
                    ),
                    Instruction(
                        f"Right-click the level '{DEFAULT_LEVEL_NAME}' and choose Copy "
                        "Security Level.",
                        settings=(DEFAULT_LEVEL_NAME, "Copy Security Level"),
                    ),
                    Instruction(
                        f"Name the copy, for example '{SUGGESTED_LEVEL_NAME}', and write the name "
                        "down: you will choose it for the API user later.",
                        settings=(SUGGESTED_LEVEL_NAME,),
                    ),
                    Instruction(
                        "In every security area (Contracts, CRM and the others), first click No "
                        "Permissions, so the copy starts with nothing allowed.",
                        settings=("No Permissions",),
                    ),
                ),
            ),
            Section(
                "Allow exactly these rights, area by area",
                tuple(
                    Instruction(f"{area}: {hint}", settings=boxes)
                    for area, hint, boxes in SECURITY_AREAS
                )
                + (Instruction("Save the security level.", settings=("Save",)),),
            ),
        ),
        checklist=(
            ChecklistItem("level-copied", f"I copied '{DEFAULT_LEVEL_NAME}'."),
            ChecklistItem("level-named", "I named the copy and noted the name."),
            ChecklistItem("no-permissions", "I clicked No Permissions in every area first."),
        )
        + tuple(
            ChecklistItem(f"area-{_area_slug(area)}", f"{area}: {', '.join(boxes)}.")
            for area, _hint, boxes in SECURITY_AREAS
        )
        + (ChecklistItem("level-saved", "I saved the security level."),),
    ),
    Step(
        key="api-user",
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
                        "At the top left of the Resources view, click + New and choose New API "
                        "User.",
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
    ),
    Step(
        key="recurring-contract",
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
    ),
    Step(
        key="annual-contract",
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
                        path="Admin > Admin Categories > Activations",
                        settings=("Fixed Price",),
                        link="https://ww15.autotask.net/help/content/3_Features/6_Contracts/"
                        "AdminGeneral/ContractsConfigure.htm",
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
    ),
    Step(
        key="review",
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
                        path="Billing Sync > Configurations > Connections",
                    ),
                    Instruction(
                        "Your choice of the most recent or the next invoice when you enable the "
                        "sync (the same one you made in the contracts step).",
                    ),
                    Instruction(
                        "For each customer, its Autotask company and contract to map it to.",
                    ),
                    Instruction(
                        "A Billing Code of type Recurring Contract for the synced services.",
                    ),
                ),
            ),
        ),
        checklist=(ChecklistItem("secret-at-hand", "I have the Secret at hand for Billing Sync."),),
    ),
)

STEPS_BY_KEY: dict[str, Step] = {s.key: s for s in STEPS}
STEP_KEYS: tuple[str, ...] = tuple(s.key for s in STEPS)
STEP_CHOICES: list[tuple[str, str]] = [(s.key, s.title) for s in STEPS]
SKIPPABLE_KEYS: tuple[str, ...] = tuple(s.key for s in STEPS if s.optional)


def step_number(key: str) -> int:
    return STEP_KEYS.index(key) + 1


def previous_step(key: str) -> Step | None:
    i = STEP_KEYS.index(key)
    return STEPS[i - 1] if i > 0 else None


def next_step(key: str) -> Step | None:
    i = STEP_KEYS.index(key)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


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
