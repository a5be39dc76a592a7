"""Small helpers the step modules use to say what blocks a step."""

from __future__ import annotations


def unmet(*rules: tuple[bool, str]) -> list[str]:
    """The messages of the rules whose condition (is it missing?) holds, in order."""
    return [message for missing, message in rules if missing]


def time_zone_needed() -> str:
    """The blocker of a step whose checks read dates, while no time zone is set."""
    from wizard.steps.registry import REGISTRY  # the registry imports the step modules

    account = REGISTRY.by_key["account"]
    return (
        f"Choose your Autotask's time zone in step {REGISTRY.number('account')} "
        f"({account.title}): contract dates are read in it."
    )
