"""Dashboard filters are validated: a bad value is a 400 that says why, never a 500 or "all".

Also run on PostgreSQL (a NUL byte in a filter reached the database there and gave a 500).
"""

from __future__ import annotations

import pytest
from django.test import Client

from wizard import selectors, services

pytestmark = pytest.mark.django_db

LIST_URLS = ["/manage/", "/manage/export.csv", "/api/v1/tenants/"]

BAD = [
    ("q=a%00b", "q", "Null characters are not allowed."),
    ("q=%00", "q", "Null characters are not allowed."),
    ("q=" + "x" * 101, "q", "at most 100 characters"),
    ("state=everything", "state", "Select a valid choice."),
    ("state=a%00b", "state", "Select a valid choice."),
    ("step=nope", "step", "Select a valid choice."),
    ("sort=name;drop", "sort", "Select a valid choice."),
    ("manager=99999999999999999999", "manager", "Give an account manager's id, or none."),
    ("manager=me", "manager", "Give an account manager's id, or none."),
    ("drift=yes", "drift", "Select a valid choice."),
    ("page=abc", "page", "Enter a whole number."),
    ("page=0", "page", "greater than or equal to 1"),
    ("page=2", "page", "There is no page 2: this list has 1 page(s)."),
]


@pytest.fixture
def a_tenant(admin_user):
    return services.tenant_create(name="Alpha MSP")


@pytest.mark.parametrize(("query", "field", "message"), BAD)
def test_the_api_answers_a_bad_filter_with_a_json_400(
    admin_client, a_tenant, query, field, message
) -> None:
    r = admin_client.get(f"/api/v1/tenants/?{query}")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json"
    body = r.json()
    assert body["error"] == "The filter is not valid."
    assert list(body["fields"]) == [field]
    assert message in body["fields"][field][0]


@pytest.mark.parametrize(
    ("url", "query", "field", "message"),
    [
        (url, *bad)
        for url in ("/manage/", "/manage/export.csv")
        for bad in BAD
        # The CSV holds every page: a page number there is only checked for its form.
        if not (url.endswith(".csv") and bad[0] == "page=2")
    ],
)
def test_staff_pages_answer_a_bad_filter_with_a_400_that_says_why(
    admin_client, a_tenant, url, query, field, message
) -> None:
    r = admin_client.get(f"{url}?{query}")
    assert r.status_code == 400
    html = r.content.decode()
    assert "This filter is not valid" in html
    assert f"<strong>{field}</strong>" in html
    assert message.replace("'", "&#x27;") in html
    assert "Alpha MSP" not in html  # nothing listed rather than everything


@pytest.mark.parametrize("url", LIST_URLS)
def test_good_filters_still_work(admin_client, a_tenant, url) -> None:
    r = admin_client.get(
        f"{url}?q=alpha&state=not_started&step=account&sort=-name&manager=none&drift=&page=1"
    )
    assert r.status_code == 200
    content = b"".join(r.streaming_content) if r.streaming else r.content
    assert "Alpha MSP" in content.decode()


def test_the_tenant_page_refuses_an_unknown_audit_page(admin_client, a_tenant) -> None:
    assert admin_client.get(f"/manage/t/{a_tenant.code}/?page=1").status_code == 200
    for page in ("x", "0", "%00", "7"):
        r = admin_client.get(f"/manage/t/{a_tenant.code}/?page={page}")
        assert r.status_code == 400, page
        assert "This filter is not valid" in r.content.decode()


# --- the API's own errors are JSON -----------------------------------------------------------


def test_an_unknown_api_url_is_a_json_404(admin_client) -> None:
    r = admin_client.get("/api/v1/nothing-here/")
    assert r.status_code == 404
    assert r.json() == {"error": "Not found."}


def test_a_wrong_method_is_a_json_405(admin_client) -> None:
    r = admin_client.post("/api/v1/tenants/")
    assert r.status_code == 405
    assert r.json() == {"error": "Method Not Allowed."}
    assert r["Allow"] == "GET"


def test_a_csrf_refusal_is_a_json_403(admin_user) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(admin_user)
    r = c.post("/api/v1/tenants/")
    assert r.status_code == 403
    assert r.json() == {"error": "Forbidden."}


def test_a_crash_is_a_json_500_that_shows_nothing_of_the_request(admin_user, monkeypatch) -> None:
    def boom(*_args, **_kwargs):
        raise RuntimeError("database exploded with q=private-words")

    monkeypatch.setattr(selectors, "dashboard_queryset", boom)
    c = Client(raise_request_exception=False)
    c.force_login(admin_user)
    r = c.get("/api/v1/tenants/?q=private-words")
    assert r.status_code == 500
    assert r["Content-Type"] == "application/json"
    assert "Something went wrong on our side" in r.json()["error"]
    assert "private-words" not in r.content.decode()


def test_a_partner_still_gets_the_json_404(owner_client) -> None:
    r = owner_client.get("/api/v1/tenants/")
    assert r.status_code == 404 and r.json() == {"error": "Not found."}


def test_pages_outside_the_api_keep_their_html_errors(admin_client) -> None:
    r = admin_client.get("/manage/nothing-here/")
    assert r.status_code == 404 and "Page not found" in r.content.decode()
