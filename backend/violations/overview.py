"""The console's 总览: the figures of ``stats.compute_stats`` plus what the desk shows around them.

- ``weekly``: the daily trend summed by ISO week (Monday to Sunday, Asia/Shanghai), clipped to the period;
- ``by_school``: the ranking, the ten schools with the most problems still open (then the most found), by name;
- ``by_region``: the drill-down, the children of the scope (child regions, and schools attached directly
  to the region) each with its figures over the same period, zero rows included;
- ``cameras``: enabled cameras in the scope and how many are online now (their monitor's last health is
  neither ``offline`` nor ``unknown``);
- ``breadcrumbs``: the regions above the scope that the reader may open, then the scope itself.

Every part costs one statement whatever the data's size, so a request's query count is constant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from backend.extensions import db
from backend.monitoring.models import CameraMonitor, HealthStatus
from backend.permissions import Principal
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School
from backend.violations.models import Resolution, Violation, ViolationStatus
from backend.violations.stats import Scope, compute_stats, found_between, overdue_condition

RANKING_SIZE = 10
OFFLINE = (HealthStatus.OFFLINE.value, HealthStatus.UNKNOWN.value)


def _aggregates(now: datetime) -> list[Any]:
    """Per-group counts of the violations joined in (``count(id)`` so an outer join's empty group is 0)."""
    closed = Violation.status == ViolationStatus.CLOSED
    return [func.count(Violation.id).label("found"),
            func.coalesce(func.sum(case((closed, 1), else_=0)), 0).label("closed"),
            func.coalesce(func.sum(case((and_(closed, Violation.resolution == Resolution.RECTIFIED), 1),
                                        else_=0)), 0).label("rectified"),
            func.coalesce(func.sum(case((overdue_condition(now), 1), else_=0)), 0).label("overdue")]


def _figures(found: int, closed: int, rectified: int, overdue: int) -> dict[str, Any]:
    countable = found - (closed - rectified)
    return {"found": found, "rectified": rectified, "dismissed": closed - rectified, "in_progress": found - closed,
            "overdue": overdue, "rectification_rate": round(rectified / countable, 4) if countable else None}


def weekly(daily: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The daily trend by ISO week: each week's label (2026-W49), its days inside the period and the sums."""
    weeks: dict[str, dict[str, Any]] = {}
    for day in daily:
        year, week, _ = date.fromisoformat(day["date"]).isocalendar()
        key = f"{year}-W{week:02d}"
        bucket = weeks.setdefault(key, {"week": key, "from": day["date"], "found": 0, "rectified": 0})
        bucket["to"] = day["date"]
        bucket["found"] += day["found"]
        bucket["rectified"] += day["rectified"]
    return list(weeks.values())


def ranking(cohort: ColumnElement[bool], now: datetime) -> list[dict[str, Any]]:
    """The schools with the most open problems (then the most found) in the cohort, by name."""
    counts = _aggregates(now)
    in_progress = counts[0] - counts[1]
    rows = db.session.execute(
        select(School.id, School.name, *counts).join(School, School.id == Violation.school_id).where(cohort)
        .group_by(School.id, School.name).order_by(in_progress.desc(), counts[0].desc(), School.id)
        .limit(RANKING_SIZE)).all()
    return [{"school_id": r.id, "name": r.name, **_figures(r.found, r.closed, r.rectified, r.overdue)} for r in rows]


def _child_regions(scope: Scope) -> list[Region]:
    if len(scope.roots) == 1:
        return list(db.session.scalars(select(Region).where(Region.parent_id == scope.roots[0].id)
                                       .order_by(Region.code, Region.id)))
    return list(scope.roots)


def _region_children(regions: list[Region], period: tuple[date, date], now: datetime) -> list[dict[str, Any]]:
    """Child regions with the figures of every school below each."""
    if not regions:
        return []
    owner = {}  # region id (the child or any region below it) → the child
    for region_id, path in db.session.execute(select(Region.id, Region.path).where(
            or_(*[Region.path.startswith(r.path) for r in regions]))):
        owner.setdefault(region_id, next(r.id for r in regions if path.startswith(r.path)))
    totals = {r.id: [0, 0, 0, 0] for r in regions}
    for row in db.session.execute(
            select(School.region_id, *_aggregates(now)).join(School, School.id == Violation.school_id)
            .where(School.region_id.in_(list(owner)), found_between(*period)).group_by(School.region_id)):
        target = totals[owner[row.region_id]]
        for index, value in enumerate((row.found, row.closed, row.rectified, row.overdue)):
            target[index] += value
    return [{"type": "region", "id": r.id, "name": r.name, "level": r.level, **_figures(*totals[r.id])}
            for r in regions]


def _school_children(region: Region, period: tuple[date, date], now: datetime) -> list[dict[str, Any]]:
    """Schools attached directly to a region, each with its figures (zero when nothing was found)."""
    rows = db.session.execute(
        select(School.id, School.name, *_aggregates(now))
        .outerjoin(Violation, and_(Violation.school_id == School.id, found_between(*period)))
        .where(School.region_id == region.id).group_by(School.id, School.name).order_by(School.name, School.id))
    return [{"type": "school", "id": r.id, "name": r.name, "level": "school",
             **_figures(r.found, r.closed, r.rectified, r.overdue)} for r in rows]


def children(scope: Scope, period: tuple[date, date], now: datetime) -> list[dict[str, Any]]:
    """The drill-down's rows: the scope's child regions, then the schools attached directly to it."""
    if scope.school is not None:
        return []
    rows = _region_children(_child_regions(scope), period, now)
    if len(scope.roots) == 1:
        rows += _school_children(scope.roots[0], period, now)
    return rows


def cameras(scope: Scope) -> dict[str, Any]:
    """Enabled cameras in the scope, how many are online now, and the rate (null without cameras)."""
    online = case((and_(CameraMonitor.health_status.is_not(None), CameraMonitor.health_status.not_in(OFFLINE)), 1),
                  else_=0)
    enabled, up = db.session.execute(
        select(func.count(Camera.id), func.coalesce(func.sum(online), 0))
        .join(KitchenArea, KitchenArea.id == Camera.area_id).join(Canteen, Canteen.id == KitchenArea.canteen_id)
        .outerjoin(CameraMonitor, CameraMonitor.camera_id == Camera.id)
        .where(Camera.enabled.is_(True), scope.schools(Canteen.school_id))).one()
    return {"enabled": enabled, "online": up, "online_rate": round(up / enabled, 4) if enabled else None}


def breadcrumbs(principal: Principal, scope: Scope) -> list[dict[str, Any]]:
    """The way down to the scope: the regions above it the reader may open, then the scope itself."""
    if scope.school is not None:
        region = db.session.get(Region, scope.school.region_id)
        path, tail = region.path, [{"type": "school", "id": scope.school.id, "name": scope.school.name}]
    elif len(scope.roots) == 1 and scope.description["type"] == "region":
        path, tail = scope.roots[0].path, []
    else:
        return []
    ids = [int(part) for part in path.strip("/").split("/") if part]
    regions = {r.id: r for r in db.session.scalars(select(Region).where(Region.id.in_(ids)))}
    trail = [{"type": "region", "id": i, "name": regions[i].name} for i in ids
             if i in regions and (principal.is_admin or principal.regulates(regions[i].path))]
    return trail + tail


def overview(principal: Principal, scope: Scope, date_from: date, date_to: date, now: datetime) -> dict[str, Any]:
    """Everything the 总览 shows for a scope and period (definitions: this module and stats.py)."""
    figures = compute_stats(scope, date_from, date_to, now)
    cohort = and_(scope.condition, found_between(date_from, date_to))
    return {**figures, "weekly": weekly(figures["daily"]),
            "by_school": [] if scope.school is not None else ranking(cohort, now),
            "by_region": children(scope, (date_from, date_to), now),
            "cameras": cameras(scope), "breadcrumbs": breadcrumbs(principal, scope)}
