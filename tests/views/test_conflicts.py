"""Two people on one tenant: a page opened before a colleague's save never overwrites it.

Each test opens the same step as two members (owner and member), lets the member save first,
then sends the owner's form exactly as the owner's (now stale) page would, hidden fields
included. What must hold for every kind of field: nothing the member saved is overwritten, the
owner sees no "Saved." but a conflict box in the form's own words, and what the owner typed is
still in the form (never the Secret).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from wizard import crypto, services
from wizard.models import AutotaskCredential, StepProgress, Tenant

pytestmark = pytest.mark.django_db

SECRET_A = "Owner-Secret-1234567"
SECRET_B = "Member-Secret-7654321"
CREDENTIALS_CHANGED = "A colleague saved new credentials after you opened this page."


def url(tenant: Tenant, key: str, action: str = "") -> str:
    return f"/t/{tenant.code}/{key}/" + (f"{action}/" if action else "")


class _StepForm(HTMLParser):
    """The hidden fields of the step form (#step-form) as the browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "step-form":
            self.inside = True
        elif tag == "input" and self.inside and a.get("type") == "hidden" and "name" in a:
            self.hidden[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def hidden_fields(html: str) -> dict[str, str]:
    parser = _StepForm()
    parser.feed(html)
    return {k: v for k, v in parser.hidden.items() if k != "csrfmiddlewaretoken"}


def open_page(client: Client, tenant: Tenant, key: str) -> dict[str, str]:
    """Open the step as a person would; what their form will carry back."""
    r = client.get(url(tenant, key))
    assert r.status_code == 200
    return hidden_fields(r.content.decode())


def submit(client: Client, tenant: Tenant, key: str, page: dict[str, str], **fields: Any):
    return client.post(url(tenant, key), {**page, "action": "save", **fields})


def colleague_saves(client: Client, tenant: Tenant, key: str, **fields: Any):
    """A colleague opens the step and saves it at once (while someone else has it open)."""
    return submit(client, tenant, key, open_page(client, tenant, key), **fields)


def answers(tenant: Tenant, key: str) -> dict[str, Any]:
    stored: dict[str, Any] = StepProgress.objects.get(tenant=tenant, step_key=key).answers
    return stored


def refused(r: Any) -> str:
    """The page of a refused save: re-shown (200), with no "Saved.", and the conflict box."""
    assert r.status_code == 200
    html = r.content.decode()
    assert "Saved." not in html
    assert "Saved by a colleague meanwhile:" in html
    return str(html)


def box(html: str) -> str:
    start = html.index("Saved by a colleague meanwhile:")
    return html[start : html.index("</ul>", start)]


# --- the API user: Username and Secret ---------------------------------------------------------


def test_a_stale_username_is_refused_and_the_colleagues_kept(
    owner_client, member_client, tenant
) -> None:
    services.credentials_save(tenant=tenant, user=None, username="first@x.example", secret=None)
    owner_page = open_page(owner_client, tenant, "api-user")
    member_page = open_page(member_client, tenant, "api-user")
    assert owner_page["initial-username"] == "first@x.example"

    r = submit(member_client, tenant, "api-user", member_page, username="member@x.example")
    assert r.status_code == 302
    html = refused(submit(owner_client, tenant, "api-user", owner_page, username="owner@x.example"))

    assert AutotaskCredential.objects.get(tenant=tenant).username == "member@x.example"
    assert "A colleague saved a different answer" in html
    assert "API user Username: <strong>member@x.example</strong>" in box(html)
    assert 'value="owner@x.example"' in html  # what the owner typed is still in the field

    # Saving again from the re-shown form is a choice made knowingly: it keeps the owner's.
    again = submit(
        owner_client, tenant, "api-user", hidden_fields(html), username="owner@x.example"
    )
    assert again.status_code == 302
    assert AutotaskCredential.objects.get(tenant=tenant).username == "owner@x.example"


def test_a_stale_page_saving_something_else_leaves_the_username_alone(
    owner_client, member_client, tenant
) -> None:
    services.credentials_save(tenant=tenant, user=None, username="first@x.example", secret=None)
    owner_page = open_page(owner_client, tenant, "api-user")
    colleague_saves(
        member_client,
        tenant,
        "api-user",
        username="member@x.example",
    )
    # The owner's page still shows the old Username; they only tick an item and save.
    r = submit(
        owner_client,
        tenant,
        "api-user",
        owner_page,
        username="first@x.example",
        checklist=["user-created"],
    )
    assert r.status_code == 302
    assert AutotaskCredential.objects.get(tenant=tenant).username == "member@x.example"
    assert StepProgress.objects.get(tenant=tenant, step_key="api-user").checklist == [
        "user-created"
    ]


def test_a_secret_from_a_page_older_than_a_colleagues_credentials_is_refused(
    owner_client, member_client, tenant
) -> None:
    services.credentials_save(tenant=tenant, user=None, username="api@x.example", secret="Old-1")
    owner_page = open_page(owner_client, tenant, "api-user")
    member_page = open_page(member_client, tenant, "api-user")
    stamp = owner_page["credentials_stamp"]
    assert stamp and "Old-1" not in stamp  # an opaque stamp, not the Secret

    submit(
        member_client, tenant, "api-user", member_page, username="api@x.example", secret=SECRET_B
    )
    stored = AutotaskCredential.objects.get(tenant=tenant).secret_encrypted
    html = refused(
        submit(
            owner_client, tenant, "api-user", owner_page, username="api@x.example", secret=SECRET_A
        )
    )

    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert cred.secret_encrypted == stored
    assert crypto.decrypt_secret(cred.secret_encrypted) == SECRET_B
    assert CREDENTIALS_CHANGED in html
    assert "API user Secret: <strong>new credentials were saved (not shown)</strong>" in box(html)
    assert SECRET_A not in html and SECRET_B not in html  # the Secret is never re-rendered
    # The re-shown form carries the new stamp: entering the Secret again replaces it.
    fresh = hidden_fields(html)
    assert fresh["credentials_stamp"] != stamp
    submit(owner_client, tenant, "api-user", fresh, username="api@x.example", secret=SECRET_A)
    cred.refresh_from_db()
    assert crypto.decrypt_secret(cred.secret_encrypted) == SECRET_A


def test_a_secret_after_a_colleagues_new_username_is_refused(
    owner_client, member_client, tenant
) -> None:
    """New credentials are the pair: a Secret typed for the API user the page showed must
    not end up beside another Username."""
    services.credentials_save(tenant=tenant, user=None, username="api@x.example", secret="Old-1")
    owner_page = open_page(owner_client, tenant, "api-user")
    colleague_saves(
        member_client,
        tenant,
        "api-user",
        username="other@x.example",
    )
    html = refused(
        submit(
            owner_client, tenant, "api-user", owner_page, username="api@x.example", secret=SECRET_A
        )
    )
    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert (cred.username, crypto.decrypt_secret(cred.secret_encrypted)) == (
        "other@x.example",
        "Old-1",
    )
    assert CREDENTIALS_CHANGED in html


def test_first_credentials_saved_by_two_at_once(owner_client, member_client, tenant) -> None:
    owner_page = open_page(owner_client, tenant, "api-user")
    member_page = open_page(member_client, tenant, "api-user")
    submit(
        member_client, tenant, "api-user", member_page, username="member@x.example", secret=SECRET_B
    )
    html = refused(
        submit(
            owner_client,
            tenant,
            "api-user",
            owner_page,
            username="owner@x.example",
            secret=SECRET_A,
        )
    )
    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert crypto.decrypt_secret(cred.secret_encrypted) == SECRET_B
    assert cred.username == "member@x.example"
    assert "API user Username: <strong>member@x.example</strong>" in box(html)
    assert CREDENTIALS_CHANGED in html


# --- radio answers and the time zone ----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name", "theirs", "mine", "label"),
    [
        (
            "recurring-contract",
            "sync_start",
            "next",
            "most-recent",
            "Billing Sync will start with: <strong>The next invoice (issued next month)</strong>",
        ),
        (
            "annual-contract",
            "has_annual",
            "no",
            "yes",
            "Do any customers have Seat Based Annual subscriptions?: <strong>No, none of our "
            "customers has annual seat subscriptions</strong>",
        ),
        (
            "account",
            "branch",
            "new",
            "existing",
            "Do you already have Autotask PSA?: <strong>I need a new Autotask account</strong>",
        ),
    ],
)
def test_a_stale_radio_answer_is_refused_with_the_forms_words(
    owner_client, member_client, tenant, key, name, theirs, mine, label
) -> None:
    owner_page = open_page(owner_client, tenant, key)
    colleague_saves(member_client, tenant, key, **{name: theirs})
    html = refused(submit(owner_client, tenant, key, owner_page, **{name: mine}))
    assert answers(tenant, key)[name] == theirs
    assert label in box(html)
    assert f"{name}:" not in box(html)  # never the internal name (issue 14, point 3)


def test_a_stale_time_zone_is_refused_with_the_forms_words(
    owner_client, member_client, tenant
) -> None:
    owner_page = open_page(owner_client, tenant, "account")
    colleague_saves(
        member_client,
        tenant,
        "account",
        time_zone="Australia/Perth",
    )
    html = refused(submit(owner_client, tenant, "account", owner_page, time_zone="Europe/Paris"))
    tenant.refresh_from_db()
    assert tenant.time_zone == "Australia/Perth"
    assert "Your Autotask&#x27;s time zone: <strong>Australia/Perth</strong>" in box(html)


# --- checklist ticks -----------------------------------------------------------------------------


def test_a_save_after_a_tick_cannot_undo_a_colleagues_untick(
    owner_client, member_client, tenant
) -> None:
    """The owner ticks through htmx (saved on the click), the member then unticks the same item,
    and the owner's page, not reloaded, is saved: the member's untick must stay."""
    owner_page = open_page(owner_client, tenant, "api-user")
    r = owner_client.post(
        url(tenant, "api-user", "checklist"),
        {"item": "locked-unchecked", "checklist": "locked-unchecked"},
        HTTP_HX_REQUEST="true",
    )
    # The tick's answer brings the checklist back, with what the page now shows (htmx swaps it).
    swapped = r.content.decode()
    assert 'id="checklist-box" hx-swap-oob="true"' in swapped
    owner_page["checklist_shown"] = _value(swapped, "checklist_shown")
    assert owner_page["checklist_shown"] == "locked-unchecked"

    services.checklist_update(
        tenant=tenant, step_key="api-user", user=None, unticked=["locked-unchecked"]
    )
    r = submit(owner_client, tenant, "api-user", owner_page, checklist=["locked-unchecked"])
    assert r.status_code == 302
    assert StepProgress.objects.get(tenant=tenant, step_key="api-user").checklist == []
    # ...and the owner is told why the box they left ticked is unticked now.
    html = owner_client.get(r.url).content.decode()
    assert (
        "A colleague changed the checklist after you opened this page, and their change is "
        "kept: \u201cLocked is unticked.\u201d is not ticked."
    ) in html
    assert not re.search(r'value="locked-unchecked"[^>]*\schecked[\s>]', html)


def test_ticks_in_a_refused_save_are_not_stored(owner_client, member_client, tenant) -> None:
    owner_page = open_page(owner_client, tenant, "recurring-contract")
    colleague_saves(
        member_client,
        tenant,
        "recurring-contract",
        sync_start="next",
    )
    item = "type-recurring"
    html = refused(
        submit(
            owner_client,
            tenant,
            "recurring-contract",
            owner_page,
            sync_start="most-recent",
            checklist=[item],
        )
    )
    assert StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").checklist == []
    assert f'value="{item}" id="id_checklist_' in html and "checked" in html.split(item, 1)[1][:80]


def _value(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


# --- contract rows (recurring and annual) -------------------------------------------------------


def test_adding_a_contract_a_colleague_added_meanwhile_is_refused(
    owner_client, member_client, tenant
) -> None:
    owner_page = open_page(owner_client, tenant, "recurring-contract")
    colleague_saves(
        member_client,
        tenant,
        "recurring-contract",
        action="add",
        add_company_id="101",
        add_contract_id="2003",
        add_company_name="Tailspin",
        add_contract_name="Support 2026",
    )
    html = refused(
        submit(
            owner_client,
            tenant,
            "recurring-contract",
            owner_page,
            action="add",
            add_company_id="110",
            add_contract_id="2003",
        )
    )
    rows = answers(tenant, "recurring-contract")["customers"]
    assert [(r["company_id"], r["contract_id"]) for r in rows] == [(101, 2003)]
    assert (
        "Customers to sync and their Recurring Service contracts: "
        "<strong>Tailspin #101 / Support 2026 #2003</strong>"
    ) in box(html)
    assert 'value="110"' in html  # the owner's typed ids are still in the form


def test_removing_an_annual_contract_a_colleague_changed_is_refused(
    owner_client, member_client, tenant
) -> None:
    services.answer_list_add(
        tenant=tenant,
        step_key="annual-contract",
        user=None,
        field="contracts",
        key="contract_id",
        item={"company_id": 105, "contract_id": 3001, "company_name": "", "contract_name": ""},
    )
    owner_page = open_page(owner_client, tenant, "annual-contract")
    # The member points contract 3001 at another company (replacing the row).
    services.answer_list_add(
        tenant=tenant,
        step_key="annual-contract",
        user=None,
        field="contracts",
        key="contract_id",
        item={
            "company_id": 106,
            "contract_id": 3001,
            "company_name": "Fabrikam",
            "contract_name": "Seats",
        },
    )
    html = refused(
        submit(owner_client, tenant, "annual-contract", owner_page, action="remove:3001")
    )
    rows = answers(tenant, "annual-contract")["contracts"]
    assert [(r["company_id"], r["contract_id"]) for r in rows] == [(106, 3001)]
    assert (
        "Fixed Price contracts of your annual customers: <strong>Fabrikam #106 / Seats #3001"
        in box(html)
    )


def test_rows_colleagues_add_side_by_side_are_both_kept(
    owner_client, member_client, tenant
) -> None:
    """Not every concurrent edit is a conflict: different customers simply add up."""
    owner_page = open_page(owner_client, tenant, "recurring-contract")
    colleague_saves(
        member_client,
        tenant,
        "recurring-contract",
        action="add",
        add_company_id="101",
        add_contract_id="2003",
    )
    r = submit(
        owner_client,
        tenant,
        "recurring-contract",
        owner_page,
        action="add",
        add_company_id="102",
        add_contract_id="2004",
    )
    assert r.status_code == 302
    rows = answers(tenant, "recurring-contract")["customers"]
    assert sorted(r["contract_id"] for r in rows) == [2003, 2004]


# --- several at once ------------------------------------------------------------------------------


def test_one_refusal_names_every_field_and_stores_nothing(
    owner_client, member_client, tenant
) -> None:
    owner_page = open_page(owner_client, tenant, "recurring-contract")
    member_page = open_page(member_client, tenant, "recurring-contract")
    submit(
        member_client,
        tenant,
        "recurring-contract",
        member_page,
        sync_start="next",
        action="add",
        add_company_id="101",
        add_contract_id="2003",
    )
    html = refused(
        submit(
            owner_client,
            tenant,
            "recurring-contract",
            owner_page,
            sync_start="most-recent",
            action="add",
            add_company_id="110",
            add_contract_id="2003",
        )
    )
    listed = box(html)
    assert "Billing Sync will start with: <strong>The next invoice" in listed
    assert "Company #101 / Contract #2003" in listed
    stored = answers(tenant, "recurring-contract")
    assert stored["sync_start"] == "next"
    assert [r["company_id"] for r in stored["customers"]] == [101]
