"""Principals of recently seen session tokens, kept for a second in each api process.

A phone opening a page sends several requests within a second (the day, ``/me``, the inbox); each one
would otherwise read the same principal from the database. Every commit of any database session in this
process empties the cache, since a write may revoke a session or change a binding, so a change made by
this process is seen by its next request. Another process sees it within ``AUTH_CACHE_SECONDS`` (1 s by
default; 0 turns the cache off), far inside the 20 s in which a revoked viewer loses the live view.
Unknown, expired and revoked tokens are never cached.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.permissions import Principal

MAX_ENTRIES = 4096


class _Commits:
    """A process-wide count of database commits: a cached principal read before the latest one is stale."""

    count = 0

    @classmethod
    def note(cls, _session: Session) -> None:
        cls.count += 1


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    read_at: float
    commits: int


class PrincipalCache:
    """Token hash → principal, each for at most ``ttl`` seconds and only until the next commit."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        if not event.contains(Session, "after_commit", _Commits.note):
            event.listen(Session, "after_commit", _Commits.note)

    @staticmethod
    def commits() -> int:
        """The commit count to give :meth:`put`, read before the database is."""
        return _Commits.count

    def get(self, token_hash: str) -> Principal | None:
        """The cached principal of a token, or None when absent, older than ``ttl`` or read before a commit."""
        entry = self._entries.get(token_hash)
        if entry is None or entry.commits != _Commits.count or time.monotonic() - entry.read_at >= self.ttl:
            return None
        # A copy per request: the principal keeps the request's User row, which belongs to one session.
        return replace(entry.principal, _user=None)

    def put(self, token_hash: str, principal: Principal, commits: int) -> None:
        """Keep a principal read from the database after ``commits`` commits (dropped if one came since)."""
        if commits != _Commits.count:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[token_hash] = _Entry(principal, time.monotonic(), commits)
