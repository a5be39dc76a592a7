from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tests.conftest import login
from tests.factories import make_account_manager, make_wizard_admin
from wizard.models import Tenant


@pytest.fixture
def am_assigned(db: None, tenant: Tenant) -> User:
    user = make_account_manager("am_assigned")
    Tenant.objects.filter(pk=tenant.pk).update(account_manager=user)
    return user


@pytest.fixture
def am_other(db: None) -> User:
    return make_account_manager("am_other")


@pytest.fixture
def admin_user(db: None) -> User:
    return make_wizard_admin("wizard_admin")


@pytest.fixture
def am_client(am_assigned: User):
    return login(am_assigned)


@pytest.fixture
def admin_client(admin_user: User):
    return login(admin_user)


@pytest.fixture
def sandbox_on(settings) -> None:
    """The in-process Autotask sandbox, with empty caches (zones, picklists, searches)."""
    settings.AUTOTASK_SANDBOX = True
    cache.clear()


def step_url(tenant: Tenant, key: str, action: str = "") -> str:
    """A step's page, or one of its actions ("rows", "picker", "live"...)."""
    return f"/t/{tenant.code}/{key}/" + (f"{action}/" if action else "")
