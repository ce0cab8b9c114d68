"""Where the WeChat access_token lives so that every process shares one.

WeChat invalidates the previous token a few minutes after a new one is fetched, so processes that each
fetched their own would keep knocking each other out. The token is kept in Redis when ``REDIS_URL`` is set,
else in the database, and refreshed under a lock so only one process fetches at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.integrations.models import WeChatAccessToken
from backend.timeutil import utcnow

# Refresh a little before WeChat's expiry so an in-flight call never carries a dying token.
EXPIRY_MARGIN = timedelta(minutes=5)

Fetcher = Callable[[], tuple[str, int]]


@dataclass(frozen=True)
class CachedToken:
    """A token and the moment we stop using it."""

    value: str
    expires_at: datetime

    def usable(self) -> bool:
        """Still comfortably inside its lifetime."""
        return utcnow() < self.expires_at


class TokenStore(Protocol):
    """Shared storage for one AppID's access token."""

    def current(self) -> CachedToken | None:
        """The stored token if it is still usable."""

    def refresh(self, fetch: Fetcher, stale: str | None) -> str:
        """Under the lock: return a usable token other than ``stale``, fetching one if needed."""


def _expiry(expires_in: int) -> datetime:
    return utcnow() + timedelta(seconds=expires_in) - EXPIRY_MARGIN


class DatabaseTokenStore:
    """The token in the ``wechat_access_token`` row; the row's write lock serialises refreshes."""

    def __init__(self, engine: Engine, appid: str) -> None:
        self.engine = engine
        self.appid = appid

    def current(self) -> CachedToken | None:
        """Read the stored token in its own short transaction."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(WeChatAccessToken.access_token, WeChatAccessToken.expires_at)
                .where(WeChatAccessToken.appid == self.appid)
            ).first()
        if row is None or not row.access_token or row.expires_at is None:
            return None
        token = CachedToken(row.access_token, row.expires_at)
        return token if token.usable() else None

    def _ensure_row(self) -> None:
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        with self.engine.begin() as conn:
            conn.execute(insert(WeChatAccessToken).values(appid=self.appid).on_conflict_do_nothing())

    def refresh(self, fetch: Fetcher, stale: str | None) -> str:
        """Lock the row (a no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite)."""
        self._ensure_row()
        table = WeChatAccessToken.__table__
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.appid == self.appid).values(appid=table.c.appid))
            row = conn.execute(select(table.c.access_token, table.c.expires_at)
                               .where(table.c.appid == self.appid)).one()
            if row.access_token and row.access_token != stale and row.expires_at and utcnow() < row.expires_at:
                return row.access_token
            value, expires_in = fetch()
            conn.execute(update(table).where(table.c.appid == self.appid)
                         .values(access_token=value, expires_at=_expiry(expires_in)))
            return value


class RedisTokenStore:
    """The token under a Redis key with a TTL; a Redis lock serialises refreshes across machines."""

    def __init__(self, redis_client: object, appid: str) -> None:
        self.redis = redis_client
        self.appid = appid
        self.key = f"wechat:{appid}:access_token"

    def current(self) -> CachedToken | None:
        """The token while its key lives."""
        value = self.redis.get(self.key)  # type: ignore[attr-defined]
        if not value:
            return None
        ttl = self.redis.ttl(self.key)  # type: ignore[attr-defined]
        return CachedToken(value.decode() if isinstance(value, bytes) else value,
                           utcnow() + timedelta(seconds=max(int(ttl), 0)))

    def refresh(self, fetch: Fetcher, stale: str | None) -> str:
        """Fetch at most once per lock holder; others waiting on the lock reuse its result."""
        with self.redis.lock(f"{self.key}:lock", timeout=30, blocking_timeout=20):  # type: ignore[attr-defined]
            existing = self.current()
            if existing is not None and existing.value != stale:
                return existing.value
            value, expires_in = fetch()
            ttl = max(int((_expiry(expires_in) - utcnow()).total_seconds()), 1)
            self.redis.set(self.key, value, ex=ttl)  # type: ignore[attr-defined]
            return value
