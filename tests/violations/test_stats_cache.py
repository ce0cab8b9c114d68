"""The 总览's cached figures (violations/stats_cache.py) equal the direct computation on random data, at later
clocks (overdue moves by itself) and after writes; a change made through one api instance is in the next
/stats of another instance that had the figures cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.extensions import db
from backend.schools.models import Canteen, Region, School
from backend.timeutil import to_shanghai, utcnow
from backend.violations import overview
from backend.violations.models import Violation
from backend.violations.services import raise_violation
from backend.violations.stats import Scope
from backend.violations.stats_cache import StatsCache

BASE = datetime(2025, 3, 20, 4, 0, tzinfo=UTC)
FATES = ["open", "notified", "rectifying", "submitted", "rejected", "rectified", "dismissed"]
ROW = st.tuples(st.integers(0, 1), st.sampled_from(["no_mask", "rodent", "smoking"]),
                st.sampled_from(["ai", "inspection", "report"]), st.integers(-40 * 24, 0), st.integers(-48, 96),
                st.sampled_from(FATES), st.integers(0, 72))


def _write(rows: list[tuple], canteens: list[Canteen], tag: str) -> list[Violation]:
    made = []
    for i, (c, kind, source, created_h, due_h, fate, closed_h) in enumerate(rows):
        canteen, created = canteens[c], BASE + timedelta(hours=created_h)
        violation = Violation(school_id=canteen.school_id, canteen_id=canteen.id, kind=kind, source=source,
                              title="随机", idempotency_key=f"{tag}-{i}", occurred_at=created, created_at=created,
                              due_at=created + timedelta(hours=due_h), status=fate)
        if fate in ("rectified", "dismissed"):
            violation.status, violation.resolution = "closed", fate
            violation.closed_at = created + timedelta(hours=closed_h)
        made.append(violation)
    db.session.add_all(made)
    db.session.commit()
    return made


def _scopes() -> list[Scope]:
    school = db.session.scalar(sa.select(School).order_by(School.id))
    county = db.session.get(Region, school.region_id)
    province = db.session.scalar(sa.select(Region).where(Region.parent_id.is_(None)).order_by(Region.id))
    return [Scope.of_school(school), Scope.of_regions([county], {"type": "region", "region_id": county.id}),
            Scope.of_regions([province], {"type": "region", "region_id": province.id})]


def _shown(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if k != "generated_at"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=30), clocks=st.lists(st.integers(0, 4 * 24 * 60), min_size=1, max_size=4),
       back=st.integers(0, 35), days=st.integers(1, 31), change=st.integers(-1, 3))
def test_cached_figures_equal_the_direct_computation(kitchen, rows, clocks, back, days, change):
    db.session.execute(sa.delete(Violation).where(Violation.idempotency_key.like("h-%")))
    db.session.commit()
    made = _write(rows, list(db.session.scalars(sa.select(Canteen).order_by(Canteen.id))), "h")
    last = to_shanghai(BASE).date() - timedelta(days=back)
    first = last - timedelta(days=days - 1)
    cache, scopes = StatsCache(), _scopes()
    for step, minutes in enumerate(sorted(clocks)):
        now = BASE + timedelta(minutes=minutes)
        if step == change and made:  # a write between two reads: the next read must not reuse the figures
            made[0].status, made[0].resolution, made[0].closed_at = "closed", "rectified", now
            db.session.commit()
        for scope in scopes:
            cached = cache.figures(scope, first, last, now, lambda s=scope, n=now: overview.figures(s, first, last, n))
            assert _shown(cached) == _shown(overview.figures(scope, first, last, now))


def test_figures_are_reused_until_a_due_time_passes(kitchen):
    canteen = db.session.scalar(sa.select(Canteen).order_by(Canteen.id))
    _write([(0, "no_mask", "ai", -5, 3, "open", 0)], [canteen], "due")  # due at BASE - 2 h
    scope, day = _scopes()[0], to_shanghai(BASE).date()
    cache, built = StatsCache(), []

    def build(now: datetime) -> dict[str, Any]:
        built.append(now)
        return overview.figures(scope, day, day, now)

    before = BASE - timedelta(hours=3)
    first = cache.figures(scope, day, day, before, lambda: build(before))
    assert cache.figures(scope, day, day, before + timedelta(minutes=30), lambda: build(before)) is first
    after = cache.figures(scope, day, day, BASE, lambda: build(BASE))  # the due time has passed since
    assert (first["overdue"], after["overdue"], len(built)) == (0, 1, 2)


def test_a_change_through_another_instance_is_in_the_next_stats(app, app_config, client, as_user, kitchen):
    from backend import create_app

    violation = raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="other-instance",
                                occurred_at=utcnow() - timedelta(hours=1)).violation
    school = f"/api/v1/stats?school_id={violation.school_id}"
    principal = as_user("demo-principal-1")
    before = [client.get(school, headers=principal).json for _ in range(2)]  # built, then reused
    assert before[0]["dismissed"] == before[1]["dismissed"] == 0 and before[0]["found"] == 1
    assert app.extensions["violations_stats_cache"]._entries  # this instance keeps the figures

    other = create_app(app_config)
    response = other.test_client().post(f"/api/v1/violations/{violation.id}/dismiss",
                                        json={"reason": "误识别：厨师已佩戴口罩"}, headers=principal)
    assert response.status_code == 200, response.json
    after = client.get(school, headers=principal).json
    assert (after["found"], after["dismissed"], after["in_progress"]) == (1, 1, 0)


def test_a_camera_health_change_is_in_the_next_figures(kitchen):
    from backend.monitoring.models import CameraMonitor

    scope, day, cache = _scopes()[1], to_shanghai(BASE).date(), StatsCache()

    def read() -> dict[str, Any]:
        return cache.figures(scope, day, day, BASE, lambda: overview.figures(scope, day, day, BASE),
                             lambda: overview.cameras(scope))["cameras"]

    before = read()
    assert read() is before  # reused while no camera changed
    monitor = db.session.scalar(sa.select(CameraMonitor).order_by(CameraMonitor.camera_id))
    online = monitor is not None and monitor.health_status not in ("offline", "unknown")
    if monitor is None:
        camera = db.session.scalar(sa.select(sa.func.min(sa.text("id"))).select_from(sa.table("camera")))
        monitor = CameraMonitor(camera_id=camera, health_status="ok")
        db.session.add(monitor)
    else:
        monitor.health_status = "offline" if online else "ok"
    db.session.commit()
    after = read()
    assert after == overview.cameras(scope) and after["online"] == before["online"] + (-1 if online else 1)
