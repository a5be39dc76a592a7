"""Client-side cap on concurrent Autotask calls per endpoint.

Autotask allows 3 concurrent threads per (integration code, object endpoint) and answers the 4th
with error Itgenatr005. Every API user sharing the distributor's integration code shares those
slots, so the wizard stays at 2 per endpoint and leaves one for Billing Sync itself.

Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/General/ThreadLimiting.htm
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_CONCURRENT_PER_ENDPOINT = 2

# Module level on purpose: every client instance in the process (web requests, background
# re-verification) must draw from the same slots.
_slots: dict[tuple[str, str], threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(key: str, endpoint: str) -> threading.BoundedSemaphore:
    with _slots_lock:
        slot = _slots.get((key, endpoint))
        if slot is None:
            slot = _slots[(key, endpoint)] = threading.BoundedSemaphore(MAX_CONCURRENT_PER_ENDPOINT)
        return slot


@contextmanager
def endpoint_slot(key: str, endpoint: str) -> Iterator[None]:
    """Hold one of the endpoint's slots for the duration of one HTTP call (not its retries)."""
    slot = _slot(key, endpoint)
    slot.acquire()
    try:
        yield
    finally:
        slot.release()


def reset() -> None:
    """Forget all slots (tests only; never while calls are in flight)."""
    with _slots_lock:
        _slots.clear()
