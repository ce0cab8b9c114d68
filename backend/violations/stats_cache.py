"""The 总览's figures reused while nothing they count has changed: a per-process cache keyed by scope and
period and validated by a data version, so each figure equals the direct computation.

- The version is the token of the one ``stats_version`` row. Every transaction that writes a violation, a
  violation event (each status change records one: ``lifecycle.transition``, escalation, the notice
  dispatcher's open → notified), a school or a region sets a new random token just before it commits, in
  the same transaction (``_bump_before_commit``; the dispatcher's core-SQL write calls ``bump_statement``).
  A reader reads the token first (one statement) and reuses a body only when it was built from that token,
  so a change committed through any process is seen by every other process at its next request.
- The camera online rate has a version of its own (cameras, areas, canteens, monitors; the detection
  worker's core-SQL write marks it ``changed`` at a health change), so camera samples do not discard the figures.
- The only figure that moves with the clock alone is ``overdue`` (due time passed while still owed): a body
  built at ``now₀`` stays exact while ``now`` has not passed the earliest due time ≥ ``now₀`` of the
  cohort's owed violations (``next_due``, read with the body), and is rebuilt after.
- Bounded: ``CACHE_TTL_SECONDS`` and ``CACHE_MAX_ENTRIES`` (an LRU of ``versioned_cache.VersionedCache``).

The token's row is one hot row: writers of violations serialise on it for the end of their transaction
only (it is taken as the last write before COMMIT).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.extensions import db
from backend.monitoring.models import CameraMonitor
from backend.records.models import RecordEntry
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School
from backend.timeutil import to_shanghai
from backend.versioned_cache import VersionedCache
from backend.violations.models import ACTIVE_STATUSES, AlarmReview, StatsVersion, Violation, ViolationEvent
from backend.violations.stats import Scope, found_between

CACHE_TTL_SECONDS = 300.0
CACHE_MAX_ENTRIES = 512
# The versions (rows of stats_version) and the models whose writes change each.
VIOLATIONS, CAMERAS, RECORDS = 1, 2, 3
TRIGGERS: dict[int, tuple[type, ...]] = {VIOLATIONS: (Violation, ViolationEvent, AlarmReview, School, Region),
                                         CAMERAS: (Camera, KitchenArea, Canteen, CameraMonitor, School, Region),
                                         RECORDS: (RecordEntry, Canteen, School, Region)}
# 今日台账完整率 also moves with the clock (a meal's deadline passing makes a record missing): a figure is reused
# at most this long, so a deadline shows within it, a record written shows at once (its version).
RECORDS_CLOCK_SECONDS = 60
_DIRTY = "stats_versions_dirty"


def bump_statement(dialect: str, version: int = VIOLATIONS) -> Any:
    """The statement that gives a version a new token (creating its row when missing)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(StatsVersion.__table__).values(id=version, token=uuid.uuid4().hex)
    return statement.on_conflict_do_update(index_elements=["id"], set_={"token": statement.excluded.token})


def changed(session: Session, version: int) -> None:
    """Bump ``version`` when this session's transaction commits (for writes made with core SQL)."""
    session.info.setdefault(_DIRTY, set()).add(version)


def _note_flush(session: Session, _context: Any, _instances: Any) -> None:
    touched = [*session.new, *session.dirty, *session.deleted]
    for version, models in TRIGGERS.items():
        if any(isinstance(o, models) for o in touched):
            changed(session, version)


def _bump_before_commit(session: Session) -> None:
    """Last writes of a transaction that changed what the figures count: new tokens."""
    session.flush()  # what commit would flush next: noted by _note_flush
    for version in sorted(session.info.pop(_DIRTY, ())):
        session.execute(bump_statement(session.get_bind().dialect.name, version))


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_DIRTY, None)


for _name, _listener in {"before_flush": _note_flush, "before_commit": _bump_before_commit,
                         "after_rollback": _forget}.items():
    if not event.contains(Session, _name, _listener):  # once, however often the module is imported
        event.listen(Session, _name, _listener)


def current_versions() -> dict[int, str]:
    """The versions' tokens now (one statement)."""
    return dict(db.session.execute(select(StatsVersion.id, StatsVersion.token)).all())


def next_due(scope: Scope, date_from: date, date_to: date, now: datetime) -> datetime | None:
    """The earliest due time, not before ``now``, of the period's violations the school still owes a fix for:
    until then the overdue figures cannot change by the clock alone."""
    return db.session.scalar(select(func.min(Violation.due_at)).where(
        scope.condition, found_between(date_from, date_to),
        Violation.status.in_([s.value for s in ACTIVE_STATUSES]), Violation.due_at >= now))


@dataclass(frozen=True)
class _Body:
    figures: dict[str, Any]
    built_at: datetime
    valid_until: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.built_at <= now and (self.valid_until is None or now <= self.valid_until)


class StatsCache(VersionedCache):
    """The 总览's version-dependent figures per scope and period, and its camera figures per scope."""

    def __init__(self, max_entries: int = CACHE_MAX_ENTRIES) -> None:
        super().__init__(max_entries)

    def figures(self, scope: Scope, date_from: date, date_to: date, now: datetime,
                build: Callable[[], dict[str, Any]], cameras: Callable[[], dict[str, Any]] | None = None
                ) -> dict[str, Any]:
        """``build()``'s figures, reused while the violations' version is unchanged and the clock moved no
        overdue figure; with ``cameras``, its figures under ``"cameras"``, reused while the cameras' version is
        unchanged."""
        versions = current_versions()
        scope_key = json.dumps(scope.description, sort_keys=True, ensure_ascii=False)
        key = (scope_key, date_from, date_to)
        cached = self.get(key, versions.get(VIOLATIONS))
        if cached is not None and cached.valid_at(now):
            figures = cached.figures
        else:
            figures = build()
            self.put(key, versions.get(VIOLATIONS), _Body(figures, now, next_due(scope, date_from, date_to, now)),
                     CACHE_TTL_SECONDS)
        if cameras is None:
            return figures
        shown = self.get((scope_key, "cameras"), versions.get(CAMERAS))
        if shown is None:
            shown = cameras()
            self.put((scope_key, "cameras"), versions.get(CAMERAS), shown, CACHE_TTL_SECONDS)
        return {**figures, "cameras": shown}

    def records_today(self, scope: Scope, now: datetime, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``build()``'s record completeness, reused while no record, canteen, school or region changed, for at
        most RECORDS_CLOCK_SECONDS, and never across midnight (the key holds the local day)."""
        key = (json.dumps(scope.description, sort_keys=True, ensure_ascii=False), "records_today",
               to_shanghai(now).date())
        version = current_versions().get(RECORDS)
        cached = self.get(key, version)
        if cached is not None and cached.valid_at(now):
            return cached.figures
        answer = build()
        self.put(key, version, _Body(answer, now, now + timedelta(seconds=RECORDS_CLOCK_SECONDS)),
                 RECORDS_CLOCK_SECONDS)
        return answer

    def reused(self, key: Hashable, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``build()``'s answer, reused while neither version changed: for answers that violations, their
        verdicts, schools, regions and cameras determine and the clock does not move (the alarms' verdict
        counts)."""
        versions = current_versions()
        version = (versions.get(VIOLATIONS), versions.get(CAMERAS))
        answer = self.get(key, version)
        if answer is None:
            answer = build()
            self.put(key, version, answer, CACHE_TTL_SECONDS)
        return answer


def app_cache(app: Flask) -> StatsCache:
    """An api process's cache (validated by the data versions on every read)."""
    return app.extensions.setdefault("violations_stats_cache", StatsCache())
