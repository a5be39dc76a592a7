from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wizard import steps
from wizard.sandbox import SANDBOX_SECRET, SCENARIOS


def sandbox(request: HttpRequest) -> dict[str, Any]:
    """Lets every page say plainly when it talks to the emulated Autotask, not a real one.

    While the sandbox is on, the API user's form also lists the scenario usernames and their
    Secret (``sandbox_scenarios``, ``sandbox_secret``); with it off, neither is in the context.
    """
    if not settings.AUTOTASK_SANDBOX:
        return {"AUTOTASK_SANDBOX": False}
    return {
        "AUTOTASK_SANDBOX": True,
        "sandbox_scenarios": tuple(SCENARIOS.values()),
        "sandbox_secret": SANDBOX_SECRET,
    }


def wizard_steps(request: HttpRequest) -> dict[str, Any]:
    """The registry's numbers for templates: ``step_count``, and ``step_no.api_user`` etc.

    Pages refer to steps by number ("step 3"); the numbers come from the registry, so adding or
    moving a step renumbers every page (keys with "_" for "-", as templates need).
    """
    return {
        "step_count": len(steps.STEPS),
        "step_no": {s.key.replace("-", "_"): n for n, s in enumerate(steps.STEPS, start=1)},
    }
