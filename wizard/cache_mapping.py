"""A MutableMapping over Django's cache, so the Autotask layer (which knows nothing of Django)
can share zone and metadata caches across processes when CACHE_URL points at Redis."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from django.core.cache import cache


class CacheMapping(MutableMapping[str, Any]):
    def __init__(self, prefix: str, timeout: int) -> None:
        self.prefix = prefix
        self.timeout = timeout

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def __getitem__(self, key: str) -> Any:
        missing = object()
        value = cache.get(self._key(key), missing)
        if value is missing:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        cache.set(self._key(key), value, self.timeout)

    def __delitem__(self, key: str) -> None:
        cache.delete(self._key(key))

    # The client only gets, sets and deletes; listing a shared cache is neither possible
    # nor needed.
    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
