from __future__ import annotations

import pytest
from django.contrib.auth.models import User

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
