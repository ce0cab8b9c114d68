"""View sessions: one per play token, opened by the media server's play hook, closed when the player leaves.

Opening is the hot path of every play (``on_play`` and the first HLS request). On PostgreSQL it is one round
trip on the autocommit pool, shared by the plays that arrive together (backend/live/group_open.py):
``SELECT live_open_sessions(…)``, a function (migrations 0006_live and 0008_live_open_fast_path) that takes
an advisory lock per school, counts the open sessions against the caps with a snapshot taken after the lock
(so the caps are exact under concurrent plays) and inserts the session ``ON CONFLICT (token_id) DO NOTHING``.
A batch that stays within every cap even if all its plays are admitted is counted once per camera and school
and inserted by one statement; one that could reach a cap is judged play by play. It commits
without waiting for the WAL flush: a database crash may forget the last fraction of a second of view
sessions, which costs far less than a disk flush on every play. On SQLite, which serialises
writers by itself, the same rule is one ``INSERT … SELECT … WHERE <under the caps>``.

The unique token id makes a token good for one session only. A session whose media server has said nothing
for ``idle_seconds`` no longer counts, so a crashed media server cannot fill the seats; :func:`close_idle`
marks such sessions closed for the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import sqlite

from backend.db_types import UTCDateTime
from backend.errors import Refusal
from backend.extensions import autocommit_engine, db
from backend.integrations.media import MediaToken
from backend.live.group_open import GroupOpener, OpenRequest
from backend.live.models import CloseReason, ViewSession


class SessionRefused(Refusal):
    """The media server must refuse this play."""


@dataclass(frozen=True)
class Caps:
    """Concurrent viewer limits and the idle cut-off that decides which sessions still count."""

    per_camera: int
    per_school: int
    idle_seconds: int


def _open_count(column: sa.ColumnElement[int], value: int, cutoff: datetime,
                limit: int | None = None) -> sa.ScalarSelect[int]:
    """Open sessions that count against a cap (counting stops at ``limit``: only "is it full" matters)."""
    table = ViewSession.__table__
    seats = (sa.select(sa.literal(1)).select_from(table)
             .where(column == value, table.c.closed_at.is_(None), table.c.last_seen_at >= cutoff))
    if limit is not None:
        seats = seats.limit(limit)
    return sa.select(sa.func.count()).select_from(seats.subquery()).scalar_subquery()


# live_open_sessions answers each play's new session id, or one of these.
REUSED, FULL = -1, -2


def _group_opener() -> GroupOpener:
    """This process's group opener for the current app (created on first use)."""
    opener = current_app.extensions.get("live_group_opener")
    if opener is None:
        opener = GroupOpener(autocommit_engine().raw_connection)
        current_app.extensions["live_group_opener"] = opener
    return opener


def open_session(token: MediaToken, *, protocol: str, client_addr: str | None, media_client_id: str | None,
                 now: datetime, caps: Caps, opener: GroupOpener | None = None) -> int:
    """Open the token's session and commit; raise :class:`SessionRefused` (``reused`` or ``full``).

    With ``opener`` (the app's, :func:`group_opener_of`) it needs no app context: PostgreSQL through the group
    opener's own connection, no ORM session.
    """
    cutoff = now - timedelta(seconds=caps.idle_seconds)
    if opener is None and db.engine.dialect.name == "postgresql":
        opener = _group_opener()
    if opener is None:
        return _open_session_sqlite(token, protocol, client_addr, media_client_id, now, cutoff, caps)
    result = opener.open(OpenRequest(
        token.token_id, token.user_id, token.camera_id, token.school_id, token.privileged, protocol, client_addr,
        media_client_id, now, cutoff, caps.per_camera, caps.per_school))
    if result > 0:
        return result
    raise SessionRefused("reused" if result == REUSED else "full")


def group_opener_of(app: Flask) -> GroupOpener | None:
    """The app's group opener once a play made one (PostgreSQL only), without needing an app context."""
    return app.extensions.get("live_group_opener")


def _open_session_sqlite(token: MediaToken, protocol: str, client_addr: str | None, media_client_id: str | None,
                         now: datetime, cutoff: datetime, caps: Caps) -> int:
    table = ViewSession.__table__
    privileged = token.privileged
    values = {
        "token_id": sa.literal(token.token_id, sa.String), "user_id": sa.literal(token.user_id, sa.Integer),
        "camera_id": sa.literal(token.camera_id, sa.Integer), "school_id": sa.literal(token.school_id, sa.Integer),
        "privileged": sa.literal(privileged, sa.Boolean), "protocol": sa.literal(protocol, sa.String),
        "client_addr": sa.literal(client_addr, sa.String), "media_client_id": sa.literal(media_client_id, sa.String),
        "opened_at": sa.literal(now, UTCDateTime), "last_seen_at": sa.literal(now, UTCDateTime),
        "policy_checked_at": sa.literal(now, UTCDateTime),
    }
    condition: sa.ColumnElement[bool] = sa.true()
    if not privileged:
        condition = sa.and_(
            _open_count(table.c.camera_id, token.camera_id, cutoff, caps.per_camera) < caps.per_camera,
            _open_count(table.c.school_id, token.school_id, cutoff, caps.per_school) < caps.per_school)
    statement = (sqlite.insert(table).from_select(list(values), sa.select(*values.values()).where(condition))
                 .on_conflict_do_nothing(index_elements=["token_id"]).returning(table.c.id))
    session_id = db.session.execute(statement).scalar()
    if session_id is not None:
        db.session.commit()
        return session_id
    db.session.rollback()
    taken = db.session.scalar(sa.select(table.c.id).where(table.c.token_id == token.token_id))
    raise SessionRefused("reused" if taken is not None else "full")


def close_session(token_id: str, media_client_id: str | None, now: datetime,
                  reason: CloseReason = CloseReason.PLAYER_CLOSED) -> bool:
    """Close the open session of a token (only the connection that opened it, when the server names one)."""
    table = ViewSession.__table__
    statement = (sa.update(table).where(table.c.token_id == token_id, table.c.closed_at.is_(None))
                 .values(closed_at=now, close_reason=reason.value))
    if media_client_id:
        statement = statement.where(table.c.media_client_id == media_client_id)
    closed = db.session.execute(statement).rowcount
    db.session.commit()
    return bool(closed)


def close_idle(now: datetime, idle_seconds: int) -> int:
    """Close every session the media server has said nothing about for ``idle_seconds`` (a scheduled job)."""
    table = ViewSession.__table__
    cutoff = now - timedelta(seconds=idle_seconds)
    closed = db.session.execute(
        sa.update(table).where(table.c.closed_at.is_(None), table.c.last_seen_at < cutoff)
        .values(closed_at=table.c.last_seen_at, close_reason=CloseReason.IDLE.value)).rowcount
    db.session.commit()
    return closed


def session_of(token_id: str) -> ViewSession | None:
    """The session a token opened, if any."""
    return db.session.scalar(sa.select(ViewSession).where(ViewSession.token_id == token_id))


def open_counts(camera_id: int, school_id: int, now: datetime, idle_seconds: int) -> tuple[int, int]:
    """Sessions that count against the caps now: (this camera, this school)."""
    cutoff = now - timedelta(seconds=idle_seconds)
    table = ViewSession.__table__
    row = db.session.execute(sa.select(_open_count(table.c.camera_id, camera_id, cutoff),
                                       _open_count(table.c.school_id, school_id, cutoff))).one()
    return int(row[0]), int(row[1])
