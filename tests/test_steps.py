"""The step registry: invariants, and the partner guide covered line by line."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.template.loader import get_template

from wizard import steps
from wizard.forms import form_class_for
from wizard.steps.forms import StepForm
from wizard.steps.security_level import NEEDS, SECURITY_AREAS

GUIDE = Path(__file__).resolve().parents[1] / "docs/reference/billing-sync-autotask-guide.md"

# Each line of the guide's content, and where (step key) and how (exact names) the wizard says
# it. Autotask's own names (menu paths, settings, vendor, contract types) must appear verbatim.
GUIDE_LINES: list[tuple[str, str, tuple[str, ...]]] = [
    ("Create or Access AutoTask Account", "account", ("Create or access the Autotask account",)),
    ("selecting Get A Demo or requesting pricing", "account", ("Get A Demo", "pricing")),
    ("Log into AutoTask Home", "account", ("Autotask Home",)),
    ("Enable a Custom Security Level", "security-level", ("custom security level",)),
    (
        "This step is optional; however highly recommended",
        "security-level",
        ("optional", "highly recommended"),
    ),
    ("View Companies", "security-level", ("view Companies",)),
    ("View and update contracts", "security-level", ("view and update Contracts",)),
    ("View and update services", "security-level", ("view and update Services",)),
    (
        "Admin > Account Settings & Users > Resources/Users > Security Levels",
        "security-level",
        ("Admin > Account Settings & Users > Resources/Users > Security Levels",),
    ),
    (
        "Right-click on the API User (system (API-only) security level and select Copy Security "
        "Level",
        "security-level",
        ("Right-click", "API User (system) (API-only)", "Copy Security Level"),
    ),
    (
        'Enter a name for the new security level (e.g. "Crayon Integration")',
        "security-level",
        ("Crayon Integration", "write the name"),
    ),
    (
        "For each security area (e.g. Contracts, CRM), click No Permissions",
        "security-level",
        ("No Permissions",),
    ),
    (
        "CONTRACTS, check Can modify contract Internal Costs and Service/Bundle on contract "
        "changes",
        "security-level",
        (
            "CONTRACTS",
            "Can modify contract Internal Costs",
            "Service/Bundle on contract changes",
            "every other checkbox",
        ),
    ),
    (
        "CRM ... All for Customer & Cancellation",
        "security-level",
        ("CRM", "Customer: All", "Cancellation: All"),
    ),
    (
        "INVENTORY, set Products View, Add, Edit and Delete",
        "security-level",
        ("INVENTORY", "Products: View", "Products: Add", "Products: Edit", "Products: Delete"),
    ),
    (
        "ADMIN, check Products, Services, & Inventory",
        "security-level",
        ("ADMIN", "Products, Services, & Inventory", "leave the rest unticked"),
    ),
    (
        "WEB SERVICES API, ensure Can login to Web Services API",
        "security-level",
        ("WEB SERVICES API", "Can login to Web Services API"),
    ),
    (
        "Other, ensure Can View Internal Cost and Sensitive Data under Miscellaneous",
        "security-level",
        ("OTHER", "Miscellaneous", "Can View Internal Cost and Sensitive Data"),
    ),
    ("Add a Recurring Service Contract", "recurring-contract", ("Recurring Service",)),
    (
        "contract start date is before the first usage records",
        "recurring-contract",
        ("Start Date", "first day of usage", "arrears"),
    ),
    ('"most recent" or "next" invoice', "recurring-contract", ("most recent", "next")),
    (
        "set the start date of the contract to the first day of the month",
        "recurring-contract",
        ("first day of a month", "prorated"),
    ),
    ("Seat Based Annual", "annual-contract", ("Seat Based Annual",)),
    (
        "they do not require recurring billing ... a different agreement/contract setup",
        "annual-contract",
        ("not billed every month", "different contract"),
    ),
    ("use the Fixed Price contract type", "annual-contract", ("Fixed Price",)),
    ("Configure AutoTask API User", "api-user", ("Configure the Autotask API user",)),
    ("Admin> Resources (Users)", "api-user", ("Admin > Resources (Users)", "top left")),
    ("click + New and select New API User", "api-user", ("+ New", "New API User")),
    (
        "An email address that is actively monitored",
        "api-user",
        ("email address", "actually reads"),
    ),
    ("leave Active checked and Locked unchecked", "api-user", ("Active ticked", "Locked unticked")),
    (
        "Integration Vendor select ‘Rhipe - Cloud Services’",
        "api-user",
        ("Integration Vendor", "'Rhipe - Cloud Services'"),
    ),
    (
        "Generate a Username and Secret ... not be able to view it again",
        "api-user",
        ("Username", "Secret", "will not show it again"),
    ),
    (
        "required in Billing Sync when configuring the AutoTask sync",
        "api-user",
        ("Billing Sync needs both",),
    ),
    ("Click Save & Close in the top left-hand corner", "api-user", ("Save & Close",)),
    (
        "AutoTask's online guide for adding or editing an API User",
        "api-user",
        ("adding or editing an API user", steps.API_USER_HELP_URL),
    ),
    (
        "before moving on to the next phase",
        "review",
        ("Ready for the next phase", "before you move on"),
    ),
]


def step_text(step: steps.Step) -> str:
    parts = [step.title, step.phase, step.summary, step.why, step.skip_consequence]
    for section in step.sections:
        parts += [section.title, section.intro]
        for i in section.instructions:
            parts += [i.text, i.path, i.link, *i.settings]
    parts += [c.text for c in step.checklist]
    return "\n".join(parts)


def test_the_six_steps_are_in_design_order() -> None:
    assert steps.STEP_KEYS == (
        "account",
        "security-level",
        "api-user",
        "recurring-contract",
        "annual-contract",
        "review",
    )


def test_only_security_level_and_annual_contract_are_optional() -> None:
    assert steps.SKIPPABLE_KEYS == ("security-level", "annual-contract")
    for key in steps.SKIPPABLE_KEYS:
        assert "If" not in steps.STEPS_BY_KEY[key].skip_consequence[:2]
        assert len(steps.STEPS_BY_KEY[key].skip_consequence) > 40


def test_keys_and_checklist_ids_are_unique_and_slug_safe() -> None:
    assert len(set(steps.STEP_KEYS)) == len(steps.STEPS)
    for step in steps.STEPS:
        assert re.fullmatch(r"[a-z][a-z-]+", step.key)
        ids = [c.id for c in step.checklist]
        assert len(ids) == len(set(ids)), step.key
        assert all(re.fullmatch(r"[a-z][a-z0-9-]+", i) for i in ids)


def test_every_step_with_a_form_has_a_template_for_it() -> None:
    for step in steps.STEPS:
        assert issubclass(form_class_for(step), StepForm)
        if step.form is not None:
            get_template(step.inputs_template)


def test_the_guide_file_has_every_line_we_cover() -> None:
    # If the guide changes, this test says which lines no longer match, so the registry follows.
    guide = GUIDE.read_text()
    for line, _key, _names in GUIDE_LINES:
        for fragment in re.split(r" \.\.\. ", line):
            assert fragment.replace("  ", " ") in guide, fragment


@pytest.mark.parametrize(
    ("line", "key", "names"), GUIDE_LINES, ids=[g[0][:40] for g in GUIDE_LINES]
)
def test_each_guide_line_appears_in_its_step(line: str, key: str, names: tuple[str, ...]) -> None:
    text = step_text(steps.STEPS_BY_KEY[key])
    for name in names:
        assert name.lower() in text.lower(), f"{key} does not say {name!r} (guide: {line!r})"


def test_the_six_security_areas_each_name_their_checkboxes() -> None:
    areas = [a for a, _h, _b in steps.SECURITY_AREAS]
    assert areas == ["CONTRACTS", "CRM", "INVENTORY", "ADMIN", "WEB SERVICES API", "OTHER"]
    checklist = {c.id for c in steps.STEPS_BY_KEY["security-level"].checklist}
    for area in areas:
        assert f"area-{area.lower().replace(' ', '-')}" in checklist


def test_account_step_branches_new_and_existing() -> None:
    step = steps.STEPS_BY_KEY["account"]
    assert [b.key for b in step.branches] == ["new", "existing"]
    new = step_text_for(step, "new")
    existing = step_text_for(step, "existing")
    assert "Get A Demo" in new and "Get A Demo" not in existing
    assert "Autotask Home" in existing
    assert "account-created" in [c.id for c in step.checklist_for("new")]
    assert "account-created" not in [c.id for c in step.checklist_for("existing")]


def step_text_for(step: steps.Step, branch: str) -> str:
    return " ".join(i.text for s in step.sections_for(branch) for i in s.instructions)


@pytest.mark.parametrize(
    ("choice", "today", "expected"),
    [
        (steps.SYNC_START_MOST_RECENT, datetime.date(2026, 11, 26), datetime.date(2026, 10, 1)),
        (steps.SYNC_START_NEXT, datetime.date(2026, 11, 26), datetime.date(2026, 11, 1)),
        (steps.SYNC_START_MOST_RECENT, datetime.date(2027, 1, 1), datetime.date(2026, 12, 1)),
        (steps.SYNC_START_NEXT, datetime.date(2027, 1, 31), datetime.date(2027, 1, 1)),
    ],
)
def test_first_usage_date(choice: str, today: datetime.date, expected: datetime.date) -> None:
    assert steps.first_usage_date(choice, today) == expected


def test_first_usage_date_rejects_unknown_choice() -> None:
    with pytest.raises(ValueError, match="unknown sync start"):
        steps.first_usage_date("yesterday", datetime.date(2026, 1, 1))


def test_every_right_the_checks_need_is_granted_by_an_area_of_the_steps_text() -> None:
    # One source: the checks' fixes name the area and setting the step tells the partner to set.
    areas = {area: (hint, boxes) for area, hint, boxes in SECURITY_AREAS}
    for need in NEEDS:
        assert need.area in areas, need
        hint, boxes = areas[need.area]
        assert any(
            part in hint or part in " ".join(boxes) for part in need.grants.split(" and ")
        ), need
