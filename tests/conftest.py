from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from wizard import services
from wizard.models import Membership, Tenant

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, **extra: Any) -> User:
    return User.objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@pytest.fixture
def owner(db: None) -> User:
    return make_user("owner")


@pytest.fixture
def member(db: None) -> User:
    return make_user("member")


@pytest.fixture
def outsider(db: None) -> User:
    return make_user("outsider")


@pytest.fixture
def staff(db: None) -> User:
    return make_user("staffer", is_staff=True)


@pytest.fixture
def tenant(owner: User, member: User) -> Tenant:
    t = services.tenant_create(name="Northwind IT", owner=owner)
    services.membership_add(tenant=t, user=member, role=Membership.Role.MEMBER, actor=None)
    return t


@pytest.fixture
def other_tenant(outsider: User) -> Tenant:
    return services.tenant_create(name="Other MSP", owner=outsider)


def login(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def owner_client(owner: User) -> Client:
    return login(owner)


@pytest.fixture
def member_client(member: User) -> Client:
    return login(member)


@pytest.fixture
def outsider_client(outsider: User) -> Client:
    return login(outsider)


@pytest.fixture
def staff_client(staff: User) -> Client:
    return login(staff)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests are deselected (not skipped) on SQLite, and say so."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        (drop if item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        config._wizard_pg_deselected = len(drop)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    count = getattr(config, "_wizard_pg_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} PostgreSQL-only concurrency tests deselected on SQLite; they run when "
            "DATABASE_URL points at PostgreSQL (as .ci/run does).",
            yellow=True,
        )
