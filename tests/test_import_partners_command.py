"""`python manage.py import_partners FILE [--dry-run] [--skip-errors]`: the same import as the
page, for scripts. What it prints, what it creates, and its exit status."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import make_account_manager
from wizard.models import AuditEvent, Invitation, Tenant

pytestmark = pytest.mark.django_db

HEADER = "name,owner_email,account_manager\n"


@pytest.fixture
def am(db):
    return make_account_manager("am_cli")


def write(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "partners.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def run(*args: str) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("import_partners", *args, stdout=out)
    except CommandError as e:
        return out.getvalue() + f"CommandError: {e}", e.returncode
    return out.getvalue(), 0


def good(n: int = 3, manager: str = "am_cli") -> str:
    return HEADER + "".join(f"Partner {i},o{i}@p{i}.example,{manager}\n" for i in range(1, n + 1))


def test_it_imports_and_a_second_run_creates_nothing(tmp_path, am, settings) -> None:
    settings.SITE_URL = "https://wizard.example"
    path = write(tmp_path, good())
    out, code = run(path)
    assert code == 0
    assert "line 2: Partner 1: New: will be created, and o1@p1.example invited as its owner." in out
    assert (
        "Created 3, skipped 0 existing, 0 with errors not imported, 0 invitation email(s) not sent"
        in out
    )
    assert Tenant.objects.filter(account_manager=am).count() == 3
    assert Invitation.objects.filter(role="owner").count() == 3 and len(mail.outbox) == 3
    assert "https://wizard.example/invite/" in mail.outbox[0].body
    added = AuditEvent.objects.filter(action="partner_added")
    assert added.count() == 3 and {e.actor for e in added} == {None}
    assert {e.detail["via"] for e in added} == {"command"}

    out, code = run(path)
    assert code == 0
    assert out.count("Exists, will be skipped.") == 3
    assert "Created 0, skipped 3 existing" in out
    assert Tenant.objects.count() == 3 and len(mail.outbox) == 3


def test_dry_run_creates_nothing(tmp_path, am) -> None:
    out, code = run(write(tmp_path, good()), "--dry-run")
    assert code == 0
    assert "Dry run, nothing created: 3 new, 0 existing (skipped), 0 with errors." in out
    assert not Tenant.objects.exists() and not mail.outbox


def test_an_error_creates_nothing_and_exits_1(tmp_path, am) -> None:
    content = good(2) + "Bad,not-an-address,am_cli\nNo Manager,x@x.example,\n"
    out, code = run(write(tmp_path, content))
    assert code == 1
    assert "line 4: Bad: Error: 'not-an-address' is not a valid email address." in out
    # The command has nobody to default to: the account manager is required there.
    assert "line 5: No Manager: Error: Give the account manager" in out
    assert "Nothing created: 2 new, 0 existing (skipped), 2 with errors." in out
    assert "CommandError: 2 line(s) have errors." in out
    assert not Tenant.objects.exists()


def test_skip_errors_creates_the_good_lines_and_still_exits_1(tmp_path, am) -> None:
    content = good(2) + "Bad,not-an-address,am_cli\n"
    out, code = run(write(tmp_path, content), "--skip-errors")
    assert code == 1
    assert "Created 2, skipped 0 existing, 1 with errors not imported" in out
    assert sorted(Tenant.objects.values_list("name", flat=True)) == ["Partner 1", "Partner 2"]


def test_any_staff_account_manager_may_be_named(tmp_path, am) -> None:
    other = make_account_manager("am_two")
    out, code = run(write(tmp_path, HEADER + "P,p@p.example,AM_TWO@example.com\n"))
    assert code == 0
    assert Tenant.objects.get(name="P").account_manager == other


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name;owner_email;account_manager\n", "separated by semicolons"),
        (b"\xff\xfe" + "x".encode("utf-16-le"), "The file is not UTF-8 text."),
        (HEADER.encode() + b"A\x00,a@a.example,am_cli\n", "The file contains NUL characters"),
        (
            HEADER.encode() + b"x" * 1_000_001,
            "The file is 1,000,034 bytes; the limit is 1 MB (1,000,000 bytes).",
        ),
    ],
)
def test_a_bad_file_exits_1_with_a_clear_message(tmp_path, am, content, message) -> None:
    out, code = run(write(tmp_path, content))
    assert code == 1 and message in out
    assert not Tenant.objects.exists()


def test_a_missing_file_says_so(tmp_path) -> None:
    out, code = run(str(tmp_path / "nope.csv"))
    assert code == 1 and "Cannot read" in out and "No such file or directory" in out


def test_the_migration_gives_existing_unique_names_their_key() -> None:
    """Tenants from before the key: a unique name gets it (the database then refuses a second
    partner of that name); names already used twice keep none, and the import finds them by
    name."""
    import importlib

    from django.apps import apps

    from wizard import services as s

    # By its name without the number: migrations get renumbered when branches merge.
    (path,) = (Path(__file__).parents[1] / "wizard" / "migrations").glob(
        "*_tenant_name_key_partner_added.py"
    )
    migration = importlib.import_module(f"wizard.migrations.{path.stem}")
    for name in ("Alpha  IT", "alpha it", "Beta"):
        s.tenant_create(name=name)
    migration.fill_name_keys(apps, None)
    keys = dict(Tenant.objects.values_list("name", "name_key"))
    assert keys == {"Alpha  IT": None, "alpha it": None, "Beta": "beta"}
    plan = s.import_plan(
        content=HEADER + "ALPHA IT,a@a.example,\nbeta,b@b.example,\n", importer=None
    )
    assert [r.existing.name if r.existing else None for r in plan.rows] == ["Alpha  IT", "Beta"]
