"""Camera health for the desk: uptime computed exactly from hand-made health changes, offline first."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.monitoring import routes
from backend.monitoring.models import CameraMonitor
from backend.monitoring.services import record_health_change
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.timeutil import SHANGHAI

API = "/api/v1"
# Noon in Shanghai: the window is 2026-03-04 00:00 .. 2026-03-10 12:00 (+08:00), six and a half days.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)
DAYS = [f"2026-03-{d:02d}" for d in range(4, 11)]


def sh(day: int, hhmm: str, month: int = 3) -> datetime:
    """An Asia/Shanghai wall-clock time in 2026."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(2026, month, day, hours, minutes, tzinfo=SHANGHAI)


def _history(camera_id: int, changes: list[tuple[datetime, str]]) -> None:
    status = "unknown"
    for at, new_status in changes:
        record_health_change(camera_id, at, status, new_status)
        since, status = at, new_status
    db.session.add(CameraMonitor(camera_id=camera_id, tuning={}, engine_state={}, rule_state={}, last_result={},
                                 health_status=status, health_since=since, last_sample_at=sh(10, "11:59")))


@pytest.fixture
def cameras(demo, monkeypatch):
    """School 1's cameras with hand-made histories, plus an offline one and a disabled one."""
    monkeypatch.setattr(routes, "utcnow", lambda: NOW)
    ids = list(db.session.scalars(sa.select(Camera.id).join(KitchenArea).join(Canteen)
                                  .where(Canteen.school_id == 1).order_by(Camera.id)))
    area_id = db.session.get(Camera, ids[0]).area_id
    extra = [Camera(area_id=area_id, name=name, source_kind="rtsp", source_url="rtsp://cam", enabled=enabled)
             for name, enabled in (("后门摄像头", True), ("备用摄像头", False))]
    db.session.add_all(extra)
    db.session.flush()
    crossing, never, late, *others = ids
    offline, disabled = (c.id for c in extra)
    # Offline at midnight's either side: 22:00 on the 5th to 02:00 on the 6th; before the window the camera
    # was offline, then ok from the 1st (the last change before the window decides where the window starts).
    _history(crossing, [(sh(20, "08:00", month=2), "offline"), (sh(1, "08:00"), "ok"), (sh(5, "22:00"), "offline"),
                        (sh(6, "02:00"), "ok"), (sh(10, "06:00"), "frozen")])
    _history(late, [(sh(8, "12:00"), "ok")])  # first reported inside the window
    _history(offline, [(sh(9, "09:00"), "ok"), (sh(9, "09:00"), "offline")])
    for camera_id in others:
        _history(camera_id, [(sh(1, "00:00"), "ok")])
    db.session.commit()
    return {"crossing": crossing, "never": never, "late": late, "offline": offline, "disabled": disabled,
            "others": others}


def _report(client, headers, url="/schools/1/cameras/health", **query):
    response = client.get(API + url, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_uptime_is_exact_across_shanghai_midnight(client, as_user, cameras):
    report = _report(client, as_user("demo-principal-1"))
    assert report["window"] == {"from": "2026-03-04T00:00:00+08:00", "to": "2026-03-10T12:00:00+08:00",
                                "days": DAYS}
    by_id = {c["id"]: c for c in report["cameras"]}
    crossing = by_id[cameras["crossing"]]
    known = 6 * 86400 + 12 * 3600
    assert (crossing["known_seconds"], crossing["online_seconds"]) == (known, known - 4 * 3600)
    assert crossing["uptime_percent"] == round(100 * (known - 4 * 3600) / known, 1) == 97.4
    # Two hours of the outage on each side of midnight; a frozen picture still counts as online.
    assert [d["uptime_percent"] for d in crossing["days"]] == [100.0, 91.7, 91.7, 100.0, 100.0, 100.0, 100.0]
    assert (crossing["status"], crossing["status_label"], crossing["online"]) == ("frozen", "画面冻结", True)
    assert crossing["last_seen_at"] == "2026-03-10T11:59:00+08:00"
    # First seen on the 8th at noon: nothing is known before, so those days have no figure.
    late = by_id[cameras["late"]]
    assert late["known_seconds"] == 48 * 3600 and late["uptime_percent"] == 100.0
    assert [d["uptime_percent"] for d in late["days"]] == [None, None, None, None, 100.0, 100.0, 100.0]
    offline = by_id[cameras["offline"]]
    assert (offline["uptime_percent"], offline["known_seconds"]) == (0.0, 27 * 3600)
    assert offline["last_seen_at"] == offline["status_since"] == "2026-03-09T09:00:00+08:00"


def test_a_camera_that_never_reported_has_no_figures(client, as_user, cameras):
    never = next(c for c in _report(client, as_user("demo-staff-1"))["cameras"] if c["id"] == cameras["never"])
    assert (never["status"], never["status_label"], never["online"]) == ("unknown", "尚未检测", False)
    assert never["uptime_percent"] is None and never["known_seconds"] == 0
    assert never["last_seen_at"] is None and never["status_since"] is None
    assert [d["uptime_percent"] for d in never["days"]] == [None] * 7


def test_offline_first_and_the_online_rate(client, as_user, cameras):
    report = _report(client, as_user("demo-manager-1"))
    order = [c["id"] for c in report["cameras"]]
    assert order[0] == cameras["offline"] and order[1] == cameras["crossing"]
    assert order.index(cameras["never"]) > order.index(cameras["crossing"])
    assert order[-1] == cameras["disabled"]  # a disabled camera comes last, whatever its state
    assert [c["status"] for c in report["cameras"][-1 - len(cameras["others"]) - 1:-1]] == ["ok"] * (
        len(cameras["others"]) + 1)
    enabled = len(order) - 1
    online = 2 + len(cameras["others"])  # crossing (frozen), late and the others; not offline, not never
    assert report["online_rate"] == {"online": online, "enabled": enabled,
                                     "percent": round(100 * online / enabled, 1)}
    only = _report(client, as_user("demo-manager-1"), canteen_id=1)
    assert {c["canteen_id"] for c in only["cameras"]} == {1}


def test_the_region_report_covers_its_schools_and_filters(client, as_user, cameras):
    headers = as_user("demo-regulator")
    region = _report(client, headers, "/regions/3/cameras/health")
    assert {c["school_id"] for c in region["cameras"]} == {1, 2}
    assert region["cameras"][0]["id"] == cameras["offline"]
    school_two = _report(client, headers, "/regions/3/cameras/health", school_id=2)
    assert {c["school_id"] for c in school_two["cameras"]} == {2}
    assert school_two["online_rate"]["online"] == 0  # school 2's cameras never reported
    for bad in ({"school_id": "x"}, {"school_id": 0}, {"canteen_id": 2**31}):
        response = client.get(API + "/regions/3/cameras/health", headers=headers, query_string=bad)
        assert response.status_code == 422 and response.get_json()["error"]["code"] == "validation_failed"


def test_one_schools_people_see_only_their_cameras(client, as_user, cameras):
    for openid in ("demo-principal-2", "demo-manager-2"):
        response = client.get(API + "/schools/1/cameras/health", headers=as_user(openid))
        assert response.status_code == 403
    for openid in ("demo-parent-1", "demo-committee-1"):
        response = client.get(API + "/schools/1/cameras/health", headers=as_user(openid))
        assert response.status_code == 403 and "摄像头运行状态" in response.get_json()["error"]["message"]
    # A school's people have no region report; the other region's regulator neither.
    response = client.get(API + "/regions/3/cameras/health", headers=as_user("demo-principal-1"))
    assert response.status_code == 403
