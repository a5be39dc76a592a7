"""What services refuse, each with the sentence the person sees (one base: UserFacingError)."""

from __future__ import annotations

import datetime
from typing import Any

from wizard.errors import UserFacingError


class EditConflict(UserFacingError):
    """A colleague saved a different value for a field this user also changed."""

    default_message = (
        "A colleague saved a different answer while you were editing. Your answer is still in "
        "the form; theirs is shown next to it. Save again to keep yours."
    )

    def __init__(self, fields: dict[str, Any], message: str | None = None) -> None:
        super().__init__(message)
        # What a colleague saved meanwhile: field name -> the value now stored. Beside the
        # form's own field names: "<list field>:<row key>" -> the stored row, and "secret" ->
        # True (never the Secret itself).
        self.fields = fields


CREDENTIALS_CHANGED = (
    "A colleague saved new credentials after you opened this page. What is stored now is kept; "
    "enter the Secret again if yours should replace it."
)


class RowCollision(UserFacingError):
    """A row to add would replace a listed one (same company, or same contract): nothing is
    stored until the person chooses to replace it or keep the listed one."""

    def __init__(self, row: dict[str, Any], listed: list[dict[str, Any]]) -> None:
        self.row = row
        self.listed = listed
        old = listed[0]
        # The question, and the labels of its two buttons.
        if str(old.get("company_id")) == str(row.get("company_id")):
            text = (
                f"{_company(old)} is already listed with contract {_contract(old)}. Replace it "
                f"with contract {_contract(row)}, or keep contract {_contract(old)}?"
            )
            self.replace_label = f"Replace with contract #{row.get('contract_id')}"
            self.keep_label = f"Keep contract #{old.get('contract_id')}"
        else:
            text = (
                f"Contract {_contract(old)} is already listed, for {_company(old)}. Replace that "
                f"row with {_company(row)}, or keep it for {_company(old)}?"
            )
            self.replace_label = f"Replace with {_company(row)}"
            self.keep_label = f"Keep it for {_company(old)}"
        super().__init__(text + " Nothing was added yet.")


def _company(row: dict[str, Any]) -> str:
    name = row.get("company_name")
    return f"{name} (#{row.get('company_id')})" if name else f"Company #{row.get('company_id')}"


def _contract(row: dict[str, Any]) -> str:
    name = row.get("contract_name")
    return f"#{row.get('contract_id')} ({name})" if name else f"#{row.get('contract_id')}"


class SkipNotAllowed(UserFacingError):
    """Only the optional steps can be skipped."""


class StaffNotMember(UserFacingError):
    """A staff account would have become a member (and could then read or replace the Secret)."""


class VerificationInProgress(UserFacingError):
    """Another run of the same step holds the lock (a double click, or a colleague)."""

    default_message = (
        "A verification of this step is already running; its results appear here when it finishes."
    )


class CredentialsMissing(UserFacingError):
    """No Secret stored yet: nothing can be asked of Autotask."""


class AutotaskPaused(UserFacingError):
    """Credential tests are paused for this tenant (lockout safety)."""

    def __init__(self, message: str, *, until: datetime.datetime) -> None:
        super().__init__(message)
        self.until = until


class NothingToVerify(UserFacingError):
    """The step's inputs are not there yet (e.g. no customer chosen)."""


class ResetRefused(UserFacingError):
    """A reset without a reason, or from an unknown step."""


class InvitationInvalid(UserFacingError):
    """The link cannot be used any more (expired, withdrawn, used): HTTP 410."""


class InvitationRefused(UserFacingError):
    """The link is fine, but not for this person (another address, a staff account): 403."""


class MailNotSent(UserFacingError):
    """A mail that had to go out (an invitation) could not be sent: nothing was created."""


class PartnerRefused(UserFacingError):
    """A partner (a form, a row of an import) that cannot be added as given.

    ``field`` names the form field or CSV column at fault ("" for the whole).
    """

    def __init__(self, message: str | None = None, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class PartnerExists(PartnerRefused):
    """A partner of that name exists already; ``tenant`` is it."""

    def __init__(self, message: str, *, tenant: Any) -> None:
        super().__init__(message, field="name")
        self.tenant = tenant


class ImportRefused(UserFacingError):
    """The file as a whole cannot be imported (size, encoding, header, rows, an old preview)."""


class ImportChanged(UserFacingError):
    """What the import would do changed between the preview and the confirmation."""

    default_message = (
        "Something changed since the preview (a colleague added some of these partners, or an "
        "account manager changed, or this import was confirmed already, for example by a "
        "double click). Nothing was created. Check the new preview below and confirm again."
    )

    def __init__(self, message: str | None = None, *, plan: Any = None) -> None:
        super().__init__(message)
        # The import as it stands now (services.partner_import.ImportPlan), to preview again.
        self.plan = plan
