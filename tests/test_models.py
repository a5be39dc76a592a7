"""Constraints live in the database: these bypass forms and services on purpose."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from wizard import services
from wizard.checks import CheckStatus
from wizard.models import Membership, StepProgress, Tenant

pytestmark = pytest.mark.django_db


def test_tenant_create_makes_one_row_per_step(tenant: Tenant) -> None:
    keys = sorted(StepProgress.objects.filter(tenant=tenant).values_list("step_key", flat=True))
    assert keys == sorted(
        ["account", "security-level", "api-user", "recurring-contract", "annual-contract", "review"]
    )


def test_a_step_has_one_progress_row_per_tenant(tenant: Tenant) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StepProgress.objects.create(tenant=tenant, step_key="account")


def test_unknown_step_keys_are_refused_by_the_services(tenant: Tenant) -> None:
    # The steps are code (wizard/steps/), so the services, not a constraint, refuse a key
    # that no step has (docs/decisions/0012-steps-as-code.md).
    with pytest.raises(KeyError):
        services.step_answers_save(
            tenant=tenant, step_key="connect", user=None, changes={"x": "y"}, seen={}
        )
    assert not StepProgress.objects.filter(tenant=tenant, step_key="connect").exists()


def test_unknown_states_are_refused(tenant: Tenant) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StepProgress.objects.filter(tenant=tenant, step_key="account").update(state="finished")


@pytest.mark.parametrize("key", ["account", "api-user", "recurring-contract", "review"])
def test_only_optional_steps_can_be_skipped(tenant: Tenant, key: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StepProgress.objects.filter(tenant=tenant, step_key=key).update(state="skipped")


@pytest.mark.parametrize("key", ["security-level", "annual-contract"])
def test_optional_steps_can_be_skipped(tenant: Tenant, key: str) -> None:
    StepProgress.objects.filter(tenant=tenant, step_key=key).update(state="skipped")
    assert StepProgress.objects.get(tenant=tenant, step_key=key).state == "skipped"


def test_one_membership_per_user_and_tenant(tenant: Tenant, member) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(tenant=tenant, user=member, role="owner")


def test_membership_roles_are_owner_or_member(tenant: Tenant, outsider) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(tenant=tenant, user=outsider, role="boss")


def test_tenant_urls_use_a_uuid(tenant: Tenant) -> None:
    assert len(str(tenant.code)) == 36
    assert str(tenant.pk) not in str(tenant.code).split("-")


def test_the_tenants_last_status_takes_only_a_check_status(tenant: Tenant) -> None:
    field = Tenant._meta.get_field("last_verification_status")
    assert list(field.choices or []) == list(CheckStatus.choices)
    tenant.last_verification_status = CheckStatus.UNKNOWN
    tenant.full_clean()
    tenant.last_verification_status = "bogus"
    with pytest.raises(ValidationError):
        tenant.full_clean()
    # Never verified: blank.
    tenant.last_verification_status = ""
    tenant.full_clean()
