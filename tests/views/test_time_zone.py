"""The time zone question on the account step, and where the zone shows."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from tests.factories import fill_in
from wizard import services
from wizard.autotask.dates import today_in
from wizard.models import AuditEvent, StepProgress, Tenant

pytestmark = pytest.mark.django_db


def url(tenant: Tenant, key: str = "account", action: str = "") -> str:
    return f"/t/{tenant.code}/{key}/" + (f"{action}/" if action else "")


def account_post(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "branch": "existing",
        "initial-branch": "",
        "initial-time_zone": "",
        "checklist_shown": "",
        "action": "save",
    }
    data.update(fields)
    return data


def test_the_account_step_asks_for_the_time_zone(owner_client, tenant) -> None:
    html = owner_client.get(url(tenant)).content.decode()
    select = re.search(r'<select name="time_zone"[^>]*>(.*?)</select>', html, re.S)
    assert select, "no time zone list"
    assert 'aria-describedby="time-zone-help"' in html
    assert '<label for="id_time_zone">Your Autotask&#x27;s time zone</label>' in html
    options = re.findall(r'<option value="([^"]*)"', select.group(1))
    # Blank first, then the common APAC and US zones, then every other zone once, sorted.
    assert options[0] == ""
    assert options[1:3] == ["Australia/Sydney", "Australia/Brisbane"]
    assert "America/New_York" in options[:20] and "Pacific/Auckland" in options[:20]
    rest = options[19:]
    assert rest == sorted(rest) and len(options) == len(set(options)) > 400
    assert '<optgroup label="Common">' in select.group(1)
    # No zone stored: the browser may preselect its own (static script, no inline code).
    assert "data-prefill-time-zone" in html
    assert '<script src="/static/js/time-zone.js" defer></script>' in html
    assert "Choose the time zone your Autotask works in." in html


@pytest.mark.parametrize(
    "value", [None, "", "Australia/Sydney", "Europe/Berlin", "UTC", "No/<Zone>"]
)
def test_the_time_zone_list_is_djangos_own_select_html(value) -> None:
    """The list is rendered once per zone (wizard.steps.time_zones.TimeZoneSelect) for speed;
    what the browser gets is exactly what forms.Select renders, selection, errors and all."""
    from django import forms

    from wizard.steps.account import AccountForm
    from wizard.steps.time_zones import TimeZoneSelect, time_zone_choices

    widget = AccountForm.base_fields["time_zone"].widget
    assert isinstance(widget, TimeZoneSelect)
    plain = forms.Select(attrs=widget.attrs, choices=time_zone_choices())
    for attrs in ({"id": "id_time_zone"}, {"id": "x", "aria-invalid": "true", "required": True}):
        assert widget.render("time_zone", value, attrs) == plain.render("time_zone", value, attrs)


def test_choosing_a_time_zone_saves_it_on_the_tenant(owner_client, owner, tenant) -> None:
    r = owner_client.post(url(tenant), account_post(time_zone="Pacific/Auckland"))
    assert r.status_code == 302
    tenant.refresh_from_db()
    assert tenant.time_zone == "Pacific/Auckland"
    event = AuditEvent.objects.filter(tenant=tenant, action="answers_saved", step_key="account")
    assert any(e.detail.get("time_zone") == "Pacific/Auckland" and e.actor == owner for e in event)
    html = owner_client.get(url(tenant)).content.decode()
    assert '<option value="Pacific/Auckland" selected>' in html
    # Stored: the page no longer asks the browser.
    assert "data-prefill-time-zone" not in html


def test_an_unknown_time_zone_is_refused_and_nothing_typed_is_lost(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant),
        account_post(time_zone="Australia/Atlantis", checklist=["signed-in"]),
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "Australia/Atlantis is not a time zone we know." in html
    assert re.search(r'value="existing"[^>]*checked', html)
    assert re.search(r'value="signed-in"[^>]*checked', html)
    tenant.refresh_from_db()
    assert tenant.time_zone == ""
    assert StepProgress.objects.get(tenant=tenant, step_key="account").answers == {}


def test_a_colleagues_choice_is_shown_not_overwritten(owner_client, member_client, tenant) -> None:
    # Both open the page with no zone; the member saves first.
    member_client.post(url(tenant), account_post(time_zone="Australia/Perth"))
    r = owner_client.post(url(tenant), account_post(time_zone="America/Chicago"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "A colleague saved a different answer" in html
    # The form's label, not the internal name (issue 14, point 3).
    assert "Your Autotask&#x27;s time zone: <strong>Australia/Perth</strong>" in html
    assert '<option value="America/Chicago" selected>' in html  # the owner's own choice kept
    tenant.refresh_from_db()
    assert tenant.time_zone == "Australia/Perth"


def test_contract_steps_without_a_time_zone_link_to_the_question(owner_client, tenant) -> None:
    fill_in(tenant, time_zone="")
    html = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    assert "First day of usage the sync will copy" not in html
    assert f'href="/t/{tenant.code}/account/#id_time_zone"' in html
    assert "Choose your Autotask&#x27;s time zone in step 1" in html
    r = owner_client.post(url(tenant, "recurring-contract", "verify"), follow=True)
    assert "Choose your Autotask&#x27;s time zone in step 1" in r.content.decode()
    assert (
        StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").check_results == []
    )


def test_the_first_usage_date_is_the_tenants(owner_client, tenant) -> None:
    fill_in(tenant, time_zone="Pacific/Auckland")
    html = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    first = today_in("Pacific/Auckland").replace(day=1)
    assert (
        f'<time datetime="{first:%Y-%m-%d}">{first.day} {first:%B %Y}</time></strong> '
        "(Pacific/Auckland time)"
    ) in html
    assert "Dates are shown in Pacific/Auckland time" in html


def test_verified_dates_name_the_zone_on_the_step_review_and_staff_page(
    settings, owner_client, admin_client, tenant
) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    fill_in(tenant, username="america@sandbox.example", time_zone="America/New_York")
    owner_client.post(url(tenant, "recurring-contract", "verify"))
    owner_client.post(url(tenant, "review", "verify"))
    step = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    review = owner_client.get(url(tenant, "review")).content.decode()
    staff = admin_client.get(f"/manage/t/{tenant.code}/").content.decode()
    for html in (step, review):
        assert "Dates are shown in America/New_York time" in html
        assert re.search(r"Starts 1 \w+ \d{4} \(America/New_York\)", html)
    assert "Autotask time zone: America/New_York" in staff


def test_the_staff_page_says_when_no_time_zone_is_set(admin_client, tenant) -> None:
    html = admin_client.get(f"/manage/t/{tenant.code}/").content.decode()
    assert "Autotask time zone: <strong>not set</strong>" in html


def test_the_picker_shows_contract_dates_in_the_tenants_zone(settings, owner_client, tenant):
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    services.credentials_save(
        tenant=tenant, user=None, username="auckland@sandbox.example", secret="sandbox-secret"
    )
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Pacific/Auckland", seen="")
    html = owner_client.get(
        url(tenant, "recurring-contract", "picker"),
        {"company": "107", "company_name": "Fourth Coffee"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    first = today_in("Pacific/Auckland").replace(day=1)
    # Contract 2007 starts on the 1st of this month: never the last day of the month before.
    assert f'<time datetime="{first:%Y-%m-%d}">{first.day} {first:%b %Y}</time>' in html
