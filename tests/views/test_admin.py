"""The Django admin cannot write the audit trail: only the services append to it."""

from __future__ import annotations

import pytest

from tests.conftest import login, make_user
from wizard import services
from wizard.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    return login(make_user("root", is_staff=True, is_superuser=True))


def test_a_superuser_cannot_add_an_audit_event(superuser_client, tenant, owner) -> None:
    before = AuditEvent.objects.count()
    assert superuser_client.get("/admin/wizard/auditevent/add/").status_code == 403
    r = superuser_client.post(
        "/admin/wizard/auditevent/add/",
        {
            "tenant": tenant.pk,
            "actor": owner.pk,
            "action": AuditEvent.Action.CREDENTIALS_SAVED,
            "step_key": "api-user",
            "detail": "{}",
        },
    )
    assert r.status_code == 403
    assert AuditEvent.objects.count() == before
    # And the list offers no "Add" button.
    assert (
        "/admin/wizard/auditevent/add/"
        not in superuser_client.get("/admin/wizard/auditevent/").content.decode()
    )


def test_a_superuser_cannot_change_or_delete_an_audit_event(superuser_client, tenant) -> None:
    event = services.audit(tenant=tenant, user=None, action="member_added", detail={"user": "x"})
    base = f"/admin/wizard/auditevent/{event.pk}"
    r = superuser_client.post(f"{base}/change/", {"action": "reset", "detail": "{}"})
    assert r.status_code == 403
    assert superuser_client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    r = superuser_client.post(
        "/admin/wizard/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    event.refresh_from_db()
    assert event.action == "member_added" and event.detail == {"user": "x"}
