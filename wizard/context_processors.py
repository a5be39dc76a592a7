from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def sandbox(request: HttpRequest) -> dict[str, Any]:
    """Lets every page say plainly when it talks to the emulated Autotask, not a real one."""
    return {"AUTOTASK_SANDBOX": settings.AUTOTASK_SANDBOX}
