"""The one place that builds an Autotask client: credentials, caches, caps, deadlines, and the
sandbox when AUTOTASK_SANDBOX is on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Literal

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from wizard import crypto, steps
from wizard.autotask import (
    AuthenticationFailed,
    AutotaskClient,
    Credentials,
    Zone,
    build_session,
)
from wizard.autotask.limits import Limiter
from wizard.cache_mapping import CacheMapping
from wizard.cache_slots import slot_store
from wizard.models import (
    AutotaskCredential,
    Tenant,
)
from wizard.sandbox import sandbox_session
from wizard.services.credentials import check_auth_pause, record_auth_outcome
from wizard.services.errors import (
    CredentialsMissing,
)

logger = logging.getLogger(__name__)


ZONE_CACHE_SECONDS = 12 * 3600  # zones rarely move; a 401 drops the entry (see the client)
METADATA_CACHE_SECONDS = 3600

Purpose = Literal["verify", "search", "background"]


def _timing(purpose: Purpose) -> dict[str, Any]:
    """Deadline and retries by purpose: a page answers by its deadline and never retries
    (15 s x 4 attempts plus backoff kept a page and its thread for over a minute); background
    work has no one waiting, so it retries with backoff and has only the per-call timeout."""
    if purpose == "background":
        return {"deadline": None, "max_retries": 3}
    if purpose == "search":
        return {"deadline": settings.AUTOTASK_SEARCH_DEADLINE_SECONDS, "max_retries": 0}
    return {"deadline": settings.AUTOTASK_INTERACTIVE_DEADLINE_SECONDS, "max_retries": 0}


@sensitive_variables("secret")
def autotask_client(
    username: str, secret: str, *, scope: str, purpose: Purpose = "verify"
) -> AutotaskClient:
    """A client for one Autotask (or the sandbox when AUTOTASK_SANDBOX is on).

    ``scope`` (the tenant's code) keys the metadata cache and the per-tenant concurrency cap.
    The deadline of a ``verify`` or ``search`` client counts from here: one client per request.
    """
    session = build_session()
    if settings.AUTOTASK_SANDBOX:
        # The one place the emulator is wired in (docs/decisions/0005).
        sandbox_session(
            session, settings.AUTOTASK_INTEGRATION_CODE, settings.AUTOTASK_ZONE_INFORMATION_URL
        )
    return AutotaskClient(
        Credentials(
            username=username, secret=secret, integration_code=settings.AUTOTASK_INTEGRATION_CODE
        ),
        zone_information_url=settings.AUTOTASK_ZONE_INFORMATION_URL,
        timeout=settings.AUTOTASK_TIMEOUT_SECONDS,
        session=session,
        zone_cache=CacheMapping("atzone", ZONE_CACHE_SECONDS),
        metadata_cache=CacheMapping(f"atmeta:{scope}", METADATA_CACHE_SECONDS),
        # Autotask's thread limit is per integration and endpoint; cap per tenant here, over
        # every worker that shares the cache (docs/decisions/0009-autotask-concurrency-cap.md).
        concurrency_key=scope,
        limiter=Limiter(slot_store(), per_tenant=settings.AUTOTASK_MAX_CONCURRENT_PER_TENANT),
        backoff_factor=settings.AUTOTASK_BACKOFF_SECONDS,
        **_timing(purpose),
    )


def client_for(tenant: Tenant, purpose: Purpose) -> AutotaskClient:
    check_auth_pause(tenant, purpose)
    cred = AutotaskCredential.objects.filter(tenant=tenant).first()
    if cred is None or not cred.secret_encrypted:
        raise CredentialsMissing(
            f"Enter the API user's Username and Secret in {steps.ref('api-user')} first."
        )
    client = autotask_client(
        cred.username,
        crypto.decrypt_secret(cred.secret_encrypted),
        scope=str(tenant.code),
        purpose=purpose,
    )
    # The zone an earlier verification found: no lookup on this run's critical path, even
    # after a restart or once the 12-hour cache entry is gone (as for the daily re-checks).
    if cred.zone and client.zone_cache.get(cred.username) is None:
        # A zone stored by another version of the app is looked up again instead.
        with suppress(TypeError):
            client.zone_cache[cred.username] = Zone(**cred.zone)
    return client


@contextmanager
def watch_auth(tenant: Tenant) -> Iterator[None]:
    """Count a rejected login from a picker call towards the lockout pause, too."""
    try:
        yield
    except AuthenticationFailed:
        record_auth_outcome(tenant, rejected=True, accepted=False)
        raise
    record_auth_outcome(tenant, rejected=False, accepted=True)
