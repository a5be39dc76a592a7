"""Forms outside the steps (staff filters, resets, invitations). Each step's own form lives in
its step module (wizard/steps/<step>.py), on top of wizard.steps.forms.StepForm."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from wizard import steps
from wizard.models import partner_name_key
from wizard.selectors import (
    HEALTH_CHOICES,
    SORTS,
    DashboardFilter,
    partners_named,
    staff_directory,
)
from wizard.services import onboarding
from wizard.services.errors import PartnerRefused
from wizard.steps.forms import StepForm


def form_class_for(step: steps.Step) -> type[StepForm]:
    """The step's own form (wizard/steps/<step>.py), or the checklist alone."""
    return step.form or StepForm


class ResetForm(forms.Form):
    from_step = forms.ChoiceField(
        required=False,
        # Callables: the choices follow the registry (tests may swap in another one).
        choices=lambda: (
            [("", "The whole wizard")] + [(s.key, f"From: {s.title}") for s in steps.STEPS]
        ),
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required. The partner's owners receive it by email; the audit trail keeps it.",
    )

    def clean_reason(self) -> str:
        value: str = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError("Give a reason for the reset.")
        return value


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(
        choices=[("member", "Member"), ("owner", "Owner (may invite others)")],
        initial="member",
    )


def _nul_left_to_the_service(field: forms.Field) -> None:
    """Drop Django's own NUL check: services.onboarding says what is wrong, in its words."""
    field.validators = [
        v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
    ]


class ManagerChoiceField(forms.ModelChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        username: str = obj.get_username()
        return f"{username} ({obj.email})" if obj.email else username


class PartnerForm(forms.Form):
    """A new partner (/manage/partners/new/). The values are checked by services.onboarding,
    the same checks as a line of an import; ``account_manager`` is offered only to staff who
    may give a partner to someone else (access.may_assign_any_manager)."""

    # Not required here: the service's own "Give the partner's name." is the one message.
    name = forms.CharField(
        label="Partner name",
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": 200, "autocomplete": "organization"}),
    )
    owner_email = forms.CharField(
        label="First owner's email",
        required=False,
        strip=False,
        help_text="They receive an invitation that makes them the partner's owner.",
        widget=forms.EmailInput(attrs={"maxlength": 254, "autocomplete": "off"}),
    )
    account_manager: ManagerChoiceField = ManagerChoiceField(
        queryset=None,
        label="Account manager",
        empty_label=None,
        error_messages={"invalid_choice": "Choose an account manager from the list."},
    )

    def __init__(self, *args: Any, managers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The partner of that name, when it exists already (the page links to it).
        self.existing: Any = None
        for name in ("name", "owner_email"):
            _nul_left_to_the_service(self.fields[name])
        if managers is None:
            del self.fields["account_manager"]
        else:
            field = self.fields["account_manager"]
            assert isinstance(field, ManagerChoiceField)
            field.queryset = managers

    # Every field is checked here, so that the page lists all that is wrong at once;
    # services.partner_add checks again, and the database refuses a name taken meanwhile.
    def clean_name(self) -> str:
        try:
            name = onboarding.clean_name(self.cleaned_data["name"])
        except PartnerRefused as e:
            raise forms.ValidationError(e.message) from e
        taken = partners_named({partner_name_key(name)})
        if taken:
            self.existing = next(iter(taken.values()))
            raise forms.ValidationError(onboarding.exists_message(self.existing))
        return name

    def clean_owner_email(self) -> str:
        try:
            return onboarding.clean_owner_email(
                self.cleaned_data["owner_email"], staff_directory().staff_emails
            )
        except PartnerRefused as e:
            raise forms.ValidationError(e.message) from e


class PartnerImportForm(forms.Form):
    # An empty file gets the service's message, which says what the first line must be.
    file = forms.FileField(
        label="CSV file",
        allow_empty_file=True,
        help_text="Columns: name, owner_email, account_manager. UTF-8, at most 1 MB and 5,000 "
        "partners.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class PartnerImportConfirmForm(forms.Form):
    preview = forms.CharField(widget=forms.HiddenInput)
    skip_errors = forms.BooleanField(required=False, widget=forms.HiddenInput)


class PageForm(forms.Form):
    """``?page=``: a page number or nothing. Anything else is a 400, not silently page 1."""

    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)


class DashboardFilterForm(PageForm):
    """The staff dashboard's filters, shared by the page, the CSV and the JSON API.

    An unknown value is an error, never "everything": a typo in a bookmarked or scripted filter
    must not quietly return every tenant. CharField also refuses NUL characters, which
    PostgreSQL cannot store or compare.
    """

    state = forms.ChoiceField(required=False, choices=[("", "Any"), *HEALTH_CHOICES])
    step = forms.ChoiceField(
        required=False,
        choices=lambda: [
            ("", "Any"),
            *[(s.key, s.title) for s in steps.STEPS],
            ("done", "Finished"),
        ],
    )
    # A user id, or "none" for unassigned tenants. 18 digits keep it inside a bigint.
    manager = forms.RegexField(
        required=False,
        regex=r"^(none|[0-9]{1,18})$",
        error_messages={"invalid": "Give an account manager's id, or none."},
    )
    q = forms.CharField(required=False, max_length=100)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    drift = forms.ChoiceField(required=False, choices=[("", "All"), ("1", "Drifted only")])

    def dashboard_filter(self) -> DashboardFilter:
        data = self.cleaned_data
        return DashboardFilter(
            state=data["state"],
            step=data["step"],
            manager=data["manager"],
            q=data["q"],
            sort=data["sort"] or "name",
            drift=data["drift"],
        )


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    """Field name -> messages, for a JSON answer or an error page."""
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}
