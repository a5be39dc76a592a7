"""Step 2 of the guide: a custom security level with only the rights Billing Sync needs."""

from __future__ import annotations

from dataclasses import dataclass

from wizard.facts import DEFAULT_LEVEL_NAME, LEVELS_PATH, SUGGESTED_LEVEL_NAME
from wizard.steps.base import ChecklistItem, Instruction, Section, Step

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


# What Billing Sync needs of the level, as the API can see it (entityInformation rights), each
# with the area of SECURITY_AREAS above and the setting there that grants it: one source for
# the step's text and for the checks' fixes (wizard/checks/security_level.py).
@dataclass(frozen=True)
class Need:
    entity: str
    label: str
    operations: tuple[str, ...]
    area: str
    # What grants each operation in that area (the setting the fix names).
    grants: str
    # Restricted access that the guide's own setting produces, so it is expected: the note
    # that explains it. Empty: restricted access is a warning.
    restricted_expected: str = ""


NEEDS: tuple[Need, ...] = (
    Need(
        "Companies",
        "Companies",
        ("query",),
        "CRM",
        "Customer: All and Cancellation: All",
        # CRM access is set per company type, and the guide sets only Customer and
        # Cancellation, so Autotask reports Companies as Restricted (reference, Corrections).
        restricted_expected="Autotask reports it as restricted because CRM access is set per "
        "company type, and the guide grants only Customer and Cancellation: that is "
        "expected. Billing Sync sees your customers.",
    ),
    Need(
        "Contracts",
        "Contracts",
        ("query", "update"),
        "CONTRACTS",
        # Viewing contracts is the area's object permission, not the Internal Costs checkbox
        # (Autotask help "Contract security settings"; reference, Corrections).
        "the object permissions View: All and Edit: All",
    ),
    Need(
        "ContractServices",
        "Services on contracts",
        ("query", "create", "update"),
        "CONTRACTS",
        "Service/Bundle on contract changes",
    ),
    Need(
        "Services",
        "Services",
        ("query", "create", "update"),
        "ADMIN",
        "Products, Services, & Inventory",
    ),
    Need(
        "Products",
        "Products",
        ("query", "create", "update", "delete"),
        "INVENTORY",
        "Products: View, Add, Edit and Delete",
    ),
)


def area_slug(area: str) -> str:
    return area.lower().replace(" ", "-")


STEP = Step(
    key="security-level",
    title="Security level for the API user",
    phase="Enable a custom security level (optional, highly recommended)",
    summary=("Give the API user its own security level with only the rights Billing Sync needs."),
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
                    path=LEVELS_PATH,
                ),
                Instruction(
                    f"Right-click the level '{DEFAULT_LEVEL_NAME}' and choose Copy Security Level.",
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
        ChecklistItem(f"area-{area_slug(area)}", f"{area}: {', '.join(boxes)}.")
        for area, _hint, boxes in SECURITY_AREAS
    )
    + (ChecklistItem("level-saved", "I saved the security level."),),
)
