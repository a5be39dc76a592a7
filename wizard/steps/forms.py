"""The base of every step's form: the checklist, and the answers as changes to save.

Each step module defines its own form on top of these (wizard/steps/<step>.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from wizard.steps.base import Step

MAX_ID = 2_147_483_647  # Autotask ids are int32


class StepForm(forms.Form):
    """The checklist part, shared by every step."""

    answer_fields: tuple[str, ...] = ()

    checklist = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Checklist"
    )
    # The ticks as the page showed them: a submit applies only the user's own changes.
    checklist_shown = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, step: Step, branch: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        self.branch_key = branch
        # Every item of the step validates, whichever branch the page showed: without
        # JavaScript a person can switch the branch and tick in one submit, and the ticks of
        # the branch they left must not make the whole form invalid (checklist_changes keeps
        # only the submitted branch's own ticks).
        self.fields["checklist"].choices = [(i.id, i.text) for i in step.checklist]  # type: ignore[attr-defined]

    def checklist_changes(self) -> tuple[set[str], set[str]]:
        """(ticked, unticked) by this submit, for the items of the form's branch only."""
        own = {i.id for i in self.step.checklist_for(self.branch_key)}
        shown = {i for i in self.cleaned_data.get("checklist_shown", "").split(",") if i} & own
        now = set(self.cleaned_data.get("checklist", [])) & own
        return now - shown, shown - now

    def answer_changes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(changed values, the values the form showed for them)."""
        changes: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        for name in self.answer_fields:
            if name in self.changed_data:
                changes[name] = self.cleaned_data.get(name) or ""
                seen[name] = self.shown(name)
        return changes, seen

    def shown(self, name: str) -> str:
        """The value the page showed for ``name`` (its hidden initial), before any edit."""
        return str(self.data.get(self.add_initial_prefix(name), ""))

    def shown_or_none(self, name: str) -> str | None:
        """As shown(), but None when the request did not carry what the page showed."""
        key = self.add_initial_prefix(name)
        return str(self.data[key]) if key in self.data else None

    def conflict_rows(self, fields: dict[str, Any]) -> list[tuple[str, str]]:
        """EditConflict.fields as the person reads them: (the form's label, the stored value
        as the form words it), e.g. ("When should Billing Sync start?", "Next invoice")."""
        return [self._conflict_row(name, value) for name, value in fields.items()]

    def _conflict_row(self, name: str, value: Any) -> tuple[str, str]:
        if name == "secret":
            return (str(self.fields["secret"].label), "new credentials were saved (not shown)")
        prefix, _, item_id = name.partition(":")
        if item_id and prefix == self.step.list_field:
            caption = self.step.list_label or "Rows"
            if not value:
                return (caption, "removed")
            return (caption, row_label(value))
        field = self.fields.get(name)
        if field is None:
            return (name.replace("_", " ").capitalize(), str(value or "(empty)"))
        shown = str(value or "")
        choices = getattr(field, "choices", None)
        if choices is not None:
            shown = str(dict(choices).get(shown, shown))
        return (str(field.label), shown or "(empty)")


def row_label(row: dict[str, Any]) -> str:
    """A contract row as the table shows it: "Tailspin #103 / Support 2026 #2003"."""
    return (
        f"{row.get('company_name') or 'Company'} #{row.get('company_id')} / "
        f"{row.get('contract_name') or 'Contract'} #{row.get('contract_id')}"
    )


def answer_field(field: forms.Field) -> forms.Field:
    field.show_hidden_initial = True
    return field


class ContractRowMixin(forms.Form):
    add_company_id = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_ID, label="Autotask company ID"
    )
    add_contract_id = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, label="Autotask contract ID"
    )

    # The rows as the page showed them (services.rows_stamp): adding or removing a row a
    # colleague changed since is refused instead of overwriting it.
    rows_shown = forms.CharField(required=False, max_length=20_000, widget=forms.HiddenInput)

    # Labels for the table only, filled by the picker; checks always read Autotask by id.
    add_company_name = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    add_contract_name = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        company, contract = data.get("add_company_id"), data.get("add_contract_id")
        if (company is None) != (contract is None):
            raise forms.ValidationError(
                "To add a customer, give both its Autotask company ID and its contract ID."
            )
        return data

    def new_row(self) -> dict[str, Any] | None:
        company = self.cleaned_data.get("add_company_id")
        contract = self.cleaned_data.get("add_contract_id")
        if company is None or contract is None:
            return None
        return {
            "company_id": company,
            "contract_id": contract,
            "company_name": self.cleaned_data.get("add_company_name", ""),
            "contract_name": self.cleaned_data.get("add_contract_name", ""),
        }


def row_action(action: str, data: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The row a button carries, and whether it replaces a listed row.

    ``choose:<company>:<contract>`` is a picker's Choose (its names in ``picker_company_name``
    and ``picker_contract_name_<contract>``); ``replace:<company>:<contract>`` answers "Replace"
    to a row already listed (its names in ``pending_company_name``/``pending_contract_name``).
    Anything else carries no row. The ids are only ids: the checks read Autotask by them.
    """
    kind, _, rest = action.partition(":")
    if kind not in ("choose", "replace"):
        return None, False
    company, _, contract = rest.partition(":")
    try:
        company_id, contract_id = int(company), int(contract)
    except ValueError:
        return None, False
    if not (0 <= company_id <= MAX_ID and 1 <= contract_id <= MAX_ID):
        return None, False
    if kind == "choose":
        names = ("picker_company_name", f"picker_contract_name_{contract_id}")
    else:
        names = ("pending_company_name", "pending_contract_name")
    return {
        "company_id": company_id,
        "contract_id": contract_id,
        "company_name": str(data.get(names[0], ""))[:200],
        "contract_name": str(data.get(names[1], ""))[:200],
    }, kind == "replace"
