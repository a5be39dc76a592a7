"""The steps of the wizard, one module each, ordered by the registry (``registry.py``).

Source: shared/reference/billing-sync-autotask-guide.md. Every instruction and setting of the
guide appears in a step module in our own words, with Autotask's menu paths and setting names
written exactly as Autotask shows them (tests/test_steps.py holds the guide line by line
against them). No I/O, no database.

This module is the registry's public surface: ``steps.STEPS``, ``steps.STEPS_BY_KEY`` and the
helpers below all read ``registry.REGISTRY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wizard.facts import (
    API_USER_HELP_URL,
    DEFAULT_LEVEL_NAME,
    SUGGESTED_LEVEL_NAME,
    VENDOR_NAME,
)
from wizard.steps import registry as _registry
from wizard.steps.base import Branch, ChecklistItem, Facts, Instruction, Section, Step
from wizard.steps.recurring_contract import (
    SYNC_START_CHOICES,
    SYNC_START_MOST_RECENT,
    SYNC_START_NEXT,
    first_usage_date,
)
from wizard.steps.registry import Registry
from wizard.steps.rules import time_zone_needed
from wizard.steps.security_level import SECURITY_AREAS

if TYPE_CHECKING:
    REGISTRY: Registry
    STEPS: tuple[Step, ...]
    STEPS_BY_KEY: dict[str, Step]
    STEP_KEYS: tuple[str, ...]
    STEP_CHOICES: list[tuple[str, str]]
    SKIPPABLE_KEYS: tuple[str, ...]


def __getattr__(name: str) -> Any:
    """The registry's views, read from the current ``registry.REGISTRY`` on every access, so
    that a test can swap in a registry of its own (``registry.swapped``)."""
    reg = _registry.REGISTRY
    if name == "REGISTRY":
        return reg
    if name == "STEPS":
        return reg.steps
    if name == "STEPS_BY_KEY":
        return reg.by_key
    if name == "STEP_KEYS":
        return reg.keys
    if name == "STEP_CHOICES":
        return [(s.key, s.title) for s in reg.steps]
    if name == "SKIPPABLE_KEYS":
        return tuple(s.key for s in reg.steps if s.optional)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def step_number(key: str) -> int:
    return _registry.REGISTRY.number(key)


def previous_step(key: str) -> Step | None:
    return _registry.REGISTRY.previous(key)


def next_step(key: str) -> Step | None:
    return _registry.REGISTRY.next(key)


def ref(key: str) -> str:
    """How text refers to a step: "step 3 (The API user)", numbered by the registry."""
    step = _registry.REGISTRY.by_key[key]
    return f"step {_registry.REGISTRY.number(key)} ({step.title})"


__all__ = [
    "API_USER_HELP_URL",
    "DEFAULT_LEVEL_NAME",
    "REGISTRY",
    "SECURITY_AREAS",
    "SKIPPABLE_KEYS",
    "STEPS",
    "STEPS_BY_KEY",
    "STEP_CHOICES",
    "STEP_KEYS",
    "SUGGESTED_LEVEL_NAME",
    "SYNC_START_CHOICES",
    "SYNC_START_MOST_RECENT",
    "SYNC_START_NEXT",
    "VENDOR_NAME",
    "Branch",
    "ChecklistItem",
    "Facts",
    "Instruction",
    "Registry",
    "Section",
    "Step",
    "first_usage_date",
    "next_step",
    "previous_step",
    "ref",
    "step_number",
    "time_zone_needed",
]
