"""Autotask concurrency slots in Django's cache, so that every gunicorn worker and every server
sharing the cache (Redis in production) draws from the same per-tenant slots.

Why the cache and not the database: docs/decisions/0009-autotask-concurrency-cap.md.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import time
from collections.abc import Callable

from django.core.cache import BaseCache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

from wizard.autotask import limits

logger = logging.getLogger(__name__)

# How often a waiting request looks for a free slot; jittered so waiters do not move in step.
POLL_SECONDS = 0.05


class CacheSlots:
    """Slot ``i`` of ``name`` is the cache key ``atslot:<name>:<i>``, taken with ``cache.add``.

    ``add`` only writes a key that is not there, atomically in Redis (SET NX) and memcached, so
    of two workers asking for the same free slot exactly one gets it. Every slot carries the
    holder's random token and expires after its lease: a worker killed mid-call frees its slots
    by itself. Release deletes the key only while it still holds the holder's token.
    """

    def __init__(
        self,
        cache: BaseCache,
        *,
        prefix: str = "atslot",
        poll: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cache = cache
        self.prefix = prefix
        self.poll = poll
        self._clock = clock
        self._sleep = sleep

    def _key(self, name: str, index: int) -> str:
        return f"{self.prefix}:{name}:{index}"

    def acquire(self, name: str, limit: int, *, lease: float, wait: float | None) -> str | None:
        give_up = None if wait is None else self._clock() + wait
        token = secrets.token_hex(8)
        timeout = max(1, math.ceil(lease))
        while True:
            # A random first slot spreads the workers over the keys instead of all of them
            # trying slot 0 first.
            start = random.randrange(limit)
            for step in range(limit):
                index = (start + step) % limit
                if self.cache.add(self._key(name, index), token, timeout=timeout):
                    return f"{index}:{token}"
            left = None if give_up is None else give_up - self._clock()
            if left is not None and left <= 0:
                return None
            pause = self.poll * random.uniform(0.5, 1.5)
            self._sleep(pause if left is None else min(pause, left))

    def release(self, name: str, token: str) -> None:
        index, _, value = token.partition(":")
        key = self._key(name, int(index))
        # Not atomic with the delete, but a slot changes hands only after its lease, which is
        # longer than any call: by then its holder is gone.
        if self.cache.get(key) == value:
            self.cache.delete(key)


class FallbackSlots:
    """The shared slots, or this process's own while the shared cache cannot be reached.

    A Redis outage then loosens the cap to one per process instead of failing every page.
    """

    def __init__(self, shared: CacheSlots, local: limits.LocalSlots = limits.LOCAL) -> None:
        self.shared = shared
        self.local = local

    def acquire(self, name: str, limit: int, *, lease: float, wait: float | None) -> str | None:
        try:
            token = self.shared.acquire(name, limit, lease=lease, wait=wait)
        except Exception:  # the cache client's own errors (redis.ConnectionError, ...)
            logger.warning("Autotask slots: the shared cache failed; capping per process")
            local = self.local.acquire(name, limit, lease=lease, wait=wait)
            return None if local is None else f"local:{local}"
        return None if token is None else f"shared:{token}"

    def release(self, name: str, token: str) -> None:
        where, _, inner = token.partition(":")
        if where == "local":
            self.local.release(name, inner)
            return
        try:
            self.shared.release(name, inner)
        except Exception:  # the lease frees it when the cache is back
            logger.warning("Autotask slots: could not release a shared slot; its lease will")


def is_shared(cache: BaseCache) -> bool:
    """Whether other processes see this cache (not this process's memory, not a no-op)."""
    return not isinstance(cache, LocMemCache | DummyCache)


def slot_store(alias: str = "default") -> limits.SlotStore:
    """The slots every worker shares when CACHE_URL is shared (Redis); else this process's."""
    cache = caches[alias]
    if not is_shared(cache):
        # The local-memory cache (the default, tests): each worker caps on its own.
        return limits.LOCAL
    return FallbackSlots(CacheSlots(cache))
