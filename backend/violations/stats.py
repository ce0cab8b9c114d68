"""Violation figures by region, school and period: the numbers regulators and parents read.

Definitions (all over the violations *found* in the period, i.e. created between the first day 00:00 and
the last day 24:00 Asia/Shanghai, counted as they stand at ``now``):
- found: how many; rectified: closed as rectified; dismissed: closed as false alarms;
- in_progress: not closed yet (found − rectified − dismissed); overdue: of those, the ones the school still
  owes a fix for (open, notified, rectifying, rejected) whose due time has passed;
- rectification_rate: rectified / (found − dismissed), null when nothing counts;
- median_hours_to_rectify: median of closed_at − created_at over the rectified ones;
- daily: per local day of the period, violations found that day and violations closed as rectified that
  day (whenever they were found).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true

from backend.errors import ApiError, forbidden, not_found
from backend.extensions import db
from backend.permissions import Action, Principal, allowed, sees_only_public
from backend.schools.models import Region, School
from backend.timeutil import shanghai_iso, shanghai_midnight, to_shanghai, utcnow
from backend.violations.alarm_visibility import public_condition
from backend.violations.cohort import buckets, days_of, grouped_counts, local_day, rate
from backend.violations.models import (
    ACTIVE_STATUSES,
    KIND_LABELS,
    SOURCE_LABELS,
    Resolution,
    Violation,
    ViolationStatus,
)

MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Scope:
    """Which schools the figures cover, how to describe that to the reader, and where a drill-down goes.

    ``schools`` turns any column holding a school id into the condition "inside the scope" (violations,
    canteens, cameras' schools); ``on_school`` is the same condition on a ``school`` row already joined (no
    second look-up of the schools); ``roots`` are the regions whose children the drill-down lists (none for
    a school); ``school`` is the one school of a school scope.
    """

    schools: Callable[[Any], ColumnElement[bool]]
    description: dict[str, Any]
    roots: tuple[Region, ...] = ()
    school: School | None = None
    on_school: ColumnElement[bool] = field(default_factory=true)
    shown: ColumnElement[bool] = field(default_factory=true)

    @property
    def condition(self) -> ColumnElement[bool]:
        """The violations inside the scope (and shown to its reader)."""
        return and_(self.schools(Violation.school_id), self.shown)

    @classmethod
    def of_school(cls, school: School, public_only: bool = False) -> Scope:
        """One school's scope; ``public_only``: as parents see it, without an AI alarm held from them."""
        return cls(lambda column: column == school.id, {"type": "school", "school_id": school.id,
                                                        "name": school.name}, school=school,
                   on_school=School.id == school.id, shown=public_condition() if public_only else true())

    @classmethod
    def of_regions(cls, regions: list[Region], description: dict[str, Any]) -> Scope:
        """The schools of some regions and of every region below them."""
        paths = [r.path for r in regions]

        def inside() -> Any:
            return select(Region.id).where(or_(*[Region.path.startswith(p) for p in paths]))

        def schools(column: Any) -> ColumnElement[bool]:
            return column.in_(select(School.id).where(School.region_id.in_(inside())))
        return cls(schools, description, roots=tuple(regions), on_school=School.region_id.in_(inside()))


def resolve_scope(principal: Principal, school_id: int | None, region_id: int | None) -> Scope:
    """The scope a caller asks for (or their natural one), refused when they may not read it."""
    if school_id is not None and region_id is not None:
        raise ApiError(422, "scope_ambiguous", "学校和地区只能指定一个",
                       {"fields": {"region_id": ["与 school_id 互斥"]}})
    if school_id is not None:
        school = db.session.get(School, school_id)
        if school is None:
            raise not_found("学校")
        if not allowed(principal, Action.STATS_READ, school):
            raise forbidden("无权查看该学校的统计")
        return Scope.of_school(school, public_only=sees_only_public(principal, school))
    if region_id is not None:
        region = db.session.get(Region, region_id)
        if region is None:
            raise not_found("地区")
        if not (principal.is_admin or principal.regulates(region.path)):
            raise forbidden("无权查看该地区的统计")
        return Scope.of_regions([region], {"type": "region", "region_id": region.id, "name": region.name})
    if principal.is_admin:
        roots = list(db.session.scalars(select(Region).where(Region.parent_id.is_(None)).order_by(Region.id)))
        return Scope(lambda column: true(), {"type": "all", "name": "全部"}, roots=tuple(roots))
    if principal.region_paths:
        regions = list(db.session.scalars(select(Region).where(
            Region.id.in_([s.region_id for s in principal.scopes])).order_by(Region.id)))
        return Scope.of_regions(regions, {"type": "regions", "region_ids": [s.region_id for s in principal.scopes],
                                          "name": "、".join(s.region_name for s in principal.scopes)})
    schools = sorted(principal.roles_by_school)
    if len(schools) == 1:
        return resolve_scope(principal, schools[0], None)
    if not schools:
        raise forbidden("您还没有可查看的学校")
    raise ApiError(422, "scope_required", "请指定要查看的学校", {"school_ids": schools})


def period_bounds(date_from: date | None, date_to: date | None, now: datetime) -> tuple[date, date]:
    """The period asked for, by default the last 30 days up to today (Asia/Shanghai)."""
    last = date_to or to_shanghai(now).date()
    first = date_from or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ApiError(422, "period_invalid", "开始日期不能晚于结束日期", {"fields": {"from": ["晚于结束日期"]}})
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(422, "period_too_long", f"统计区间不能超过{MAX_DAYS}天", {"max_days": MAX_DAYS})
    return first, last


def _median_hours(cohort: ColumnElement[bool]) -> float | None:
    rectified = and_(cohort, Violation.resolution == Resolution.RECTIFIED)
    if db.session.get_bind().dialect.name == "postgresql":
        seconds = db.session.scalar(select(func.percentile_cont(0.5).within_group(
            func.extract("epoch", Violation.closed_at - Violation.created_at))).where(rectified))
        return None if seconds is None else round(float(seconds) / 3600, 2)
    pairs = db.session.execute(select(Violation.created_at, Violation.closed_at).where(rectified)).all()
    hours = [(closed - created).total_seconds() / 3600 for created, closed in pairs if closed is not None]
    return round(statistics.median(hours), 2) if hours else None


def _bucket() -> dict[str, int]:
    return {"found": 0, "rectified": 0, "dismissed": 0, "in_progress": 0, "overdue": 0}


def found_between(date_from: date | None, date_to: date | None) -> ColumnElement[bool]:
    """Violations found (created) between the first local day 00:00 and the last local day 24:00."""
    bounds = []
    if date_from is not None:
        bounds.append(Violation.created_at >= shanghai_midnight(date_from))
    if date_to is not None:
        bounds.append(Violation.created_at < shanghai_midnight(date_to + timedelta(days=1)))
    return and_(true(), *bounds)


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Violations the school still owes a fix for whose due time has passed."""
    return and_(Violation.status.in_([s.value for s in ACTIVE_STATUSES]), Violation.due_at < now)


def is_overdue(violation: Violation, now: datetime) -> bool:
    """:func:`overdue_condition` for one loaded violation (a list row's or a detail's 已超期)."""
    return violation.status in ACTIVE_STATUSES and violation.due_at < now


# The overview's figures as list filters: which violations each card counts (besides ``overdue``).
STATES = ("in_progress", "rectified", "dismissed")


def state_condition(state: str) -> ColumnElement[bool]:
    """The violations a figure counts: not closed yet, or closed as rectified / as a false alarm."""
    if state == "in_progress":
        return Violation.status != ViolationStatus.CLOSED
    closed = Violation.status == ViolationStatus.CLOSED
    if state == "rectified":
        return and_(closed, Violation.resolution == Resolution.RECTIFIED)
    return and_(closed, or_(Violation.resolution.is_(None), Violation.resolution != Resolution.RECTIFIED))


def compute_stats(scope: Scope, date_from: date, date_to: date, now: datetime | None = None,
                  counts: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """The figures for a scope and period (see the module docstring for definitions); ``counts``: the
    cohort's grouped counts when the caller already read them (``cohort.grouped_counts``)."""
    now = now or utcnow()
    start, end = shanghai_midnight(date_from), shanghai_midnight(date_to + timedelta(days=1))
    cohort = and_(scope.condition, found_between(date_from, date_to))
    counts = counts or grouped_counts(cohort, overdue_condition(now))
    by_kind, by_source = buckets(counts["kind"]), buckets(counts["source"])
    total = {name: sum(b[name] for b in by_kind.values()) for name in _bucket()}
    found = {row.key: row.found for row in counts["day"]}
    daily = {day: {"found": found.get(day, 0), "rectified": 0} for day in days_of(date_from, date_to)}
    closed_day = local_day(Violation.closed_at)
    for day, n in db.session.execute(
            select(closed_day, func.count()).where(scope.condition, Violation.resolution == Resolution.RECTIFIED,
                                                   Violation.closed_at >= start, Violation.closed_at < end)
            .group_by(closed_day)):
        if str(day) in daily:
            daily[str(day)]["rectified"] = n
    return {
        "scope": scope.description,
        "period": {"from": date_from.isoformat(), "to": date_to.isoformat(), "timezone": "Asia/Shanghai"},
        **total,
        "rectification_rate": rate(total),
        "median_hours_to_rectify": _median_hours(cohort),
        "by_kind": [{"kind": k, "label": KIND_LABELS.get(k, k), **v} for k, v in sorted(by_kind.items())],
        "by_source": [{"source": k, "label": SOURCE_LABELS.get(k, k), **v} for k, v in sorted(by_source.items())],
        "daily": [{"date": d, **v} for d, v in daily.items()],
        "generated_at": shanghai_iso(now),
    }
