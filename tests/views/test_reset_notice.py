"""After an admin reset the partner is told, on every step page, until a member dismisses it;
the reset pages say what a whole reset and a reset from a step each do."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest

from tests.factories import fill_in
from wizard import steps
from wizard.models import AuditEvent, Tenant

pytestmark = pytest.mark.django_db

REASON = "Your API user was deleted in Autotask; start again from it."
NOTICE = 'class="notice reset-notice"'


def reset(admin_client, tenant: Tenant, from_step: str, reason: str = REASON):
    return admin_client.post(
        f"/manage/t/{tenant.code}/reset/", {"from_step": from_step, "reason": reason}, follow=True
    )


def test_a_reset_from_a_step_is_shown_on_every_step_page(admin_client, member_client, tenant):
    fill_in(tenant, tick=True)
    page = reset(admin_client, tenant, "api-user").content.decode()
    assert "Reset from &#x27;The API user&#x27;." in page
    for key in steps.STEP_KEYS:
        html = member_client.get(f"/t/{tenant.code}/{key}/").content.decode()
        assert NOTICE in html, key
        text = unescape(html)
        assert "An administrator reset the wizard from \u201cThe API user\u201d" in text, key
        assert "the steps before it stay as they were" in html
        assert "Reason given: Your API user was deleted in Autotask; start again from it." in html
    # When: the time of the reset (the audit event's), shown in UTC.
    event = AuditEvent.objects.get(tenant=tenant, action="wizard_reset")
    html = member_client.get(f"/t/{tenant.code}/account/").content.decode()
    shown = re.search(r'reset-notice-title.*?<time datetime="([^"]+)">([^<]+)</time>', html)
    assert shown is not None
    assert abs((datetime.datetime.fromisoformat(shown[1]) - event.created_at).total_seconds()) < 5
    assert shown[2] == f"{event.created_at:%-d %b %Y, %H:%M} UTC"


def test_a_whole_reset_says_so(admin_client, owner_client, tenant) -> None:
    fill_in(tenant, tick=True)
    confirm = admin_client.get(f"/manage/t/{tenant.code}/reset/").content.decode()
    assert "Earlier steps stay as they are" not in confirm
    assert "Every step is cleared, from the first one on." in confirm
    page = reset(admin_client, tenant, "").content.decode()
    assert "Reset the whole wizard." in page
    assert "Reset from" not in page.split('class="messages"')[1].split("</ul>")[0]
    html = owner_client.get(f"/t/{tenant.code}/account/").content.decode()
    assert "An administrator reset the whole wizard" in html
    assert "Every step was cleared" in html
    assert "stay as they were" not in html


def test_the_from_step_confirmation_keeps_its_own_words(admin_client, tenant) -> None:
    confirm = admin_client.get(
        f"/manage/t/{tenant.code}/reset/", {"from_step": "account"}
    ).content.decode()
    assert "Earlier steps stay as they are." in confirm
    page = reset(admin_client, tenant, "account").content.decode()
    assert "Reset from &#x27;Your Autotask account&#x27;." in page


def test_a_member_dismisses_it_for_the_team_without_javascript(
    admin_client, member_client, owner_client, member, tenant
) -> None:
    reset(admin_client, tenant, "recurring-contract")
    r = member_client.post(
        f"/t/{tenant.code}/reset-notice/dismiss/", {"step": "recurring-contract"}
    )
    assert r.status_code == 302 and r["Location"] == f"/t/{tenant.code}/recurring-contract/"
    for client in (member_client, owner_client):
        assert NOTICE not in client.get(f"/t/{tenant.code}/account/").content.decode()
    event = AuditEvent.objects.get(tenant=tenant, action="reset_notice_dismissed")
    assert event.actor == member and event.step_key == "recurring-contract"
    assert Tenant.objects.get(pk=tenant.pk).reset_notice == {}
    # A second dismissal (a colleague's stale page) changes nothing and records nothing.
    owner_client.post(f"/t/{tenant.code}/reset-notice/dismiss/")
    assert AuditEvent.objects.filter(action="reset_notice_dismissed").count() == 1
    # The staff page says whether the partner has seen it.
    assert "has not dismissed" not in admin_client.get(f"/manage/t/{tenant.code}/").content.decode()


def test_staff_see_an_undismissed_notice(admin_client, tenant) -> None:
    reset(admin_client, tenant, "review")
    html = admin_client.get(f"/manage/t/{tenant.code}/").content.decode()
    assert "The partner has not dismissed the notice of the last reset yet" in html


def test_only_members_dismiss(admin_client, outsider_client, staff_client, tenant) -> None:
    reset(admin_client, tenant, "review")
    for client in (outsider_client, staff_client, admin_client):
        assert client.post(f"/t/{tenant.code}/reset-notice/dismiss/").status_code == 404
    assert Tenant.objects.get(pk=tenant.pk).reset_notice["from_step"] == "review"


def test_no_notice_without_a_reset(owner_client, tenant) -> None:
    assert NOTICE not in owner_client.get(f"/t/{tenant.code}/account/").content.decode()


def test_the_owners_mail_of_a_whole_reset_says_so(
    admin_client, tenant, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        reset(admin_client, tenant, "")
        reset(admin_client, tenant, "api-user")
    whole, from_step = mail.outbox
    assert whole.subject == "Your Billing Sync setup was reset: the whole wizard"
    assert "the whole wizard, every step." in whole.body
    assert "Earlier steps are unchanged" not in whole.body
    assert from_step.subject == "Your Billing Sync setup was reset: The API user"
    assert "from the step 'The API user'." in from_step.body
    assert "Earlier steps are unchanged." in from_step.body
