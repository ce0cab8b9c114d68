"""Online patrol through the real HTTP API: a regulator starts a round over canteens of their region, the wall
reports what it shows (recorded from when to when), a finding takes a real snapshot of the camera (ffmpeg reads
the demo camera's video) as the evidence of the violation or inspection finding it opens, the round ends and is
listed with its record. Nobody patrols outside their region; school staff do not patrol; the camera tree shows
each user only the schools they may watch at any time."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from backend.accounts.models import User
from backend.accounts.services import grant_regulator
from backend.extensions import db
from backend.files import object_store
from backend.patrols.models import PatrolFinding, PatrolRound, PatrolView
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School
from backend.schools.services import create_region, create_school
from backend.violations.models import Violation
from tests.violations.conftest import user_id

API = "/api/v1"


def _county() -> Region:
    return db.session.scalar(sa.select(Region).where(Region.code == "330106"))


def _cameras_of(canteen_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Camera.id).join(KitchenArea).where(KitchenArea.canteen_id == canteen_id)
                                   .order_by(KitchenArea.id, Camera.id)))


def _other_region() -> tuple[Region, int, dict]:
    """Ningbo: a region with a school, a canteen and a camera of its own, and a regulator of it."""
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    city = create_region("330200", "宁波市", "city", province)
    school = create_school(None, city, "宁波实验小学", "primary", None)
    canteen = Canteen(school_id=school.id, name="食堂", meal_windows=[], live_windows=[])
    db.session.add(canteen)
    db.session.flush()
    area = KitchenArea(canteen_id=canteen.id, name="热菜区", kind="hot_kitchen", public=True)
    db.session.add(area)
    db.session.flush()
    db.session.add(Camera(area_id=area.id, name="热菜区摄像头", source_kind="rtsp", source_url="rtsp://10.9.9.9/s"))
    user = User(openid="regulator-ningbo", nickname="宁波市市场监管局")
    db.session.add(user)
    db.session.flush()
    grant_regulator(user, city, None)
    db.session.commit()
    return city, canteen.id, {"user": user.id}


def _start(client, headers, region_id, **body):
    return client.post(f"{API}/regions/{region_id}/patrols", headers=headers, json=body)


def test_a_patrol_round_is_recorded_with_what_was_watched_and_found(client, as_user, kitchen):
    regulator = as_user("demo-regulator")
    county = _county()
    started = _start(client, regulator, county.id, title="午餐时段视频巡查", canteen_ids=[2, 1])
    assert started.status_code == 201, started.json
    patrol = started.json
    assert patrol["status"] == "active" and patrol["title"] == "午餐时段视频巡查"
    assert [c["canteen_id"] for c in patrol["canteens"]] == [2, 1]
    assert [c["school_name"] for c in patrol["canteens"]] == ["文三路中学", "西湖实验小学"]
    # The wall walks canteen 2's cameras first, then canteen 1's; nothing publishes, so every one is offline.
    assert [c["id"] for c in patrol["cameras"]] == _cameras_of(2) + _cameras_of(1)
    assert all(c["live"] is False for c in patrol["cameras"])
    first, second, third = patrol["cameras"][0]["id"], patrol["cameras"][1]["id"], patrol["cameras"][2]["id"]

    # The wall shows two cameras, then rotates: the first view ends, the second goes on, the third starts.
    shown = client.post(f"{API}/patrols/{patrol['id']}/watching", headers=regulator,
                        json={"camera_ids": [first, second]})
    assert shown.status_code == 200, shown.json
    assert sorted(v["camera_id"] for v in shown.json["views"]) == sorted([first, second])
    rotated = client.post(f"{API}/patrols/{patrol['id']}/watching", headers=regulator,
                          json={"camera_ids": [second, third]})
    assert sorted(v["camera_id"] for v in rotated.json["views"]) == sorted([second, third])
    views = db.session.scalars(sa.select(PatrolView).order_by(PatrolView.id)).all()
    assert [(v.camera_id, v.ended_at is None) for v in views] == [(first, False), (second, True), (third, True)]
    assert views[0].ended_at >= views[0].started_at

    # A finding on a camera: a snapshot of it now is the evidence of the violation it opens, in one step.
    found = client.post(f"{API}/patrols/{patrol['id']}/findings", headers=regulator, json={
        "camera_id": second, "description": "操作人员未佩戴口罩", "severity": "major", "kind": "no_mask"})
    assert found.status_code == 201, found.json
    finding = found.json
    assert finding["camera_id"] == second and finding["violation_id"] and finding["school_name"] == "文三路中学"
    stored = db.session.get(PatrolFinding, finding["id"])
    assert object_store().get(stored.snapshot_key)[:2] == b"\xff\xd8"  # the JPEG the camera gave
    violation = db.session.get(Violation, finding["violation_id"])
    assert (violation.source, violation.kind, violation.camera_id) == ("patrol", "no_mask", second)
    assert violation.evidence == {"photos": [stored.snapshot_key]}
    # The school sees the snapshot as the violation's evidence.
    detail = client.get(f"{API}/violations/{violation.id}", headers=as_user("demo-principal-2"))
    assert detail.status_code == 200 and len(detail.json["evidence"]["photos"]) == 1

    # Ending closes every open view; the round is listed with its record afterwards.
    ended = client.post(f"{API}/patrols/{patrol['id']}/end", headers=regulator, json={"summary": "发现1个问题"})
    assert ended.status_code == 200, ended.json
    assert ended.json["status"] == "ended" and all(v["ended_at"] for v in ended.json["views"])
    listed = client.get(f"{API}/regions/{county.id}/patrols", headers=regulator)
    assert [(p["id"], p["view_count"], p["finding_count"]) for p in listed.json] == [(patrol["id"], 3, 1)]
    record = client.get(f"{API}/patrols/{patrol['id']}", headers=as_user("demo-regulator-2"))
    assert record.status_code == 200
    assert record.json["created_by_name"] == "西湖区市场监管局" and record.json["findings"][0]["snapshot_url"]
    # An ended round records nothing more.
    late = client.post(f"{API}/patrols/{patrol['id']}/watching", headers=regulator, json={"camera_ids": [first]})
    assert late.status_code == 409 and late.json["error"]["code"] == "patrol_ended"


def test_a_finding_can_be_filed_in_an_inspection_round(client, as_user, kitchen):
    regulator = as_user("demo-regulator")
    county = _county()
    inspection = client.post(f"{API}/regions/{county.id}/inspections", headers=regulator, json={
        "title": "联合检查", "planned_at": "2026-12-01T09:00:00", "inspector_ids": [user_id("demo-regulator-2")],
        "canteen_ids": [1]}).json
    patrol = _start(client, regulator, county.id, canteen_ids=[1]).json
    assert patrol["title"] == "西湖区视频巡查"
    camera = patrol["cameras"][0]["id"]
    found = client.post(f"{API}/patrols/{patrol['id']}/findings", headers=regulator, json={
        "camera_id": camera, "description": "生熟食品混放", "severity": "minor", "inspection_id": inspection["id"]})
    assert found.status_code == 201, found.json
    assert found.json["inspection_finding_id"] and found.json["violation_id"]
    round_ = client.get(f"{API}/inspections/{inspection['id']}", headers=regulator).json
    assert [f["id"] for f in round_["findings"]] == [found.json["inspection_finding_id"]]
    assert len(round_["findings"][0]["photos"]) == 1  # the snapshot
    violation = db.session.get(Violation, found.json["violation_id"])
    assert violation.source == "inspection"


def test_bad_findings_write_nothing(client, as_user, kitchen):
    regulator = as_user("demo-regulator")
    patrol = _start(client, regulator, _county().id, canteen_ids=[1]).json
    outside = _cameras_of(2)[0]
    cases = [
        ({"camera_id": outside, "description": "不在范围的摄像头", "severity": "minor"}, 422, "camera_not_in_patrol"),
        ({"camera_id": patrol["cameras"][0]["id"], "description": "短", "severity": "minor"}, 422, "validation_failed"),
        ({"camera_id": patrol["cameras"][0]["id"], "description": "严重程度不对", "severity": "huge"}, 422,
         "validation_failed"),
        ({"camera_id": patrol["cameras"][0]["id"], "description": "检查不存在的", "severity": "minor",
          "inspection_id": 999}, 422, "inspection_not_found"),
    ]
    for body, status, code in cases:
        answer = client.post(f"{API}/patrols/{patrol['id']}/findings", headers=regulator, json=body)
        assert (answer.status_code, answer.json["error"]["code"]) == (status, code), answer.json
        assert answer.json["error"]["message"]
    # A camera that gives no frame: 502 in Chinese, no finding, no violation.
    camera = db.session.get(Camera, patrol["cameras"][0]["id"])
    camera.source_url = "/nonexistent/video.mp4"
    db.session.commit()
    broken = client.post(f"{API}/patrols/{patrol['id']}/findings", headers=regulator,
                         json={"camera_id": camera.id, "description": "画面无法获取", "severity": "minor"})
    assert broken.status_code == 502 and broken.json["error"]["code"] == "camera_unreachable"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PatrolFinding)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 0


def test_nobody_patrols_outside_their_region(client, as_user, kitchen):
    county = _county()
    city, ningbo_canteen, _ = _other_region()
    regulator, ningbo = as_user("demo-regulator"), as_user("regulator-ningbo")
    # Starting a round in another region, or with another region's canteen, is refused.
    refused = _start(client, regulator, city.id)
    assert refused.status_code == 403 and refused.json["error"]["message"] == "只有该地区的监管人员可以开展视频巡查"
    foreign = _start(client, regulator, county.id, canteen_ids=[1, ningbo_canteen])
    assert foreign.status_code == 422 and foreign.json["error"]["code"] == "canteen_not_in_region"
    assert foreign.json["error"]["details"]["canteen_ids"] == [ningbo_canteen]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PatrolRound)) == 0
    # The county's round is invisible to Ningbo's regulator; only its starter records on it.
    patrol = _start(client, regulator, county.id).json
    assert sorted(c["canteen_id"] for c in patrol["canteens"]) == [1, 2]
    for method, path, body in (("get", f"/patrols/{patrol['id']}", None),
                               ("post", f"/patrols/{patrol['id']}/watching", {"camera_ids": []}),
                               ("post", f"/patrols/{patrol['id']}/end", {}),
                               ("get", f"/regions/{county.id}/patrols", None)):
        answer = getattr(client, method)(f"{API}{path}", headers=ningbo, json=body)
        assert answer.status_code == 403, (path, answer.json)
    colleague = client.post(f"{API}/patrols/{patrol['id']}/watching", headers=as_user("demo-regulator-2"),
                            json={"camera_ids": []})
    assert colleague.status_code == 403 and colleague.json["error"]["code"] == "not_patrol_owner"
    # School staff do not patrol, not even their own school.
    for openid in ("demo-principal-1", "demo-staff-1", "demo-parent-1"):
        assert _start(client, as_user(openid), county.id).status_code == 403
        assert client.get(f"{API}/patrols/{patrol['id']}", headers=as_user(openid)).status_code == 403
    assert _start(client, as_user("demo-regulator"), 999999).status_code == 404


def test_the_camera_tree_shows_what_each_user_may_watch_any_time(client, as_user, kitchen):
    _other_region()
    tree = client.get(f"{API}/live/camera-tree", headers=as_user("demo-regulator"))
    assert tree.status_code == 200
    regions = tree.json["regions"]
    assert [r["name"] for r in regions] == ["西湖区"]
    assert [s["name"] for s in regions[0]["schools"]] == ["西湖实验小学", "文三路中学"]
    canteen = regions[0]["schools"][0]["canteens"][0]
    cameras = [c for area in canteen["areas"] for c in area["cameras"]]
    assert [c["id"] for c in cameras] == _cameras_of(canteen["id"])
    assert all(c["live"] is False and c["enabled"] is True for c in cameras)  # nothing publishes: offline
    # A principal sees their own school; a parent (public areas in live windows only) gets no tree.
    principal = client.get(f"{API}/live/camera-tree", headers=as_user("demo-principal-2")).json["regions"]
    assert [s["name"] for r in principal for s in r["schools"]] == ["文三路中学"]
    assert client.get(f"{API}/live/camera-tree", headers=as_user("demo-parent-1")).json == {"regions": []}
    ningbo = client.get(f"{API}/live/camera-tree", headers=as_user("regulator-ningbo")).json["regions"]
    assert [s["name"] for r in ningbo for s in r["schools"]] == ["宁波实验小学"]
    assert db.session.scalar(sa.select(School.id).where(School.name == "宁波实验小学"))
    assert client.get(f"{API}/live/camera-tree").status_code == 401


def test_times_are_shanghai(client, as_user, kitchen):
    patrol = _start(client, as_user("demo-regulator"), _county().id, canteen_ids=[1]).json
    assert patrol["started_at"].endswith("+08:00")
    assert datetime.fromisoformat(patrol["started_at"]) <= datetime.now(UTC)
