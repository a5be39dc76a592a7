"""Background tasks (Django's task API through django-tasks; see TASKS in settings)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from wizard import reverify
from wizard.models import Tenant


@task()
def reverify_tenant(tenant_id: int) -> dict[str, Any]:
    """Re-verify one tenant; several workers may run these side by side.

    Two workers never verify the same tenant at once: the review's verification claim in the
    database (services.verification._claim) lets one in and turns the other away as "skipped".
    """
    # No connection handling here: the database worker closes stale connections around each
    # task, and the immediate backend runs inside the caller's own connection.
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return {"tenant": tenant_id, "status": "skipped", "detail": "tenant deleted"}
    return reverify.tenant_reverify(tenant=tenant).as_dict()
