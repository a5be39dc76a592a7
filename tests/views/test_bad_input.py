"""Bad input: refused with a clear message, escaped when it comes back from Autotask."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils.html import escape

from wizard import services
from wizard.models import AutotaskCredential, StepProgress
from wizard.sandbox import SANDBOX_SECRET

pytestmark = pytest.mark.django_db


def post_api_user(client, tenant, username: str, secret: str = ""):
    return client.post(
        f"/t/{tenant.code}/api-user/",
        {"username": username, "secret": secret, "checklist_shown": "", "action": "save"},
    )


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("Jane Admin", "does not look like an Autotask API username"),
        ("api-user", "does not look like an Autotask API username"),
        ("a" * 300 + "@x.example", "at most 254 characters"),
        ("jöhn@exämple.com", "plain letters, digits"),
        ("<script>alert(1)</script>@x.y", "does not look like an Autotask API username"),
    ],
)
def test_usernames_that_are_not_api_usernames(owner_client, tenant, username, message) -> None:
    r = post_api_user(owner_client, tenant, username, "some-secret")
    html = r.content.decode()
    assert message in html
    assert "<script>alert(1)</script>" not in html
    assert not AutotaskCredential.objects.filter(tenant=tenant).exists()


def test_very_long_secret_is_refused(owner_client, tenant) -> None:
    r = post_api_user(owner_client, tenant, "api@x.example", "s" * 300)
    assert "at most 255 characters" in r.content.decode()


def test_secret_with_surrounding_spaces_is_refused(owner_client, tenant) -> None:
    r = post_api_user(owner_client, tenant, "api@x.example", " secret ")
    assert "starts or ends with a space" in r.content.decode()


def test_non_ascii_secret_is_kept_byte_exact(owner_client, tenant) -> None:
    from wizard import crypto

    post_api_user(owner_client, tenant, "api@x.example", "pä$$#wörd€")
    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert crypto.decrypt_secret(cred.secret_encrypted) == "pä$$#wörd€"


@pytest.mark.parametrize("value", ["-1", "abc", "99999999999", "1.5"])
def test_bad_ids_are_refused(owner_client, tenant, value) -> None:
    r = owner_client.post(
        f"/t/{tenant.code}/recurring-contract/",
        {"add_company_id": value, "add_contract_id": "5", "checklist_shown": "", "action": "add"},
    )
    assert r.status_code == 200
    assert 'class="errorlist' in r.content.decode()
    assert StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers == {}


def test_forged_choice_values_are_refused(owner_client, tenant) -> None:
    r = owner_client.post(
        f"/t/{tenant.code}/recurring-contract/",
        {
            "sync_start": "yesterday",
            "initial-sync_start": "",
            "checklist_shown": "",
            "action": "save",
        },
    )
    assert "Select a valid choice" in r.content.decode()
    assert StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers == {}


def test_forged_checklist_ids_in_the_form_are_ignored(owner_client, tenant) -> None:
    r = owner_client.post(
        f"/t/{tenant.code}/account/",
        {"checklist": ["signed-in", "not-an-item"], "checklist_shown": "", "action": "save"},
    )
    assert "Select a valid choice" in r.content.decode()
    assert StepProgress.objects.get(tenant=tenant, step_key="account").checklist == []


def test_markup_from_autotask_is_escaped_everywhere(
    settings, owner_client, admin_client, tenant, owner
) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    services.credentials_save(
        tenant=tenant, user=owner, username="healthy@sandbox.example", secret=SANDBOX_SECRET
    )
    services.tenant_time_zone_save(tenant=tenant, user=owner, time_zone="Australia/Sydney", seen="")
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=owner,
        changes={"sync_start": "next"},
        seen={},
    )
    owner_client.post(
        f"/t/{tenant.code}/recurring-contract/",
        {
            "add_company_id": "104",
            "add_company_name": "<b>Acme & Sons</b>",
            "add_contract_id": "2004",
            "add_contract_name": "<img src=x onerror=alert(1)>",
            "checklist_shown": "",
            "action": "add",
        },
    )
    owner_client.post(f"/t/{tenant.code}/recurring-contract/verify/")
    for html in (
        owner_client.get(f"/t/{tenant.code}/recurring-contract/").content.decode(),
        admin_client.get(f"/manage/t/{tenant.code}/").content.decode(),
    ):
        assert "<b>Acme" not in html and "<img src=x" not in html and "<i>Cloud</i>" not in html
        assert escape("<b>Acme & Sons</b>") in html
