"""Who gets what on every URL: one matrix, so a new URL without a rule fails here."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import get_resolver, resolve

from tests.conftest import login
from wizard import steps

pytestmark = pytest.mark.django_db

OK = "ok"  # 200, or a redirect that is not to the login page
LOGIN = "login"
NOT_FOUND = 404
FORBIDDEN = 403

PERSONAS = ["anonymous", "partner", "other_partner", "am_assigned", "am_other", "admin"]


def urls(code: str) -> list[tuple[str, str, dict[str, str], dict[str, object]]]:
    """(method, url, data, expected status per persona)."""
    partner_only = {
        "anonymous": LOGIN,
        "partner": OK,
        "other_partner": NOT_FOUND,
        "am_assigned": NOT_FOUND,
        "am_other": NOT_FOUND,
        "admin": NOT_FOUND,
    }
    staff_tenant = {
        "anonymous": LOGIN,
        "partner": NOT_FOUND,
        "other_partner": NOT_FOUND,
        "am_assigned": OK,
        "am_other": NOT_FOUND,
        "admin": OK,
    }
    staff_any = {
        "anonymous": LOGIN,
        "partner": NOT_FOUND,
        "other_partner": NOT_FOUND,
        "am_assigned": OK,
        "am_other": OK,
        "admin": OK,
    }
    admin_only = {**staff_tenant, "am_assigned": FORBIDDEN}
    out: list[tuple[str, str, dict[str, str], dict[str, object]]] = [
        ("get", f"/t/{code}/", {}, partner_only),
        ("get", f"/t/{code}/team/", {}, partner_only),
        ("post", f"/t/{code}/team/", {"email": "x@example.com", "role": "member"}, partner_only),
        # Before the end it redirects a member to the open step (the content: test_completion).
        ("get", f"/t/{code}/done/", {}, partner_only),
        ("post", f"/t/{code}/reset-notice/dismiss/", {}, partner_only),
    ]
    for key in steps.STEP_KEYS:
        out += [
            ("get", f"/t/{code}/{key}/", {}, partner_only),
            ("post", f"/t/{code}/{key}/", {"checklist_shown": "", "action": "save"}, partner_only),
            (
                "post",
                f"/t/{code}/{key}/checklist/",
                {"item": steps.STEPS_BY_KEY[key].checklist[0].id},
                partner_only,
            ),
            # Live updates: the same check first (with htmx too: tests/views/test_live.py).
            ("get", f"/t/{code}/{key}/live/", {"v": "0"}, partner_only),
        ]
    out += [
        ("post", f"/t/{code}/security-level/skip/", {}, partner_only),
        ("post", f"/t/{code}/security-level/unskip/", {}, partner_only),
        ("post", f"/t/{code}/api-user/verify/", {}, partner_only),
        ("post", f"/t/{code}/recurring-contract/rows/", {"action": "keep"}, partner_only),
        ("get", "/manage/", {}, staff_any),
        ("get", "/manage/export.csv", {}, staff_any),
        ("get", "/api/v1/tenants/", {}, staff_any),
        ("get", f"/api/v1/tenants/{code}/", {}, staff_tenant),
        ("get", "/manage/partners/new/", {}, staff_any),
        (
            "post",
            "/manage/partners/new/",
            {"name": "Matrix Partner", "owner_email": "owner@matrix.example"},
            staff_any,
        ),
        ("get", "/manage/partners/import/", {}, staff_any),
        ("post", "/manage/partners/import/", {}, staff_any),
        ("post", "/manage/partners/import/confirm/", {"preview": "not-a-preview"}, staff_any),
        ("get", f"/manage/t/{code}/", {}, staff_tenant),
        (
            "post",
            f"/manage/t/{code}/invite/",
            {"email": "y@example.com", "role": "member"},
            staff_tenant,
        ),
        ("get", f"/manage/t/{code}/reset/", {"from_step": "api-user"}, admin_only),
        (
            "post",
            f"/manage/t/{code}/reset/",
            {"from_step": "review", "reason": "matrix"},
            admin_only,
        ),
    ]
    return out


@pytest.fixture
def clients(tenant, other_tenant, owner, outsider, am_assigned, am_other, admin_user):
    return {
        "anonymous": Client(),
        "partner": login(owner),
        "other_partner": login(outsider),
        "am_assigned": login(am_assigned),
        "am_other": login(am_other),
        "admin": login(admin_user),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(clients, tenant, persona) -> None:
    client = clients[persona]
    for method, url, data, expected in urls(str(tenant.code)):
        r = getattr(client, method)(url, data)
        want = expected[persona]
        if want == LOGIN:
            assert r.status_code == 302 and r["Location"].startswith("/accounts/login/"), url
        elif want == OK:
            assert r.status_code in (200, 302), (method, url, r.status_code)
            if r.status_code == 302:
                assert not r["Location"].startswith("/accounts/login/"), url
        else:
            assert r.status_code == want, (persona, method, url, r.status_code)


def test_the_matrix_covers_every_url_pattern(tenant) -> None:
    covered = {resolve(u).view_name for _m, u, _d, _e in urls(str(tenant.code))}
    expected = {"api_tenants", "api_tenant"}
    for namespace in ("wizard", "manage"):
        resolver = get_resolver().namespace_dict[namespace][1]
        expected |= {
            f"{namespace}:{name}" for name in resolver.reverse_dict if isinstance(name, str)
        }
    # The picker answers GET with htmx only: its access is tested in test_verify.py.
    assert expected - covered == {"wizard:home", "wizard:picker"}


def test_staff_lists_only_what_they_may_see(clients, tenant, other_tenant) -> None:
    mine = clients["am_assigned"].get("/manage/").content.decode()
    assert tenant.name in mine and other_tenant.name not in mine
    theirs = clients["am_other"].get("/manage/").content.decode()
    assert tenant.name not in theirs
    everyone = clients["admin"].get("/manage/").content.decode()
    assert tenant.name in everyone and other_tenant.name in everyone
    api = clients["am_other"].get("/api/v1/tenants/").json()
    assert api["count"] == 0
