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
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true

from backend.errors import ApiError, forbidden, not_found
from backend.extensions import db
from backend.permissions import Action, Principal, allowed, sees_only_public
from backend.schools.models import Region, School
from backend.timeutil import SHANGHAI, shanghai_iso, to_shanghai, utcnow
from backend.violations.alarm_visibility import public_condition
from backend.violations.models import (
    ACTIVE_STATUSES,
    KIND_LABELS,
    Resolution,
    Violation,
    ViolationSource,
    ViolationStatus,
)

MAX_DAYS = 366
DEFAULT_DAYS = 30
SOURCE_LABELS = {ViolationSource.AI: "智能识别", ViolationSource.RECORD_RULE: "台账核查",
                 ViolationSource.INSPECTION: "监督检查", ViolationSource.REPORT: "举报反映"}


@dataclass(frozen=True)
class Scope:
    """Which violations the figures cover, and how to describe that to the reader."""

    condition: ColumnElement[bool]
    description: dict[str, Any]


def _region_condition(paths: list[str]) -> ColumnElement[bool]:
    regions = select(Region.id).where(or_(*[Region.path.startswith(p) for p in paths]))
    return Violation.school_id.in_(select(School.id).where(School.region_id.in_(regions)))


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
        condition = Violation.school_id == school.id
        if sees_only_public(principal, school):  # parents' figures never count an alarm held from them
            condition = and_(condition, public_condition())
        return Scope(condition, {"type": "school", "school_id": school.id, "name": school.name})
    if region_id is not None:
        region = db.session.get(Region, region_id)
        if region is None:
            raise not_found("地区")
        if not (principal.is_admin or principal.regulates(region.path)):
            raise forbidden("无权查看该地区的统计")
        return Scope(_region_condition([region.path]), {"type": "region", "region_id": region.id,
                                                         "name": region.name})
    if principal.is_admin:
        return Scope(true(), {"type": "all", "name": "全部"})
    if principal.region_paths:
        return Scope(_region_condition(list(principal.region_paths)),
                     {"type": "regions", "region_ids": [s.region_id for s in principal.scopes],
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


def utc_midnight(day: date) -> datetime:
    """00:00 Asia/Shanghai of a local day, in UTC."""
    return datetime.combine(day, time.min, SHANGHAI).astimezone(UTC)


def _local_day(column: Any) -> Any:
    """The Asia/Shanghai calendar day of a UTC timestamp column, as 'YYYY-MM-DD' (China has no DST)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "+8 hours")


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


def compute_stats(scope: Scope, date_from: date, date_to: date, now: datetime | None = None) -> dict[str, Any]:
    """The figures for a scope and period (see the module docstring for definitions)."""
    now = now or utcnow()
    start, end = utc_midnight(date_from), utc_midnight(date_to + timedelta(days=1))
    cohort = and_(scope.condition, Violation.created_at >= start, Violation.created_at < end)
    overdue = case((and_(Violation.status.in_([s.value for s in ACTIVE_STATUSES]), Violation.due_at < now), 1),
                   else_=0)
    rows = db.session.execute(
        select(Violation.kind, Violation.source, Violation.status, Violation.resolution, overdue.label("overdue"),
               func.count().label("n"))
        .where(cohort).group_by(Violation.kind, Violation.source, Violation.status, Violation.resolution, overdue)
    ).all()
    total, by_kind, by_source = _bucket(), {}, {}
    for row in rows:
        for bucket in (total, by_kind.setdefault(row.kind, _bucket()), by_source.setdefault(row.source, _bucket())):
            bucket["found"] += row.n
            if row.status == ViolationStatus.CLOSED:
                bucket["rectified" if row.resolution == Resolution.RECTIFIED else "dismissed"] += row.n
            else:
                bucket["in_progress"] += row.n
                bucket["overdue"] += row.n * row.overdue
    daily = {(date_from + timedelta(days=i)).isoformat(): {"found": 0, "rectified": 0}
             for i in range((date_to - date_from).days + 1)}
    found_day = _local_day(Violation.created_at)
    for day, n in db.session.execute(select(found_day, func.count()).where(cohort).group_by(found_day)):
        if day in daily:
            daily[day]["found"] = n
    closed_day = _local_day(Violation.closed_at)
    for day, n in db.session.execute(
            select(closed_day, func.count()).where(scope.condition, Violation.resolution == Resolution.RECTIFIED,
                                                   Violation.closed_at >= start, Violation.closed_at < end)
            .group_by(closed_day)):
        if day in daily:
            daily[day]["rectified"] = n
    countable = total["found"] - total["dismissed"]
    return {
        "scope": scope.description,
        "period": {"from": date_from.isoformat(), "to": date_to.isoformat(), "timezone": "Asia/Shanghai"},
        **total,
        "rectification_rate": round(total["rectified"] / countable, 4) if countable else None,
        "median_hours_to_rectify": _median_hours(cohort),
        "by_kind": [{"kind": k, "label": KIND_LABELS.get(k, k), **v} for k, v in sorted(by_kind.items())],
        "by_source": [{"source": k, "label": SOURCE_LABELS.get(k, k), **v} for k, v in sorted(by_source.items())],
        "daily": [{"date": d, **v} for d, v in daily.items()],
        "generated_at": shanghai_iso(now),
    }
