"""Adding one partner from /manage/partners/new/: what is stored, mailed and shown, every bad
input, who may assign whom, and a double submit."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.conftest import login, make_user
from tests.factories import make_account_manager
from wizard import services
from wizard.models import AuditEvent, Invitation, Membership, StepProgress, Tenant

pytestmark = pytest.mark.django_db

URL = "/manage/partners/new/"


def added() -> list[str]:
    """Names of the partners added here (the fixtures' own tenant, Northwind IT, aside)."""
    return list(Tenant.objects.exclude(name="Northwind IT").values_list("name", flat=True))


def add(client, **data):
    return client.post(URL, {"name": "Contoso IT", "owner_email": "jane@contoso.example", **data})


def test_the_dashboard_links_to_it(am_client) -> None:
    html = am_client.get("/manage/").content.decode()
    assert 'href="/manage/partners/new/"' in html and ">Add partner<" in html
    assert 'href="/manage/partners/import/"' in html


def test_an_account_manager_adds_a_partner_to_their_own_list(am_client, am_assigned) -> None:
    page = am_client.get(URL).content.decode()
    assert "Account manager: <strong>you (am_assigned)</strong>" in page
    assert 'name="account_manager"' not in page  # nothing to choose

    r = add(am_client, name="  Contoso   IT ", owner_email=" Jane@Contoso.example ")

    tenant = Tenant.objects.get(name="Contoso IT")
    assert r.status_code == 302 and r["Location"] == f"/manage/t/{tenant.code}/"
    assert tenant.account_manager == am_assigned and tenant.name_key == "contoso it"
    assert StepProgress.objects.filter(tenant=tenant).count() == 6
    assert not Membership.objects.filter(tenant=tenant).exists()  # until the owner accepts
    invitation = Invitation.objects.get(tenant=tenant)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "jane@contoso.example",
        "owner",
        am_assigned,
    )
    assert [m.to for m in mail.outbox] == [["jane@contoso.example"]]
    assert mail.outbox[0].subject == "Join Contoso IT in the Billing Sync setup wizard"
    assert re.search(r"http://testserver/invite/[^/\s]+/", str(mail.outbox[0].body))
    actions = list(
        AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list("action", "actor")
    )
    assert actions == [("partner_added", am_assigned.pk), ("invitation_sent", am_assigned.pk)]
    assert AuditEvent.objects.get(tenant=tenant, action="partner_added").detail == {
        "name": "Contoso IT",
        "account_manager": "am_assigned",
        "via": "form",
    }
    page = am_client.get(r["Location"]).content.decode()
    assert "Contoso IT was added. An invitation went to jane@contoso.example" in page
    assert "Partner added" in page  # in the audit trail
    assert "Contoso IT" in am_client.get("/manage/").content.decode()


def test_the_invited_owner_becomes_owner(am_client, client) -> None:
    add(am_client)
    link = re.search(r"http://testserver(/invite/[^/\s]+/)", str(mail.outbox[0].body))
    assert link
    client.get(link.group(1))
    r = client.post(
        "/invite/",
        {"username": "jane", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"},
    )
    assert r.status_code == 302
    membership = Membership.objects.get(user__username="jane")
    assert membership.role == "owner" and membership.tenant.name == "Contoso IT"


def test_an_account_manager_cannot_give_a_partner_to_someone_else(
    am_client, am_assigned, am_other
) -> None:
    # A forged field is ignored: the form has none for them.
    add(am_client, account_manager=str(am_other.pk))
    assert Tenant.objects.get(name="Contoso IT").account_manager == am_assigned


def test_an_admin_chooses_any_staff_account_manager(admin_client, am_other, owner) -> None:
    page = admin_client.get(URL).content.decode()
    assert f'<option value="{am_other.pk}">am_other (am_other@example.com)</option>' in page
    assert f'value="{owner.pk}"' not in page  # a partner user is no account manager
    r = add(admin_client, account_manager=str(am_other.pk))
    assert r.status_code == 302
    assert Tenant.objects.get(name="Contoso IT").account_manager == am_other
    r = add(admin_client, name="Other", account_manager=str(owner.pk))
    assert "Choose an account manager from the list." in r.content.decode()
    assert not Tenant.objects.filter(name="Other").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Give the partner&#x27;s name."),
        ({"name": "   "}, "Give the partner&#x27;s name."),
        ({"name": "x" * 201}, "The name is 201 characters long; the limit is 200. Shorten it."),
        ({"name": "x" * 100_000}, "The name is 100,000 characters long"),
        ({"name": "Con\x00toso"}, "The name contains a NUL character"),
        ({"name": "Con\x07toso"}, "The name contains a control character"),
        ({"owner_email": ""}, "Give the first owner&#x27;s email address."),
        ({"owner_email": "jane"}, "&#x27;jane&#x27; is not a valid email address."),
        ({"owner_email": "jane@"}, "is not a valid email address."),
        ({"owner_email": "ja\x00ne@x.example"}, "The email address contains a NUL character"),
        ({"owner_email": "a" * 250 + "@x.example"}, "is not a valid email address."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(am_client, data, message) -> None:
    r = add(am_client, **data)
    assert r.status_code == 200
    html = r.content.decode()
    assert message in html
    assert 'role="alert"' in html
    assert not added() and not Invitation.objects.exists() and not mail.outbox


def test_a_staff_address_is_refused(am_client, am_other) -> None:
    r = add(am_client, owner_email=am_other.email.upper())
    html = r.content.decode()
    assert "belongs to a staff account" in html and "never members of a partner tenant" in html
    assert not added() and not mail.outbox


def test_an_existing_partner_is_named_and_linked(am_client, tenant, am_assigned) -> None:
    r = add(am_client, name="  northwind   it")
    html = r.content.decode()
    assert "A partner named &#x27;Northwind IT&#x27; exists already (account manager: " in html
    assert f'href="/manage/t/{tenant.code}/">Open Northwind IT</a>' in html
    assert Tenant.objects.count() == 1 and not mail.outbox


def test_an_existing_partner_of_a_colleague_is_named_without_a_link(
    db, tenant, am_assigned
) -> None:
    other = login(make_account_manager("am_third"))
    html = add(other, name="Northwind IT").content.decode()
    assert "exists already (account manager: am_assigned)" in html
    assert f"/manage/t/{tenant.code}/" not in html  # they could not open it


def test_a_double_submit_adds_one_partner_and_one_invitation(am_client) -> None:
    first = add(am_client)
    second = add(am_client)
    assert first.status_code == 302
    assert "exists already" in second.content.decode()
    assert added() == ["Contoso IT"] and Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_database_refuses_a_second_partner_of_the_same_name(am_assigned) -> None:
    """A double submit whose second request read before the first wrote still adds one."""
    services.partner_add(
        name="Contoso IT",
        owner_email="a@contoso.example",
        account_manager=am_assigned,
        user=am_assigned,
        accept_url=str,
    )
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Tenant.objects.create(name="CONTOSO  it", name_key="contoso it")


def test_a_failed_invitation_email_adds_nothing(am_client, monkeypatch) -> None:
    from django.core.mail.backends.locmem import EmailBackend

    def broken(*_args, **_kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    html = add(am_client).content.decode()
    assert "The invitation email could not be sent, so the partner was not added." in html
    assert not added() and not Invitation.objects.exists()
    assert not AuditEvent.objects.filter(action="partner_added").exists()


def test_partners_and_outsiders_get_a_404(owner_client, outsider_client, client) -> None:
    for c in (owner_client, outsider_client):
        assert c.get(URL).status_code == 404
        assert add(c).status_code == 404
    r = client.get(URL)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    inactive = make_user("gone", is_staff=True, is_active=False)
    assert login(inactive).get(URL).status_code in (302, 404)
    assert not added()


def test_every_problem_is_listed_at_once(am_client, tenant) -> None:
    html = add(am_client, name="Northwind IT", owner_email="nope").content.decode()
    assert "exists already" in html and "&#x27;nope&#x27; is not a valid email address." in html
    assert html.count('aria-invalid="true"') == 2


def test_the_service_refuses_an_existing_name_too(am_assigned, tenant) -> None:
    with pytest.raises(services.PartnerExists) as e:
        services.partner_add(
            name="NORTHWIND IT",
            owner_email="a@b.example",
            account_manager=am_assigned,
            user=am_assigned,
            accept_url=str,
        )
    assert e.value.tenant == tenant and e.value.field == "name"


def test_the_service_holds_the_account_manager_rules_for_any_caller(
    am_assigned, am_other, owner
) -> None:
    def add_for(manager, user):
        return services.partner_add(
            name="Rules IT",
            owner_email="a@rules.example",
            account_manager=manager,
            user=user,
            accept_url=str,
        )

    with pytest.raises(services.PartnerRefused, match="only to your own list"):
        add_for(am_other, am_assigned)
    with pytest.raises(services.PartnerRefused, match="Choose an active staff account"):
        add_for(owner, None)
    with pytest.raises(services.PartnerRefused, match="Choose an active staff account"):
        add_for(None, None)
    assert not added()
