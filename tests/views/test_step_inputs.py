"""Issue 14, points 5, 6, 7 and 8 through HTTP: what is stored and what the person sees.

5: the account step without JavaScript (switch branch and tick in one submit); 6: a typed row
whose company or contract is already listed; 7: the picker by the list, Choose in place (htmx)
and without JavaScript; 8: "Save and continue" with nothing answered.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.html import escape

from tests.factories import fill_in
from tests.views.conftest import step_url as url
from wizard import services
from wizard.models import StepProgress
from wizard.sandbox import SANDBOX_SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_on")]
HX = {"HTTP_HX_REQUEST": "true"}


def answers(tenant, key) -> dict[str, Any]:
    stored: dict[str, Any] = StepProgress.objects.get(tenant=tenant, step_key=key).answers
    return stored


def customers(tenant) -> list[tuple[int, int]]:
    return [
        (r["company_id"], r["contract_id"])
        for r in answers(tenant, "recurring-contract")["customers"]
    ]


def recurring(tenant, customers_=((103, 2003),)):
    return fill_in(tenant, customers=customers_, sync_start="next")


# --- 5: the account step without JavaScript -----------------------------------------------


def test_switching_branch_and_ticking_in_one_submit_saves_it(owner_client, tenant) -> None:
    services.step_answers_save(
        tenant=tenant, step_key="account", user=None, changes={"branch": "new"}, seen={}
    )
    # The page showed the "new" branch's checklist; the person picks "existing" and ticks.
    r = owner_client.post(
        url(tenant, "account"),
        {
            "branch": "existing",
            "initial-branch": "new",
            "time_zone": "Australia/Sydney",
            "initial-time_zone": "",
            "checklist": ["account-created", "signed-in", "admin-access"],
            "checklist_shown": "",
            "action": "save",
        },
    )
    assert r.status_code == 302
    progress = StepProgress.objects.get(tenant=tenant, step_key="account")
    assert progress.answers["branch"] == "existing"
    # Only the ticks of the branch now chosen: "account-created" belongs to "new".
    assert progress.checklist == ["signed-in", "admin-access"]
    assert progress.state == "done"
    html = owner_client.get(url(tenant, "account")).content.decode()
    assert "is not one of the available choices" not in html
    assert "Our Autotask account has been created." not in html


def test_ticks_of_the_branch_left_are_kept_not_lost(owner_client, tenant) -> None:
    services.step_answers_save(
        tenant=tenant, step_key="account", user=None, changes={"branch": "new"}, seen={}
    )
    services.checklist_update(
        tenant=tenant, step_key="account", user=None, ticked=["account-created"]
    )
    r = owner_client.post(
        url(tenant, "account"),
        {
            "branch": "existing",
            "initial-branch": "new",
            "checklist": ["signed-in"],
            "checklist_shown": "account-created",
            "action": "save",
        },
    )
    assert r.status_code == 302
    checklist = StepProgress.objects.get(tenant=tenant, step_key="account").checklist
    assert checklist == ["account-created", "signed-in"]


# --- 6: a typed row that is already listed ------------------------------------------------


def add(client, tenant, company, contract, action="add", **extra):
    data = {
        "sync_start": "next",
        "initial-sync_start": "next",
        "checklist_shown": "",
        "add_company_id": company,
        "add_contract_id": contract,
        "action": action,
        **extra,
    }
    return client.post(url(tenant, "recurring-contract"), data)


def test_typing_a_listed_company_asks_instead_of_replacing(owner_client, tenant) -> None:
    recurring(tenant)
    r = add(owner_client, tenant, 103, 2010)
    html = r.content.decode()
    assert r.status_code == 200
    assert (
        "Company #103 is already listed with contract #2003. Replace it with contract #2010, "
        "or keep contract #2003? Nothing was added yet."
    ) in html
    assert 'value="replace:103:2010"' in html and ">Replace with contract #2010</button>" in html
    assert ">Keep contract #2003</button>" in html
    assert "Saved." not in html
    assert customers(tenant) == [(103, 2003)]  # nothing dropped, nothing added


def test_typing_a_listed_contract_for_another_company_asks_too(owner_client, tenant) -> None:
    # The walk of the issue: 101/2003 silently dropped the valid Tailspin 103/2003.
    recurring(tenant)
    html = add(owner_client, tenant, 101, 2003).content.decode()
    assert (
        "Contract #2003 is already listed, for Company #103. Replace that row with Company "
        "#101, or keep it for Company #103?"
    ) in html
    assert ">Replace with Company #101</button>" in html
    assert ">Keep it for Company #103</button>" in html
    assert customers(tenant) == [(103, 2003)]


def test_replace_replaces_and_says_so(owner_client, tenant) -> None:
    recurring(tenant, ((101, 2001), (103, 2003)))
    r = add(owner_client, tenant, 103, 2010, action="replace:103:2010")
    assert r.status_code == 302 and r.url.endswith("#customers")
    assert customers(tenant) == [(101, 2001), (103, 2010)]
    html = owner_client.get(r.url).content.decode()
    assert "Saved. Replaced the listed row with Company #103 with contract #2010." in html


def test_keep_keeps_the_listed_row_and_says_so(owner_client, tenant) -> None:
    recurring(tenant)
    r = add(owner_client, tenant, 103, 2010, action="keep")
    assert r.status_code == 302
    assert customers(tenant) == [(103, 2003)]
    html = owner_client.get(r.url).content.decode()
    assert "Kept the row already listed; nothing was added." in html


def test_a_collision_stores_nothing_else_either(owner_client, tenant) -> None:
    recurring(tenant)
    r = add(
        owner_client, tenant, 103, 2010, sync_start="most-recent", **{"initial-sync_start": "next"}
    )
    assert answers(tenant, "recurring-contract")["sync_start"] == "next"
    # The person's unsaved choice is still in the form they get back.
    html = r.content.decode()
    assert 'name="sync_start" value="most-recent" id="id_sync_start_0" checked' in html


def test_the_same_row_again_is_no_question(owner_client, tenant) -> None:
    recurring(tenant)
    r = add(owner_client, tenant, 103, 2003)
    assert r.status_code == 302
    assert customers(tenant) == [(103, 2003)]


def test_hand_typed_rows_get_their_names_once_autotask_is_read(owner_client, tenant) -> None:
    recurring(tenant, ((106, 2006),))
    page = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    assert "Company <span" in page and "Contract <span" in page  # no names yet
    # The search, then the company's contracts: both answers name the typed row.
    owner_client.get(url(tenant, "recurring-contract", "picker"), {"q": "Wing"}, **HX)
    owner_client.get(
        url(tenant, "recurring-contract", "picker"), {"q": "Wing", "company": 106}, **HX
    )
    row = answers(tenant, "recurring-contract")["customers"][0]
    assert (row["company_name"], row["contract_name"]) == (
        "Wingtip Toys",
        "Wingtip - Cloud Services",
    )
    page = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    assert 'Wingtip Toys <span class="muted">#106</span>' in page


# --- 7: the picker by the list; Choose in place, and without JavaScript --------------------


def test_the_search_sits_with_the_list_inside_the_form(owner_client, tenant) -> None:
    recurring(tenant)
    html = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    form = html[
        html.index('<form id="step-form"') : html.index(
            "</form>", html.index('<form id="step-form"')
        )
    ]
    # The list, then the search, then the typed ids: all in the customers fieldset.
    assert form.index('id="list-rows"') < form.index('id="picker-q"') < form.index("add_company_id")
    assert 'form="picker-search"' in form  # Enter searches, never saves
    assert '<form id="picker-search" method="get" action="' in html
    assert 'hx-trigger="input changed delay:400ms, search"' in form


def test_choose_in_place_adds_the_row_and_nothing_else(owner_client, tenant) -> None:
    fill_in(tenant, customers=((101, 2001),), sync_start="next")
    r = owner_client.post(
        url(tenant, "recurring-contract", "rows"),
        {
            "action": "choose:103:2003",
            "picker_company_name": "Tailspin Toys",
            "picker_contract_name_2003": "Tailspin - Microsoft 365",
            # htmx sends the whole form along: an unsaved choice must stay unsaved.
            "sync_start": "most-recent",
            "initial-sync_start": "next",
        },
        **HX,
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert html.lstrip().startswith('<div id="list-rows"')
    assert 'Tailspin Toys <span class="muted">#103</span>' in html
    assert (
        'hx-swap-oob="innerHTML">Added Tailspin Toys #103 with Tailspin - Microsoft 365 #2003.</p>'
        in html
    )
    assert 'id="step-form"' not in html  # the rest of the form is not swapped
    assert customers(tenant) == [(101, 2001), (103, 2003)]
    assert answers(tenant, "recurring-contract")["sync_start"] == "next"


def test_choose_in_place_asks_when_the_company_is_listed(owner_client, tenant) -> None:
    recurring(tenant)
    html = owner_client.post(
        url(tenant, "recurring-contract", "rows"), {"action": "choose:103:2014"}, **HX
    ).content.decode()
    assert "is already listed with contract #2003. Replace it with contract #2014" in html
    assert "data-focus-first" in html
    assert customers(tenant) == [(103, 2003)]


def test_choose_without_javascript_saves_and_comes_back_to_the_list(owner_client, tenant) -> None:
    fill_in(tenant, customers=((101, 2001),), sync_start="next")
    r = owner_client.post(
        url(tenant, "recurring-contract") + "?q=Tail&company=103&company_name=Tailspin+Toys",
        {
            "action": "choose:103:2003",
            "picker_company_name": "Tailspin Toys",
            "picker_contract_name_2003": "Tailspin - Microsoft 365",
            "sync_start": "most-recent",
            "initial-sync_start": "next",
            "checklist_shown": "",
        },
    )
    assert r.status_code == 302
    assert r.url == (
        url(tenant, "recurring-contract")
        + "?q=Tail&company=103&company_name=Tailspin+Toys#customers"
    )
    assert customers(tenant) == [(101, 2001), (103, 2003)]
    # The other submitted values are kept (saved with it).
    assert answers(tenant, "recurring-contract")["sync_start"] == "most-recent"
    html = owner_client.get(r.url).content.decode()
    assert 'value="Tail"' in html  # the search is still there
    assert "Contracts of Tailspin Toys (#103)" in html
    assert "Added Tailspin Toys #103 with Tailspin - Microsoft 365 #2003." in html


def test_a_plain_search_returns_to_the_list(owner_client, tenant) -> None:
    recurring(tenant)
    r = owner_client.get(url(tenant, "recurring-contract", "picker"), {"q": "Wing"})
    assert r.status_code == 302 and r.url.endswith("?q=Wing#customers")
    html = owner_client.get(url(tenant, "recurring-contract"), {"q": "Wing"}).content.decode()
    assert '#customers"' in html and ">Wingtip Toys</a>" in html


def test_the_rows_view_without_javascript_redirects_to_the_list(owner_client, tenant) -> None:
    recurring(tenant)
    r = owner_client.post(url(tenant, "recurring-contract", "rows"), {"action": "remove:2003"})
    assert r.status_code == 302 and r.url.endswith("/recurring-contract/#customers")
    assert answers(tenant, "recurring-contract")["customers"] == []


# --- 8: "Save and continue" with nothing answered ------------------------------------------


def test_continue_with_nothing_answered_says_an_answer_is_needed(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "account"),
        {"branch": "", "initial-branch": "", "checklist_shown": "", "action": "next"},
    )
    html = r.content.decode()
    assert r.status_code == 200  # not moved on
    assert "This step needs an answer before you continue. Choose whether you need a new" in html
    assert 'role="alert"' in html


def test_continue_on_an_optional_step_says_it_is_left_for_later(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "security-level"), {"checklist_shown": "", "action": "next"}, follow=True
    )
    html = r.content.decode()
    assert r.redirect_chain[-1][0] == url(tenant, "api-user")
    assert escape("You left “Custom security level”") in html or "for later" in html


def test_continue_with_an_answer_moves_on_quietly(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "account"),
        {"branch": "existing", "initial-branch": "", "checklist_shown": "", "action": "next"},
    )
    assert r.status_code == 302 and r.url == url(tenant, "security-level")


def test_api_user_secret_is_never_shown(owner_client, tenant) -> None:
    fill_in(tenant, secret=SANDBOX_SECRET)
    html = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    assert SANDBOX_SECRET not in html


def test_a_verification_names_the_hand_typed_rows(owner_client, tenant) -> None:
    recurring(tenant, ((103, 2003), (106, 2006)))
    before = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract")
    assert "company_name" not in before.answers["customers"][0]
    owner_client.post(url(tenant, "recurring-contract", "verify"))
    progress = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract")
    names = [(r["company_name"], r["contract_name"]) for r in progress.answers["customers"]]
    assert names == [
        ("Tailspin Toys", "Tailspin - Microsoft 365"),
        ("Wingtip Toys", "Wingtip - Cloud Services"),
    ]
    assert progress.check_results  # the names are labels: the results stay
    html = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    assert "Company #" not in html and 'Tailspin Toys <span class="muted">#103</span>' in html


def test_the_rows_view_is_only_for_steps_with_a_list(owner_client, tenant) -> None:
    r = owner_client.post(url(tenant, "account", "rows"), {"action": "keep"}, **HX)
    assert r.status_code == 404


def test_choose_in_place_never_replaces_a_row_a_colleague_added_unseen(
    owner_client, member, tenant
) -> None:
    """The list the page showed travels with Choose: a colleague's row added since is kept,
    and the person is told, with the list as it is now."""
    fill_in(tenant, customers=((101, 2001),), sync_start="next")
    shown = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    stamp = shown.split('name="rows_shown" value="', 1)[1].split('"', 1)[0]
    assert stamp.startswith("2001@")
    # A colleague adds contract 2003 for Tailspin Toys meanwhile.
    services.answer_list_add(
        tenant=tenant,
        step_key="recurring-contract",
        user=member,
        field="customers",
        item={"company_id": 103, "contract_id": 2003, "company_name": "Tailspin Toys"},
        key="contract_id",
    )
    post = {"action": "choose:102:2003", "rows_shown": stamp}
    html = owner_client.post(url(tenant, "recurring-contract", "rows"), post, **HX)
    text = html.content.decode()
    assert "A colleague changed this list after you opened this page" in text
    assert 'Tailspin Toys <span class="muted">#103</span>' in text
    assert customers(tenant) == [(101, 2001), (103, 2003)]
    # The list that came back carries the new stamp: choosing again works.
    fresh = text.split('name="rows_shown" value="', 1)[1].split('"', 1)[0]
    assert "2003@" in fresh
    # Without JavaScript: the same refusal, as a message by the list.
    r = owner_client.post(url(tenant, "recurring-contract", "rows"), post, follow=True)
    assert "A colleague changed this list" in r.content.decode()
    assert customers(tenant) == [(101, 2001), (103, 2003)]
