"""A small per-process cache of rendered answers, each valid only for the data version it was built from.

Readers ask with the version they just read (one cheap statement) and get the body back only when it was
built from that same version and has not expired; writers change the version in the same transaction as
the data, so any process sees a change at its next request. Used by the parents' day view
(``records/day.py``) and the 总览's figures (``violations/stats_cache.py``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any


@dataclass
class _Cached:
    version: Any
    body: Any
    expires_at: float


class VersionedCache:
    """A thread-safe LRU of bodies, validated against the version they were built from."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Any) -> Any:
        """The cached body if it was built from this version and has not expired."""
        with self._lock:
            cached = self._entries.get(key)
            if cached is None or cached.version != version or cached.expires_at <= time.monotonic():
                return None
            self._entries.move_to_end(key)
            return cached.body

    def put(self, key: Hashable, version: Any, body: Any, ttl: float) -> None:
        """Keep a body for at most ``ttl`` seconds."""
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = _Cached(version, body, time.monotonic() + ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
