"""Client-side caps on concurrent Autotask calls: per tenant, and per tenant and endpoint.

Autotask allows 3 concurrent threads per (integration code, object endpoint) and answers the 4th
with error Itgenatr005. Every API user sharing the distributor's integration code shares those
slots, so the wizard stays at 2 per endpoint and leaves one for Billing Sync itself.

Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/General/ThreadLimiting.htm

On top of that, one tenant has at most ``per_tenant`` calls in flight over all endpoints. A
hanging Autotask then holds at most that many threads in calls; everything else of that tenant
waits for a slot no longer than its deadline (docs/decisions/0009-autotask-concurrency-cap.md).

Where the slots live is a ``SlotStore``: ``LocalSlots`` (this process only; the default, and
what tests and the local-memory cache get) or a store shared by every worker and server
(wizard/cache_slots.py, on Django's cache; Redis in production). This module imports no Django.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from wizard.autotask.errors import Busy

MAX_CONCURRENT_PER_ENDPOINT = 2
MAX_CONCURRENT_PER_TENANT = 6


class SlotStore(Protocol):
    """Named counting semaphores with leases (a crashed holder's slot comes free by itself)."""

    def acquire(self, name: str, limit: int, *, lease: float, wait: float | None) -> str | None:
        """A token for one of the ``limit`` slots called ``name``, or None if none came free
        within ``wait`` seconds (None: wait as long as it takes). ``lease`` bounds how long a
        slot stays taken if its holder never releases it."""
        ...

    def release(self, name: str, token: str) -> None:
        """Give back the slot that ``token`` holds."""
        ...


class LocalSlots:
    """Slots in this process's memory: shared by its threads, not by other workers.

    A process that dies takes its slots with it, so no lease is needed here.
    """

    def __init__(self) -> None:
        self._taken: Counter[str] = Counter()
        self._freed = threading.Condition()

    def acquire(self, name: str, limit: int, *, lease: float, wait: float | None) -> str | None:
        with self._freed:
            if not self._freed.wait_for(lambda: self._taken[name] < limit, timeout=wait):
                return None
            self._taken[name] += 1
            return name

    def release(self, name: str, token: str) -> None:
        with self._freed:
            self._taken[name] -= 1
            if self._taken[name] <= 0:
                del self._taken[name]
            self._freed.notify_all()

    def taken(self, name: str) -> int:
        with self._freed:
            return self._taken[name]

    def reset(self) -> None:
        with self._freed:
            self._taken.clear()
            self._freed.notify_all()


# Module level on purpose: every client instance in the process (web requests, background
# re-verification) must draw from the same slots when no shared store is configured.
LOCAL = LocalSlots()


class Limiter:
    """Takes a tenant's endpoint slot, then one of its tenant-wide slots, for one HTTP call."""

    def __init__(
        self,
        store: SlotStore | None = None,
        *,
        per_tenant: int = MAX_CONCURRENT_PER_TENANT,
        per_endpoint: int = MAX_CONCURRENT_PER_ENDPOINT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_tenant < 1 or per_endpoint < 1:
            raise ValueError("concurrency caps must be at least 1")
        self.store: SlotStore = store if store is not None else LOCAL
        self.per_tenant = per_tenant
        self.per_endpoint = per_endpoint
        self._clock = clock

    @contextmanager
    def slot(
        self, key: str, endpoint: str, *, wait: float | None, lease: float, path: str = ""
    ) -> Iterator[None]:
        """Hold the slots for the duration of one HTTP call (not its retries).

        Waits at most ``wait`` seconds for both together, then raises Busy. The endpoint slot
        comes first: a call queued behind its endpoint then holds no tenant-wide slot that
        calls to other endpoints could use.
        """
        give_up = None if wait is None else self._clock() + wait
        endpoint_name = f"endpoint:{key}:{endpoint}"
        endpoint_token = self.store.acquire(
            endpoint_name, self.per_endpoint, lease=lease, wait=wait
        )
        if endpoint_token is None:
            raise Busy(endpoint=path)
        try:
            left = None if give_up is None else max(0.0, give_up - self._clock())
            tenant_name = f"tenant:{key}"
            tenant_token = self.store.acquire(tenant_name, self.per_tenant, lease=lease, wait=left)
            if tenant_token is None:
                raise Busy(endpoint=path)
            try:
                yield
            finally:
                self.store.release(tenant_name, tenant_token)
        finally:
            self.store.release(endpoint_name, endpoint_token)


def reset() -> None:
    """Forget all in-process slots (tests only; never while calls are in flight)."""
    LOCAL.reset()
