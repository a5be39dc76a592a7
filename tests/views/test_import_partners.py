"""Importing partners from a CSV file at /manage/partners/import/: the preview (nothing
created), every bad file and bad line, the confirmation, idempotence, a double submit, a file
changed between preview and confirmation, and who may assign whom."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import login
from tests.factories import make_account_manager
from wizard import services
from wizard.models import AuditEvent, Invitation, StepProgress, Tenant

pytestmark = pytest.mark.django_db

URL = "/manage/partners/import/"
CONFIRM = "/manage/partners/import/confirm/"
HEADER = "name,owner_email,account_manager\n"


def csv_of(n: int, manager: str = "am_assigned", start: int = 1) -> str:
    return HEADER + "".join(
        f"Partner {i:04},owner{i}@partner{i}.example,{manager}\n" for i in range(start, start + n)
    )


def upload(client, content: str | bytes, name: str = "partners.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(URL, {"file": SimpleUploadedFile(name, data, "text/csv")})


def token_of(response) -> str:
    match = re.search(r'name="preview" value="([^"]+)"', response.content.decode())
    assert match, "no Confirm form on the page"
    return html_lib.unescape(match.group(1))


def confirm(client, response, *, follow: bool = False, **extra):
    return client.post(CONFIRM, {"preview": token_of(response), **extra}, follow=follow)


def imported() -> list[str]:
    return sorted(Tenant.objects.exclude(name="Northwind IT").values_list("name", flat=True))


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, spaces collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- the happy path ---------------------------------------------------------------------------


def test_the_upload_page_explains_the_format(am_client) -> None:
    page = text(am_client.get(URL))
    assert "name,owner_email,account_manager Contoso IT,jane@contoso.example,am_assigned" in page
    assert "You can only put yourself (or leave it empty, which means you)." in page


def test_preview_creates_nothing_then_confirm_creates_them(am_client, am_assigned) -> None:
    preview = upload(am_client, csv_of(3))
    assert preview.status_code == 200
    page = text(preview)
    assert (
        "3 new partners to create, 0 that exist already and will be skipped, 0 lines with " in page
    )
    assert "Partner 0001 owner1@partner1.example am_assigned New will be created" in page
    assert "Nothing is created until you confirm." in page
    assert imported() == [] and not Invitation.objects.exists() and not mail.outbox

    r = confirm(am_client, preview)
    assert r.status_code == 302 and r["Location"] == "/manage/"
    assert imported() == ["Partner 0001", "Partner 0002", "Partner 0003"]
    t = Tenant.objects.get(name="Partner 0002")
    assert t.account_manager == am_assigned and t.name_key == "partner 0002"
    assert StepProgress.objects.filter(tenant=t).count() == 6
    inv = Invitation.objects.get(tenant=t)
    assert (inv.email, inv.role, inv.invited_by) == (
        "owner2@partner2.example",
        "owner",
        am_assigned,
    )
    assert sorted(m.to[0] for m in mail.outbox) == [
        f"owner{i}@partner{i}.example" for i in (1, 2, 3)
    ]
    assert all("/invite/" in m.body for m in mail.outbox)
    assert list(
        AuditEvent.objects.filter(tenant=t).order_by("id").values_list("action", "actor", "detail")
    ) == [
        (
            "partner_added",
            am_assigned.pk,
            {"name": "Partner 0002", "account_manager": "am_assigned", "via": "import"},
        ),
        ("invitation_sent", am_assigned.pk, {"email": "owner2@partner2.example", "role": "owner"}),
    ]
    dashboard = text(am_client.get(r["Location"]))
    assert "Import done: 3 partners created and their owners invited." in dashboard
    assert "Partner 0003" in dashboard


def test_importing_the_same_file_again_creates_nothing(am_client) -> None:
    content = csv_of(5)
    confirm(am_client, upload(am_client, content))
    events, sent = AuditEvent.objects.count(), len(mail.outbox)

    again = upload(am_client, content)
    page = text(again)
    assert "0 new partners to create, 5 that exist already and will be skipped" in page
    assert page.count("Exists, will be skipped") == 5
    assert "Confirm (nothing new to create)" in page
    r = confirm(am_client, again)
    assert r.status_code == 302
    assert "Import done: 0 partners created; 5 skipped because they exist already." in text(
        am_client.get("/manage/")
    )
    assert len(imported()) == 5 and Invitation.objects.count() == 5
    assert AuditEvent.objects.count() == events and len(mail.outbox) == sent


def test_a_double_submit_creates_each_partner_once(am_client) -> None:
    preview = upload(am_client, csv_of(4))
    first = confirm(am_client, preview)
    second = confirm(am_client, preview)  # the same form, posted again
    assert first.status_code == 302
    assert second.status_code == 409
    page = text(second)
    assert "Something changed since the preview" in page and "Nothing was created." in page
    assert "0 new partners to create, 4 that exist already" in page
    assert len(imported()) == 4 and Invitation.objects.count() == 4 and len(mail.outbox) == 4


def test_a_partner_added_between_preview_and_confirm_stops_the_import(
    am_client, am_assigned
) -> None:
    preview = upload(am_client, csv_of(3))
    services.partner_add(
        name="partner 0002",
        owner_email="x@y.example",
        account_manager=am_assigned,
        user=am_assigned,
        accept_url=str,
    )
    r = confirm(am_client, preview)
    assert r.status_code == 409
    assert "2 new partners to create, 1 that exists already" in text(r)
    assert imported() == ["partner 0002"]
    # Confirming the new preview imports the other two.
    assert confirm(am_client, r).status_code == 302
    assert imported() == ["Partner 0001", "Partner 0003", "partner 0002"]


def test_the_confirmation_imports_the_previewed_file_not_a_later_one(am_client) -> None:
    first = upload(am_client, csv_of(2))
    upload(am_client, csv_of(2, start=50))  # another preview, in another tab
    confirm(am_client, first)
    assert imported() == ["Partner 0001", "Partner 0002"]


def test_a_tampered_or_foreign_preview_is_refused(am_client, am_other) -> None:
    preview = upload(am_client, csv_of(2))
    token = token_of(preview)
    r = am_client.post(CONFIRM, {"preview": token[:-3] + "xyz"}, follow=True)
    assert "This preview cannot be read. Upload the file again." in text(r)
    other = login(am_other)
    r = other.post(CONFIRM, {"preview": token}, follow=True)
    assert "This preview was made for someone else." in text(r)
    r = am_client.post(CONFIRM, {}, follow=True)
    assert "This confirmation is incomplete." in text(r)
    assert imported() == []


def test_an_old_preview_is_refused(am_client, monkeypatch) -> None:
    preview = upload(am_client, csv_of(1))
    from wizard.services import partner_import

    monkeypatch.setattr(partner_import, "PREVIEW_MAX_AGE", -1)
    r = confirm(am_client, preview, follow=True)
    assert "This preview is more than an hour old." in text(r)
    assert imported() == []


def test_confirm_answers_post_only(am_client) -> None:
    assert am_client.get(CONFIRM).status_code == 405


# --- bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty. Its first line must be the header"),
        (b"\n\n", "The file is empty."),
        (b"name,email\nA,a@a.example\n", "The first line must be the header "),
        (b"Name;Owner email;Account manager\nA;a@a.example;x\n", "separated by semicolons"),
        (b"partner,owner_email,account_manager\n", "but it is 'partner,owner_email,"),
        (HEADER.encode(), "The file has a header but no partners below it."),
        (HEADER.encode() + b"Caf\xe9,a@a.example,am_assigned\n", "The file is not UTF-8 text."),
        ("name,owner_email\n".encode("utf-16"), "The file is not UTF-8 text."),
        (HEADER.encode() + b"A\x00,a@a.example,\n", "The file contains NUL characters"),
        (HEADER.encode("utf-16-le"), "The file contains NUL characters"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "The file is not UTF-8 text."),
        (HEADER.encode() + b'"A,a@a.example,am_assigned\n' + b"x" * 140_000, "cannot be read"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message(am_client, content, message) -> None:
    r = upload(am_client, content)
    assert r.status_code == 200
    page = text(r)
    assert message in page, page[:2000]
    assert 'name="preview"' not in r.content.decode()
    assert imported() == []


def test_a_file_over_1_mb_is_refused(am_client) -> None:
    big = HEADER + ("x" * 1_000_000)
    r = upload(am_client, big)
    assert (
        "The file is 1,000,033 bytes; the limit is 1 MB (1,000,000 bytes). Split it into smaller"
        in text(r)
    )


def test_more_than_5000_partners_are_refused(am_client) -> None:
    r = upload(am_client, HEADER + "".join(f"P{i},a{i}@x.example,\n" for i in range(5001)))
    assert "The file has more than 5,000 partners; the limit is 5,000 a file." in text(r)


def test_no_file_says_so(am_client) -> None:
    r = am_client.post(URL, {})
    assert "This field is required." in text(r)


def test_a_byte_order_mark_and_crlf_line_ends_are_fine(am_client) -> None:
    content = "\ufeff" + csv_of(2).replace("\n", "\r\n")
    r = upload(am_client, content.encode("utf-8"))
    assert "2 new partners to create" in text(r)
    confirm(am_client, r)
    assert imported() == ["Partner 0001", "Partner 0002"]


def test_header_case_spaces_and_quotes_are_fine(am_client) -> None:
    r = upload(am_client, 'Name, Owner Email ,Account-Manager\n"Fabrikam, Inc.",a@f.example,\n')
    assert "1 new partner to create" in text(r)
    confirm(am_client, r)
    assert imported() == ["Fabrikam, Inc."]


# --- bad lines --------------------------------------------------------------------------------


def test_each_bad_line_gets_its_error_and_nothing_is_created(am_client, am_other, tenant) -> None:
    lines = [
        "Good One,good@one.example,am_assigned",  # 2
        ",nameless@x.example,am_assigned",  # 3
        "Bad Mail,not-an-address,am_assigned",  # 4
        "No Mail,,am_assigned",  # 5
        "Nobody,n@x.example,no_such_person",  # 6
        "Good One,again@one.example,am_assigned",  # 7: duplicate of line 2
        "GOOD  one,third@one.example,am_assigned",  # 8: the same name, otherwise written
        "Northwind IT,n@northwind.example,am_assigned",  # 9: exists
        "Too Few,a@x.example",  # 10
        "Staff Mail,am_other@example.com,am_assigned",  # 11
        "Colleague's,c@x.example,am_other",  # 12: another account manager
        "x" * 201 + ",long@x.example,",  # 13
        "",  # a blank line is skipped
        "Bell\x07,b@x.example,",  # 15
        "Good Two,good@two.example,",  # 16: empty manager means me
    ]
    r = upload(am_client, HEADER + "\n".join(lines) + "\n")
    page = text(r)
    assert (
        "2 new partners to create, 1 that exists already and will be skipped, 11 lines with" in page
    )
    expected = {
        3: "Give the partner's name.",
        4: "'not-an-address' is not a valid email address.",
        5: "Give the first owner's email address.",
        6: "No active staff account is called 'no_such_person'.",
        7: "The same partner as line 2: remove one of them.",
        8: "The same partner as line 2",
        10: "This line has 2 columns; it needs 3",
        11: "am_other@example.com belongs to a staff account.",
        12: "You can add partners only to your own list, and this names am_other.",
        13: "The name is 201 characters long; the limit is 200.",
        15: "The name contains a control character.",
    }
    rows = re.findall(
        r'<tr class="row-(\w+)">\s*<td>(\d+)</td>(.*?)</tr>', r.content.decode(), re.S
    )
    by_line = {int(line): (status, text_of(cells)) for status, line, cells in rows}
    for line, message in expected.items():
        status, cells = by_line[line]
        assert status == "error" and message in cells, (line, cells)
    assert by_line[9][0] == "exists" and "Exists, will be skipped" in by_line[9][1]
    assert by_line[2][0] == by_line[16][0] == "new"
    assert "am_assigned" in by_line[16][1]
    # With errors there is no plain Confirm, only "import the lines without errors".
    assert "Correct the lines with errors in the file and upload it again" in page
    assert "Import the 2 lines without errors" in page
    assert 'name="skip_errors" value="1"' in r.content.decode()

    # A forged confirmation without skip_errors creates nothing.
    forged = am_client.post(CONFIRM, {"preview": token_of(r)}, follow=True)
    assert "11 line(s) have errors, so nothing was imported." in text(forged)
    assert imported() == []

    done = confirm(am_client, r, skip_errors="1", follow=True)
    assert (
        "Import done: 2 partners created and their owners invited; 1 skipped because they exist "
        "already; 11 line(s) with errors not imported." in text(done)
    )
    assert imported() == ["Good One", "Good Two"]
    assert Tenant.objects.get(name="Good One").invitations.get().email == "good@one.example"


def text_of(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_an_admin_assigns_any_staff_account_manager(
    admin_client, admin_user, am_other, owner
) -> None:
    content = (
        HEADER
        + "For Other,a@a.example,AM_OTHER@example.com\n"
        + "For Me,b@b.example,\n"
        + "For A Partner,c@c.example,owner\n"
    )
    r = upload(admin_client, content)
    page = text(r)
    assert "No active staff account is called 'owner'." in page
    confirm(admin_client, r, skip_errors="1")
    assert Tenant.objects.get(name="For Other").account_manager == am_other
    assert Tenant.objects.get(name="For Me").account_manager == admin_user
    assert not Tenant.objects.filter(name="For A Partner").exists()


def test_an_address_shared_by_two_staff_accounts_is_ambiguous(admin_client) -> None:
    make_account_manager("twin_a").__class__.objects.filter(username="twin_a").update(
        email="twins@example.com"
    )
    make_account_manager("twin_b").__class__.objects.filter(username="twin_b").update(
        email="twins@example.com"
    )
    r = upload(admin_client, HEADER + "X,x@x.example,twins@example.com\n")
    assert "More than one staff account has the address twins@example.com" in text(r)


def test_a_failed_invitation_mail_is_reported_and_its_invitation_dropped(
    am_client, monkeypatch
) -> None:
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages

    def picky(self, messages):
        if any("owner2@" in m.to[0] for m in messages):
            raise ConnectionRefusedError("smtp refused")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", picky)
    r = confirm(am_client, upload(am_client, csv_of(3)), follow=True)
    page = text(r)
    assert "Import done: 3 partners created" in page
    assert "1 invitation email(s) could not be sent (Partner 0002)." in page
    assert "invite their owners from each partner's page" in page
    assert len(imported()) == 3
    assert not Invitation.objects.filter(tenant__name="Partner 0002").exists()
    assert not AuditEvent.objects.filter(
        tenant__name="Partner 0002", action="invitation_sent"
    ).exists()
    assert Invitation.objects.count() == 2 and len(mail.outbox) == 2


# --- access -----------------------------------------------------------------------------------


def test_partners_and_outsiders_get_a_404(owner_client, outsider_client, client) -> None:
    for c in (owner_client, outsider_client):
        assert c.get(URL).status_code == 404
        assert upload(c, csv_of(1)).status_code == 404
        assert c.post(CONFIRM, {"preview": "x"}).status_code == 404
    for u in (URL, CONFIRM):
        r = client.post(u, {})
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert imported() == []


def test_a_preview_token_cannot_be_used_by_a_partner(am_client, owner_client) -> None:
    preview = upload(am_client, csv_of(1))
    assert owner_client.post(CONFIRM, {"preview": token_of(preview)}).status_code == 404
    assert imported() == []


def test_200_partners_import_in_bulk(am_client) -> None:
    """200 partners cost a few more queries than 20, not one per partner: a count, which does
    not move with the machine's load as a time would (the time is in docs/manage.md)."""
    queries = {}
    for n, start in ((20, 1), (200, 1001)):
        preview = upload(am_client, csv_of(n, start=start))
        with CaptureQueriesContext(connection) as ctx:
            r = confirm(am_client, preview)
        assert r.status_code == 302
        queries[n] = len(ctx.captured_queries)
    assert len(imported()) == 220 and len(mail.outbox) == 220
    assert queries[200] - queries[20] < 180 // 4, queries


def test_an_existing_partner_is_linked_only_for_who_may_open_it(db, tenant, am_assigned) -> None:
    content = HEADER + "Northwind IT,n@northwind.example,\n"
    mine = upload(login(am_assigned), content).content.decode()
    assert f'href="/manage/t/{tenant.code}/">Northwind IT</a>' in mine
    theirs = upload(login(make_account_manager("am_third")), content).content.decode()
    assert "Exists, will be skipped" in theirs and f"/manage/t/{tenant.code}/" not in theirs
