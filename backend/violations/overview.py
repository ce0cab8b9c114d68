"""The console's 总览: the figures of ``stats.compute_stats`` plus what the desk shows around them.

- ``weekly``: the daily trend summed by ISO week (Monday to Sunday, Asia/Shanghai), clipped to the period;
- ``by_school``: the ranking, the ten schools with the most problems still open (then the most found), by name
  (``cohort.grouped_counts`` reads it with the figures, in the same statement);
- ``by_region``: the drill-down, the children of the scope (child regions, and schools attached directly
  to the region) each with its figures over the same period, zero rows included;
- ``cameras``: enabled cameras in the scope and how many are online now (their monitor's last health is
  neither ``offline`` nor ``unknown``);
- ``records_today``: of the scope's canteens, how many have none of today's required records missing
  (``records.completeness``; reused by ``stats_cache`` while no record changed, for at most a minute: the clock
  moves it too);
- ``breadcrumbs``: the regions above the scope that the reader may open, then the scope itself.

Every part costs one statement whatever the data's size, so a request's query count is constant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from backend.db_util import names_by_id
from backend.extensions import db
from backend.monitoring.models import NOT_ONLINE, CameraMonitor
from backend.permissions import Principal
from backend.records.completeness import records_today
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School
from backend.timeutil import shanghai_iso
from backend.violations.cohort import WITH_PLACES, bucket, buckets, grouped_counts, rate
from backend.violations.models import Resolution, Violation, ViolationStatus
from backend.violations.stats import Scope, compute_stats, found_between, overdue_condition
from backend.violations.stats_cache import StatsCache


def _aggregates(now: datetime) -> list[Any]:
    """Per-school counts of the violations outer-joined in (``count(id)``: a school without any counts 0)."""
    closed = Violation.status == ViolationStatus.CLOSED
    return [func.count(Violation.id).label("found"),
            func.coalesce(func.sum(case((closed, 1), else_=0)), 0).label("closed"),
            func.coalesce(func.sum(case((and_(closed, Violation.resolution == Resolution.RECTIFIED), 1),
                                        else_=0)), 0).label("rectified"),
            func.coalesce(func.sum(case((overdue_condition(now), 1), else_=0)), 0).label("overdue")]


def _figures(found: int, closed: int, rectified: int, overdue: int) -> dict[str, Any]:
    figures = bucket(found, closed, rectified, overdue)
    return {**figures, "rectification_rate": rate(figures)}


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


def ranking(rows: list[Any]) -> list[dict[str, Any]]:
    """The ranking's schools (``cohort`` rows of part ``school``, already in order), by name."""
    figures = buckets(rows, int)
    names = names_by_id(School, figures)
    return [{"school_id": i, "name": names.get(i, ""), **f, "rectification_rate": rate(f)} for i, f in figures.items()]


def _child_regions(scope: Scope) -> list[Region]:
    if len(scope.roots) == 1:
        return list(db.session.scalars(select(Region).where(Region.parent_id == scope.roots[0].id)
                                       .order_by(Region.code, Region.id)))
    return list(scope.roots)


def _region_children(regions: list[Region], rows: list[Any]) -> list[dict[str, Any]]:
    """Child regions with the figures of every school below each (``cohort`` rows of part ``region``)."""
    if not regions:
        return []
    owner = {}  # region id (the child or any region below it) → the child
    for region_id, path in db.session.execute(select(Region.id, Region.path).where(
            or_(*[Region.path.startswith(r.path) for r in regions]))):
        owner.setdefault(region_id, next(r.id for r in regions if path.startswith(r.path)))
    totals = {r.id: [0, 0, 0, 0] for r in regions}
    for row in rows:
        target = totals.get(owner.get(int(row.key)))
        if target is not None:
            for index, value in enumerate((row.found, row.closed, row.rectified, row.overdue)):
                target[index] += int(value or 0)
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


def children(scope: Scope, counts: dict[str, list[Any]], period: tuple[date, date],
             now: datetime) -> list[dict[str, Any]]:
    """The drill-down's rows: the scope's child regions, then the schools attached directly to it."""
    if scope.school is not None:
        return []
    rows = _region_children(_child_regions(scope), counts["region"])
    if len(scope.roots) == 1:
        rows += _school_children(scope.roots[0], period, now)
    return rows


def cameras(scope: Scope) -> dict[str, Any]:
    """Enabled cameras in the scope, how many are online now, and the rate (null without cameras)."""
    online = case((and_(CameraMonitor.health_status.is_not(None), CameraMonitor.health_status.not_in(NOT_ONLINE)), 1),
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


def figures(scope: Scope, date_from: date, date_to: date, now: datetime) -> dict[str, Any]:
    """What the 总览 shows that only violations, schools and regions determine (``stats_cache`` may reuse it)."""
    if scope.school is not None:
        counts = grouped_counts(and_(scope.condition, found_between(date_from, date_to)), overdue_condition(now))
    else:  # the cohort joins its schools (for their regions): the scope is a condition on that row
        counts = grouped_counts(and_(scope.on_school, found_between(date_from, date_to)), overdue_condition(now),
                                WITH_PLACES)
    stats = compute_stats(scope, date_from, date_to, now, counts)
    return {**stats, "weekly": weekly(stats["daily"]), "by_school": ranking(counts.get("school", [])),
            "by_region": children(scope, counts, (date_from, date_to), now)}


def overview(principal: Principal, scope: Scope, date_from: date, date_to: date, now: datetime,
             cache: StatsCache | None = None) -> dict[str, Any]:
    """Everything the 总览 shows for a scope and period (definitions: this module and stats.py); the figures from
    ``cache`` when nothing they count has changed (cameras and today's record completeness too); the reader's
    breadcrumbs always read now."""
    def build() -> dict[str, Any]:
        return figures(scope, date_from, date_to, now)

    def completeness() -> dict[str, Any]:
        return records_today(scope.schools, now)

    if cache is None:
        shown = {**build(), "cameras": cameras(scope), "records_today": completeness()}
    else:
        shown = {**cache.figures(scope, date_from, date_to, now, build, lambda: cameras(scope)),
                 "records_today": cache.records_today(scope, now, completeness)}
    return {**shown, "generated_at": shanghai_iso(now), "breadcrumbs": breadcrumbs(principal, scope)}
