"""One form per step. Every answer field renders its shown value as a hidden initial
(``show_hidden_initial``) so a save can tell what this user changed from what a colleague
saved meanwhile (see services.step_answers_save)."""

from __future__ import annotations

import functools
import re
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from wizard import steps
from wizard.autotask.dates import time_zone_names
from wizard.selectors import HEALTH_CHOICES, SORTS, DashboardFilter

# Autotask generates API usernames that look like email addresses.
USERNAME_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
MAX_ID = 2_147_483_647  # Autotask ids are int32


class StepForm(forms.Form):
    """The checklist part, shared by every step."""

    answer_fields: tuple[str, ...] = ()

    checklist = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Checklist"
    )
    # The ticks as the page showed them: a submit applies only the user's own changes.
    checklist_shown = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, step: steps.Step, branch: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        self.branch_key = branch
        self.fields["checklist"].choices = [(i.id, i.text) for i in step.checklist_for(branch)]  # type: ignore[attr-defined]

    def checklist_changes(self) -> tuple[set[str], set[str]]:
        shown = {i for i in self.cleaned_data.get("checklist_shown", "").split(",") if i}
        now = set(self.cleaned_data.get("checklist", []))
        return now - shown, shown - now

    def answer_changes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(changed values, the values the form showed for them)."""
        changes: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        for name in self.answer_fields:
            if name in self.changed_data:
                changes[name] = self.cleaned_data.get(name) or ""
                seen[name] = self.data.get(self.add_initial_prefix(name), "")
        return changes, seen


def _answer_field(field: forms.Field) -> forms.Field:
    field.show_hidden_initial = True
    return field


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


@functools.cache
def time_zone_choices() -> list[Any]:
    """A blank choice, the common zones, then every other IANA zone, each listed once."""
    common = {name for name, _label in COMMON_TIME_ZONES}
    others = [(name, name) for name in time_zone_names() if name not in common]
    return [
        ("", "Choose a time zone"),
        ("Common", list(COMMON_TIME_ZONES)),
        ("All time zones", others),
    ]


def _option(value: str, label: str, selected: bool) -> SafeString:
    # Django's select_option.html, newline included.
    if selected:
        return format_html('\n  <option value="{}" selected>{}</option>\n', value, label)
    return format_html('\n  <option value="{}">{}</option>\n', value, label)


@functools.cache
def _time_zone_values() -> frozenset[str]:
    return frozenset(v for v, _label in _flat_time_zone_choices())


def _flat_time_zone_choices() -> list[tuple[str, str]]:
    out = []
    for value, label in time_zone_choices():
        out += label if isinstance(label, list) else [(value, label)]
    return out


@functools.lru_cache(maxsize=64)
def _time_zone_options(chosen: str) -> SafeString:
    """The ~600 <option>s of time_zone_choices() with ``chosen`` selected, laid out as Django's
    select.html does (tests/views/test_time_zone.py compares the two). One entry per zone in
    use, at most 64 (~25 kB each); a value that is no zone selects nothing and shares one."""
    parts: list[SafeString] = []
    for value, label in time_zone_choices():
        if isinstance(label, list):
            parts.append(format_html('\n  <optgroup label="{}">', value))
            parts += [_option(v, t, v == chosen) for v, t in label]
            parts.append(format_html("\n  </optgroup>{}", ""))
        else:
            parts.append(_option(value, label, value == chosen))
    return format_html_join("", "{}", ((p,) for p in parts))


class TimeZoneSelect(forms.Select):
    """The time zone list, rendered once per process and zone.

    Django renders each <option> through a template of its own: for these ~600 zones that was
    three quarters of the account step's CPU time (docs/performance.md). The list is the same
    for everybody and never changes while the process runs, so it is built once per zone chosen
    and reused. Same HTML as forms.Select; every piece goes through format_html's escaping.
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        chosen = next(iter(self.format_value(value)), "")
        if chosen not in _time_zone_values():
            chosen = "\x00"  # not a zone: nothing selected, one shared entry
        final = self.build_attrs(self.attrs, attrs)
        # Django's attrs.html: in order, a bare name for True, nothing for False.
        html_attrs = format_html_join(
            "",
            "{}",
            (
                (format_html(" {}", k) if v is True else format_html(' {}="{}"', k, v),)
                for k, v in final.items()
                if v is not False
            ),
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>', name, html_attrs, _time_zone_options(chosen)
        )

    def use_required_attribute(self, initial: Any) -> bool:
        # forms.Select looks at the first choice, but builds all ~600 to get at it.
        first_value = time_zone_choices()[0][0]
        return not self.is_hidden and first_value in (None, "")


class AccountForm(StepForm):
    answer_fields = ("branch",)  # the time zone is stored on the tenant (services)
    branch = _answer_field(
        forms.ChoiceField(
            required=False,
            widget=forms.RadioSelect,
            choices=[(b.key, b.label) for b in steps.STEPS_BY_KEY["account"].branches],
            label="Do you already have Autotask PSA?",
        )
    )
    time_zone = _answer_field(
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


class ApiUserForm(StepForm):
    answer_fields = ()  # username and Secret are stored through services.credentials_save

    username = forms.CharField(
        required=False,
        max_length=254,
        label="API user Username",
        help_text="As Autotask generated it, e.g. ab1cdef2ghijk3l@yourcompany.com",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
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


class _ContractRowMixin(forms.Form):
    add_company_id = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_ID, label="Autotask company ID"
    )
    add_contract_id = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, label="Autotask contract ID"
    )

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


class RecurringContractForm(_ContractRowMixin, StepForm):
    answer_fields = ("sync_start",)
    sync_start = _answer_field(
        forms.ChoiceField(
            required=False,
            widget=forms.RadioSelect,
            choices=steps.SYNC_START_CHOICES,
            label="Billing Sync will start with",
        )
    )


class AnnualContractForm(_ContractRowMixin, StepForm):
    answer_fields = ("has_annual",)
    has_annual = _answer_field(
        forms.ChoiceField(
            required=False,
            widget=forms.RadioSelect,
            choices=[
                ("yes", "Yes, some customers have Seat Based Annual subscriptions"),
                ("no", "No, none of our customers has annual seat subscriptions"),
            ],
            label="Do any customers have Seat Based Annual subscriptions?",
        )
    )


FORMS: dict[str, type[StepForm]] = {
    "account": AccountForm,
    "api-user": ApiUserForm,
    "recurring-contract": RecurringContractForm,
    "annual-contract": AnnualContractForm,
}


def form_class_for(step_key: str) -> type[StepForm]:
    return FORMS.get(step_key, StepForm)


class ResetForm(forms.Form):
    from_step = forms.ChoiceField(
        required=False,
        choices=[("", "The whole wizard")] + [(s.key, f"From: {s.title}") for s in steps.STEPS],
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
        choices=[("", "Any"), *[(s.key, s.title) for s in steps.STEPS], ("done", "Finished")],
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
