from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User

from tests.conftest import login, make_user
from wizard.models import Tenant


@pytest.fixture
def am_assigned(db: None, tenant: Tenant) -> User:
    user = make_user("am_assigned", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Account managers")[0])
    Tenant.objects.filter(pk=tenant.pk).update(account_manager=user)
    return user


@pytest.fixture
def am_other(db: None) -> User:
    user = make_user("am_other", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Account managers")[0])
    return user


@pytest.fixture
def admin_user(db: None) -> User:
    user = make_user("wizard_admin", is_staff=True)
    group, _ = Group.objects.get_or_create(name="Wizard admins")
    group.permissions.add(
        Permission.objects.get(codename="reset_wizard"),
        Permission.objects.get(codename="view_all_tenants"),
    )
    user.groups.add(group)
    return user


@pytest.fixture
def am_client(am_assigned: User):
    return login(am_assigned)


@pytest.fixture
def admin_client(admin_user: User):
    return login(admin_user)
