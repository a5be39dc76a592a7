"""The step registry: the wizard's steps in order, and what follows from the order.

Each step is one module of this package (text, form, blockers, list field); the registry
only orders them. Everything that loops over steps (evaluation, saving, the dashboard, the
navigation) goes through a ``Registry``, so a new step is one new module plus one line here.
Step keys are stored in the database and used in URLs: never rename a shipped key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property

from wizard.steps import account, annual_contract, api_user, recurring_contract, review
from wizard.steps import security_level as security_level_step
from wizard.steps.base import Step


class Registry:
    """An ordered set of steps; the app's is ``REGISTRY``, tests may build their own."""

    def __init__(self, steps: Sequence[Step]) -> None:
        keys = [s.key for s in steps]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate step keys: {keys}")
        self.steps: tuple[Step, ...] = tuple(steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @cached_property
    def by_key(self) -> dict[str, Step]:
        return {s.key: s for s in self.steps}

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.steps)

    def number(self, key: str) -> int:
        """The step's number as the partner sees it (1-based)."""
        return self.keys.index(key) + 1

    def previous(self, key: str) -> Step | None:
        i = self.keys.index(key)
        return self.steps[i - 1] if i > 0 else None

    def next(self, key: str) -> Step | None:
        i = self.keys.index(key)
        return self.steps[i + 1] if i + 1 < len(self.steps) else None

    def before(self, key: str) -> tuple[Step, ...]:
        return self.steps[: self.keys.index(key)]

    def asking(self, field: str) -> Step:
        """The step whose form asks for ``field`` (e.g. the time zone, stored on the tenant)."""
        return next(s for s in self.steps if s.form is not None and field in s.form.base_fields)


REGISTRY = Registry(
    (
        account.STEP,
        security_level_step.STEP,
        api_user.STEP,
        recurring_contract.STEP,
        annual_contract.STEP,
        review.STEP,
    )
)


@contextmanager
def swapped(registry: Registry) -> Iterator[Registry]:
    """Use another registry while the block runs (tests: a wizard with a seventh step)."""
    global REGISTRY
    saved, REGISTRY = REGISTRY, registry
    try:
        yield registry
    finally:
        REGISTRY = saved
