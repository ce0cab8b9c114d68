"""Camera uptime as a regulated fact, on a fixed clock: slow to go offline and quick to recover (no flapping),
one class-1 violation per outage that reaches meal hours, and each school's uptime over 7 and 30 days."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.monitoring.services import record_health_change
from backend.risk.camera_outages import MERGE_GAP, outages, raise_meal_outages
from backend.risk.views import region_uptime, school_uptime
from backend.schools.models import School
from backend.violations.models import Violation
from tests.risk.helpers import MONDAY_10, recipients
from workers.camera import camera_health
from workers.camera.detection import QualityReport
from workers.camera.detection.quality import QualityProblem

OFFLINE = QualityReport({QualityProblem.OFFLINE})
GOOD = QualityReport()
LUNCH = MONDAY_10 + timedelta(hours=1, minutes=30)  # 11:30 in Shanghai: the demo canteens' lunch begins


def _feed(sequence: str, status: str = "ok") -> list[tuple[int, str]]:
    """Feed samples ('x' offline, '.' good) to the health state machine; the changes, by sample index."""
    state: dict = {}
    changes = []
    for index, sample in enumerate(sequence):
        change = camera_health.update(state, status, OFFLINE if sample == "x" else GOOD)
        if change is not None:
            status = change.to_status
            changes.append((index, status))
    return changes


def test_a_camera_goes_offline_slowly_and_recovers_fast():
    assert _feed("xxxxx") == []  # five lost samples are no outage
    assert _feed("xxxxxx") == [(5, "offline")]
    assert _feed("..", status="offline") == [(1, "ok")]  # two good samples bring it back
    assert _feed("xxxxxx.xx..") == [(5, "offline"), (10, "ok")]  # one good frame inside an outage is not recovery


def test_a_flapping_camera_does_not_flap():
    assert _feed("x.x.x.xx.xxx.xxxx.xxxxx." * 5) == []
    assert _feed(".x" * 20, status="offline") == []  # never two good samples in a row: still offline


def _history(camera_id: int, *changes: tuple[timedelta, str, str]) -> None:
    for offset, from_status, to_status in changes:
        record_health_change(camera_id, MONDAY_10 + offset, from_status, to_status)
    db.session.commit()


def _meal_violations() -> list[tuple[int, str, object]]:
    return [(v.camera_id, v.idempotency_key, v.occurred_at) for v in db.session.scalars(
        sa.select(Violation).where(Violation.kind == "camera_offline_meal").order_by(Violation.id))]


def test_outages_closer_than_the_merge_gap_are_one():
    at = MONDAY_10
    changes = [(at, "ok", "offline"), (at + timedelta(minutes=2), "offline", "ok"),
               (at + timedelta(minutes=2) + MERGE_GAP - timedelta(seconds=1), "ok", "offline"),
               (at + timedelta(minutes=30), "offline", "ok"), (at + timedelta(hours=2), "ok", "offline")]
    assert outages(changes, at + timedelta(hours=3)) == [(at, at + timedelta(minutes=30)),
                                                         (at + timedelta(hours=2), at + timedelta(hours=3))]


def test_an_outage_in_meal_hours_is_one_class_1_violation(app, demo):
    # Camera 1 goes down at 11:00 and stays down through lunch; camera 2 is down 09:00-10:00 only (no meal);
    # camera 4 (school 2) is down 12:00-12:10, back, and down again at 12:15: one outage.
    _history(1, (timedelta(hours=1), "ok", "offline"))
    _history(2, (timedelta(hours=-1), "ok", "offline"), (timedelta(0), "offline", "ok"))
    _history(4, (timedelta(hours=2), "ok", "offline"), (timedelta(hours=2, minutes=10), "offline", "ok"),
             (timedelta(hours=2, minutes=15), "ok", "offline"), (timedelta(hours=2, minutes=40), "offline", "ok"))
    assert raise_meal_outages(LUNCH - timedelta(minutes=1)) == []  # down, but lunch has not begun
    created = [r for r in raise_meal_outages(LUNCH + timedelta(minutes=1)) if r.created]
    assert [(r.violation.camera_id, r.violation.risk_class) for r in created] == [(1, 1)]
    assert created[0].violation.occurred_at == LUNCH  # the outage reached meal hours at 11:30
    assert created[0].violation.due_at == LUNCH + timedelta(hours=8)
    assert {"demo-regulator", "demo-staff-1"} <= recipients(created[0].violation.id, "violation_created")
    # Later runs, however many, raise nothing new for the same outage, and one for camera 4's.
    for minutes in (2, 3, 60, 120, 180):
        raise_meal_outages(LUNCH + timedelta(minutes=minutes))
    keys = [(camera, key) for camera, key, _ in _meal_violations()]
    assert keys == [(1, f"camera-outage:cam1:{(MONDAY_10 + timedelta(hours=1)).isoformat()}"),
                    (4, f"camera-outage:cam4:{(MONDAY_10 + timedelta(hours=2)).isoformat()}")]


def test_a_new_outage_is_a_new_violation_and_weekend_meals_need_configured_windows(app, demo):
    _history(1, (timedelta(hours=1, minutes=40), "ok", "offline"), (timedelta(hours=1, minutes=50), "offline", "ok"),
             (timedelta(hours=2, minutes=20), "ok", "offline"), (timedelta(hours=2, minutes=25), "offline", "ok"))
    raise_meal_outages(LUNCH + timedelta(hours=2))
    assert [c for c, _, _ in _meal_violations()] == [1, 1]
    saturday = MONDAY_10 + timedelta(days=5)  # the demo canteens serve no meals on Saturdays
    record_health_change(1, saturday, "ok", "offline")
    db.session.commit()
    raise_meal_outages(saturday + timedelta(hours=3))
    assert len(_meal_violations()) == 2


def test_each_schools_uptime_over_7_and_30_days(app, demo):
    now = MONDAY_10
    # School 1: cameras 1-3 online since 20 days ago; camera 1 offline for the last 3 days.
    for camera_id in (1, 2, 3):
        record_health_change(camera_id, now - timedelta(days=20), "unknown", "ok")
    record_health_change(1, now - timedelta(days=3), "ok", "offline")
    db.session.commit()
    school = db.session.get(School, 1)
    figures = school_uptime(school, now)
    # The 7 local days end now (Monday 10:00): 6 days 10 hours = 154 h known per camera, camera 1 down the last
    # 72 h; the 30 days know the 20 days (480 h) since the first report.
    assert (figures["cameras"], figures["uptime_7d"], figures["uptime_30d"]) == (
        3, round(100 * (3 * 154 - 72) / (3 * 154), 1), round(100 * (3 * 480 - 72) / (3 * 480), 1))
    assert school_uptime(db.session.get(School, 2), now)["uptime_7d"] is None  # nothing known
    region = region_uptime(school.region, now)
    assert [s["school_id"] for s in region["schools"]] == [1, 2]
