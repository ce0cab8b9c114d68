"""The review queue's cheap cursor: the newest AI alarm a school or region has, and a revision that moves on
every new alarm and every verdict, so a console polling every few seconds knows when to reload its queue.

With ``REDIS_URL`` set, every process that commits an alarm or a verdict (the api's workers, the detection
workers) writes the school's and its regions' counters to Redis after the commit, and every api process reads
them from there: one ``HMGET``, no database query, the same answer whichever process is asked. Without Redis
(or while Redis has no counter for the scope yet) the answer comes from the database: two index-only
``max()`` queries. ``ALARM_SIGNAL_PREFIX`` (default ``kitchen:alarms``) names the keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from backend.extensions import db
from backend.schools.models import Region, School
from backend.violations.models import AlarmReview, Violation, ViolationSource

log = logging.getLogger(__name__)
DEFAULT_PREFIX = "kitchen:alarms"
_PENDING = "alarm_signals"  # session.info key: the scopes to signal once the transaction commits

# Counters live this long after their last change: a publish lost while Redis was down heals within it,
# and a quiet scope is answered by the database meanwhile.
TTL_SECONDS = 600
# A new alarm (ARGV[2] == "new") raises "latest" to its id (never lowers it: commits may land out of id order)
# and creates the counter; a verdict only moves the revision of counters that exist (a counter created by a
# verdict would not know the newest alarm).
_PUBLISH = """
for i, key in ipairs(KEYS) do
  if ARGV[2] == 'new' or redis.call('EXISTS', key) == 1 then
    local latest = tonumber(redis.call('HGET', key, 'latest') or '0')
    if ARGV[2] == 'new' and tonumber(ARGV[1]) > latest then redis.call('HSET', key, 'latest', ARGV[1]) end
    redis.call('HINCRBY', key, 'revision', 1)
    redis.call('EXPIRE', key, ARGV[3])
  end
end
return 1
"""


@dataclass(frozen=True)
class Cursor:
    """What the console compares with its last answer: the newest alarm id and an opaque revision."""

    latest_id: int | None
    revision: str


def _redis() -> Any | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("alarm_signal_redis")
    if client is None:
        import redis

        client = current_app.extensions.setdefault(
            "alarm_signal_redis", redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2))
    return client


def _prefix() -> str:
    return current_app.config.get("ALARM_SIGNAL_PREFIX") or DEFAULT_PREFIX


def _keys(school: School) -> list[str]:
    """The school's key and one per region it lies in (its path "/1/5/9/" names them)."""
    regions = [part for part in school.region.path.split("/") if part]
    return [f"{_prefix()}:school:{school.id}", *(f"{_prefix()}:region:{r}" for r in regions)]


def signal_after_commit(school_id: int, violation_id: int, *, new: bool) -> None:
    """Note that this transaction adds (``new``) or reviews an alarm: Redis hears of it once the commit succeeds."""
    client = _redis()
    if client is None:
        return
    school = db.session.get(School, school_id)
    # The commit listener runs outside any request's state: it gets the client and keys from the session.
    db.session.info["alarm_signal_client"] = client
    db.session.info.setdefault(_PENDING, []).append((_keys(school), violation_id, "new" if new else "review"))


def _publish(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    client = session.info.pop("alarm_signal_client", None)
    if not pending or client is None:
        return
    try:
        script = client.register_script(_PUBLISH)
        for keys, violation_id, what in pending:
            script(keys=keys, args=[violation_id, what, TTL_SECONDS])
    except Exception:  # Redis down: the counters expire within TTL_SECONDS and reads fall back to the database
        log.exception("alarm signal not published to Redis")


def _discard(session: Session, *_: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop("alarm_signal_client", None)


def install() -> None:
    """Listen to every session's commits and rollbacks (once per process)."""
    if not event.contains(Session, "after_commit", _publish):
        event.listen(Session, "after_commit", _publish)
        event.listen(Session, "after_rollback", _discard)


def _from_database(condition: Any) -> Cursor:
    # "ORDER BY id DESC LIMIT 1", not max(): PostgreSQL then walks the primary key backwards and stops at the
    # first row in scope, where max() over a region's schools hashed every alarm (0.3–0.8 s at a province).
    latest = db.session.scalar(select(Violation.id).where(condition, Violation.source == ViolationSource.AI)
                               .order_by(Violation.id.desc()).limit(1))
    reviewed = db.session.scalar(select(AlarmReview.id).join(Violation, Violation.id == AlarmReview.violation_id)
                                 .where(condition).order_by(AlarmReview.id.desc()).limit(1))
    return Cursor(latest, f"db.{latest or 0}.{reviewed or 0}")


def _from_redis(key: str) -> Cursor | None:
    client = _redis()
    if client is None:
        return None
    try:
        latest, revision = client.hmget(key, ["latest", "revision"])
    except Exception:
        log.exception("alarm cursor read from the database: Redis unreachable")
        return None
    if revision is None:
        return None
    return Cursor(int(latest) if latest else None, f"r.{int(latest or 0)}.{int(revision)}")


def school_cursor(school: School) -> Cursor:
    """The cursor of one school's alarms."""
    return _from_redis(f"{_prefix()}:school:{school.id}") or _from_database(Violation.school_id == school.id)


def region_cursor(region: Region) -> Cursor:
    """The cursor of every alarm in a region (its schools and sub-regions')."""
    from backend.violations.alarm_queue import region_schools

    return _from_redis(f"{_prefix()}:region:{region.id}") or _from_database(
        Violation.school_id.in_(region_schools(region.path)))


install()
