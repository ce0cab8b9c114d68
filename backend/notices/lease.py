"""What the two outboxes' dispatchers share: WeChat notices (``dispatcher.py``) and SMS and WeCom robot deliveries
(``channel_dispatcher.py``) are claimed, retried and counted the same way.

A run leases due rows (``claim_token``, ``claimed_until``) in one statement, never starts a send once
``FENCE_FRACTION`` of the lease is gone, backs a retried row off by :func:`backoff_seconds` and reports what it
did in a :class:`DeliveryReport`.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Table, or_, select, update

from backend.notices.models import NoticeStatus

DEFAULT_LEASE_SECONDS = 120.0
# A send starts only while this much of the lease is left unspent: what is left is released for the next run,
# so a lease never expires under a live send.
FENCE_FRACTION = 0.8
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600


def backoff_seconds(attempt_number: int, row_id: int) -> int:
    """Delay after the ``attempt_number``-th failed attempt: 30 s doubling to 1 h, plus 0–19 % jitter.

    The jitter is derived from the row's id so that a burst of failures (WeChat down) does not retry in
    lockstep, yet stays reproducible.
    """
    base = min(BACKOFF_BASE_SECONDS * 2 ** max(attempt_number - 1, 0), BACKOFF_CAP_SECONDS)
    jitter = int(hashlib.sha256(f"{row_id}:{attempt_number}".encode()).hexdigest(), 16) % 20
    return base + base * jitter // 100


def dispatcher_name() -> str:
    """This process as an attempt row names it (host and pid): which dispatcher made the attempt."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def claim_due(conn: Connection, table: Table, now: datetime, limit: int, token: str, claimed_until: datetime,
              *conditions: ColumnElement[bool]) -> list[int]:
    """Lease up to ``limit`` due pending rows of an outbox table (oldest due first) and answer their ids.

    A row is due when it is pending, its ``next_attempt_at`` has come and no live lease holds it (a dispatcher
    that died leaves a lease that expires). One ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` on
    PostgreSQL, so concurrent dispatchers take disjoint rows; the same single statement on SQLite (one writer at
    a time). ``conditions`` narrow the due rows further.
    """
    due = (select(table.c.id)
           .where(table.c.status == NoticeStatus.PENDING, table.c.next_attempt_at <= now,
                  or_(table.c.claimed_until.is_(None), table.c.claimed_until < now), *conditions)
           .order_by(table.c.next_attempt_at, table.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return list(conn.scalars(update(table).where(table.c.id.in_(due.scalar_subquery()))
                             .values(claim_token=token, claimed_until=claimed_until).returning(table.c.id)))


@dataclass
class DeliveryReport:
    """What one dispatch run did with the rows it leased (each dispatcher adds its own counters)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    unknown: int = 0      # attempts whose answer was lost
    failed: int = 0
    unconfirmed: int = 0  # rows settled as possibly delivered
    released: int = 0     # rows given back unsent as the lease ran out
    interrupted: int = 0  # attempts of a dead dispatcher found in flight

    def as_dict(self) -> dict[str, int]:
        """The counters as a dict (for logs, the CLI and the job's result)."""
        return dict(self.__dict__)
