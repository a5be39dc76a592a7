"""Issue 14, point 11: optional steps on the review, "just now", no repeated state changes."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import fill_in
from wizard import selectors, services, steps
from wizard.models import AuditEvent, Tenant
from wizard.sandbox import SANDBOX_SECRET
from wizard.templatetags.wizard_tags import ago

pytestmark = pytest.mark.django_db


def test_the_review_says_optional_steps_can_be_skipped(owner_client, tenant) -> None:
    fill_in(tenant)  # nothing ticked: every step with a checklist is still open
    html = owner_client.get(f"/t/{tenant.code}/review/").content.decode()
    assert "Security level for the API user (optional: you can skip it)" in html
    assert "The API user, " in html and "The API user (optional" not in html
    level = steps.STEPS_BY_KEY["security-level"].title
    link = f'<a href="/t/{tenant.code}/security-level/">{level}</a> is optional'
    assert link in html
    assert "is optional: finish it, or skip it on its own page." in html
    # Skipped, it is no longer open, nor offered.
    services.step_skip(tenant=tenant, step_key="security-level", user=None)
    html = owner_client.get(f"/t/{tenant.code}/review/").content.decode()
    assert "Security level for the API user (optional" not in html
    assert link not in html


def test_the_stored_review_blocker_names_optional_steps_too(tenant) -> None:
    fill_in(tenant)
    services.checklist_update(
        tenant=tenant, step_key="review", user=None, ticked=["secret-at-hand"]
    )
    review = selectors.wizard_overview(tenant).get("review")
    assert any(
        "Security level for the API user (optional: you can skip it)" in b
        for b in review.evaluation.blockers
    )


def test_relative_times_say_just_now_under_a_minute() -> None:
    now = timezone.now()
    assert ago(now, now) == "just now"
    assert ago(now - datetime.timedelta(seconds=59), now) == "just now"
    assert ago(now - datetime.timedelta(minutes=1), now) == "1\xa0minute ago"
    assert ago(now - datetime.timedelta(hours=3), now) == "3\xa0hours ago"
    assert ago(None) == ""


def test_dashboard_and_tenant_page_say_just_now(admin_client, tenant) -> None:
    fill_in(tenant)  # activity a moment ago
    dashboard = admin_client.get("/manage/").content.decode()
    assert "just now</time>" in dashboard and "0\xa0minutes" not in dashboard
    page = admin_client.get(f"/manage/t/{tenant.code}/").content.decode()
    assert "last activity just now" in page and "0\xa0minutes" not in page


def _state_changes(tenant: Tenant, step_key: str) -> list[tuple[str, str]]:
    return [
        (e.detail["from"], e.detail["to"])
        for e in AuditEvent.objects.filter(
            tenant=tenant, action="state_changed", step_key=step_key
        ).order_by("id")
    ]


def test_new_credentials_record_the_reviews_change_once(settings, tenant, owner) -> None:
    """The cause of the repeated "review done -> in progress" lines: saving credentials
    re-evaluated the review through each cleared step's finish() (from a fresh row), then again
    from the loop's own older copy of it, which still said "done"."""
    from django.core.cache import cache

    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    fill_in(tenant, tick=True)
    for _ in range(2):  # re-verified, and the credentials saved again, twice
        services.step_verify(tenant=tenant, step_key="review", user=owner)
        services.credentials_save(
            tenant=tenant, user=owner, username="healthy@sandbox.example", secret=SANDBOX_SECRET
        )
    assert _state_changes(tenant, "review") == [
        ("not_started", "in_progress"),
        ("in_progress", "done"),
        ("done", "in_progress"),
        ("in_progress", "done"),
        ("done", "in_progress"),
    ]
    # Every step's trail: no two identical changes in a row.
    for key in steps.STEP_KEYS:
        changes = _state_changes(tenant, key)
        assert all(a != b for a, b in zip(changes, changes[1:], strict=False)), (key, changes)


def test_a_stale_row_records_no_change(tenant) -> None:
    """Whatever the caller holds, only a change of the stored state is recorded."""
    from wizard.models import StepProgress
    from wizard.services.progress import evaluate_and_save

    fill_in(tenant)
    stale = StepProgress.objects.get(tenant=tenant, step_key="account")
    fresh = StepProgress.objects.get(tenant=tenant, step_key="account")
    services.checklist_update(
        tenant=tenant,
        step_key="account",
        user=None,
        ticked=[i.id for i in steps.STEPS_BY_KEY["account"].checklist_for("existing")],
    )
    assert _state_changes(tenant, "account")[-1] == ("in_progress", "done")
    assert stale.state == fresh.state == "in_progress"  # both copies are older than the row
    stale.checklist = StepProgress.objects.get(pk=stale.pk).checklist
    evaluate_and_save(stale, None)
    assert _state_changes(tenant, "account").count(("in_progress", "done")) == 1


def test_old_repeats_are_collapsed_on_the_tenant_page(admin_client, tenant) -> None:
    for _ in range(3):
        services.audit(
            tenant=tenant,
            user=None,
            action=AuditEvent.Action.STATE_CHANGED,
            step_key="review",
            detail={"from": "done", "to": "in_progress"},
        )
    html = admin_client.get(f"/manage/t/{tenant.code}/").content.decode()
    assert html.count("done &rarr; in_progress") == 1
    assert "(recorded 3 times in a row)" in html
