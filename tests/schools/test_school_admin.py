"""What the console's 学校管理 page does through the API: canteen windows, areas, camera settings with write-only
secrets, the demo's waiting parent, and one school's principal who cannot manage another school."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.schools.models import Camera, Canteen, KitchenArea


def _canteen(school_id: int) -> Canteen:
    return db.session.scalar(sa.select(Canteen).where(Canteen.school_id == school_id).order_by(Canteen.id))


def _camera(school_id: int) -> Camera:
    return db.session.scalar(sa.select(Camera).join(KitchenArea).where(KitchenArea.canteen_id == _canteen(school_id).id)
                             .order_by(Camera.id))


def _audits(action: str, target_id: int) -> list[dict]:
    return list(db.session.scalars(sa.select(AuditLog.details).where(AuditLog.action == action,
                                                                     AuditLog.target_id == target_id)))


def test_the_principal_edits_a_canteens_live_windows(client, demo, as_user):
    canteen_id = _canteen(demo["西湖实验小学"]).id
    windows = [{"weekday": 0, "start": "11:00", "end": "12:30"}, {"weekday": 6, "start": "00:00", "end": "23:59"}]
    response = client.patch(f"/api/v1/canteens/{canteen_id}", json={"live_windows": windows},
                            headers=as_user("demo-principal-1"))
    assert response.status_code == 200, response.json
    assert response.json["live_windows"] == windows
    seen_by_parent = client.get(f"/api/v1/canteens/{canteen_id}", headers=as_user("demo-parent-1")).json
    assert seen_by_parent["live_windows"] == windows
    assert _audits("canteen.update", canteen_id) == [{"live_windows": windows}]


def test_a_window_that_ends_before_it_starts_is_refused_next_to_its_field(client, demo, as_user):
    canteen = _canteen(demo["西湖实验小学"])
    before = list(canteen.live_windows)
    response = client.patch(f"/api/v1/canteens/{canteen.id}", headers=as_user("demo-principal-1"),
                            json={"name": "新食堂", "live_windows": [{"weekday": 1, "start": "13:00", "end": "12:00"}]})
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"]["live_windows"] == {"0": {"end": ["结束时间必须晚于开始时间"]}}
    db.session.expire_all()
    assert (canteen.name, canteen.live_windows) == ("学生食堂", before)


def test_camera_settings_change_and_secrets_are_only_said_to_be_set(client, demo, as_user):
    camera = _camera(demo["西湖实验小学"])
    other_area = db.session.scalar(sa.select(KitchenArea.id).where(KitchenArea.canteen_id == camera.area.canteen_id,
                                                                   KitchenArea.id != camera.area_id))
    principal = as_user("demo-principal-1")
    listed = client.get(f"/api/v1/canteens/{camera.area.canteen_id}/cameras", headers=principal).json
    assert {(c["source_url_set"], c["credentials_set"]) for c in listed} == {(True, False)}
    changes = {"name": "主操作间A", "area_id": other_area, "sampling_interval_seconds": 30, "enabled": False,
               "work_hours": [{"weekday": 2, "start": "06:00", "end": "14:00"}], "enabled_checks": ["no_mask"],
               "source_username": "admin", "source_password": "s3cret-pw"}
    response = client.patch(f"/api/v1/cameras/{camera.id}", json=changes, headers=principal)
    assert response.status_code == 200, response.json
    body = response.get_data(as_text=True)
    assert "s3cret-pw" not in body and "source_url\"" not in body
    assert response.json["credentials_set"] is True and response.json["area_id"] == other_area
    assert (response.json["sampling_interval_seconds"], response.json["enabled"]) == (30, False)
    [audit] = _audits("camera.update", camera.id)
    assert audit["source_password"] == "***" and audit["source_username"] == "***" and audit["name"] == "主操作间A"
    cleared = client.patch(f"/api/v1/cameras/{camera.id}", json={"source_username": None, "source_password": None},
                           headers=principal)
    assert cleared.json["credentials_set"] is False
    refused = client.patch(f"/api/v1/cameras/{camera.id}", json={"sampling_interval_seconds": 0}, headers=principal)
    assert refused.status_code == 422 and "sampling_interval_seconds" in refused.json["error"]["details"]["fields"]


def test_the_principal_approves_the_demo_seeds_waiting_parent(client, demo, as_user):
    principal = as_user("demo-principal-1")
    [waiting] = client.get("/api/v1/schools/1/memberships?status=pending", headers=principal).json
    assert (waiting["applicant_name"], waiting["child_class"], waiting["nickname"]) == ("王小明妈妈", "一年级一班",
                                                                                         "王小明家长")
    decided = client.post(f"/api/v1/memberships/{waiting['id']}/decision", json={"approve": True}, headers=principal)
    assert decided.status_code == 200 and decided.json["status"] == "active"
    assert client.get("/api/v1/schools/1/memberships?status=pending", headers=principal).json == []


def _school_1_targets() -> dict[str, int]:
    camera = _camera(1)
    return {"canteen": camera.area.canteen_id, "area": camera.area_id, "camera": camera.id}


@pytest.mark.parametrize(("method", "path", "body"), [
    ("patch", "/api/v1/canteens/{canteen}", {"live_windows": []}),
    ("post", "/api/v1/schools/1/canteens", {"name": "第二食堂"}),
    ("patch", "/api/v1/areas/{area}", {"public": True}),
    ("post", "/api/v1/canteens/{canteen}/areas", {"name": "仓库", "kind": "storage"}),
    ("patch", "/api/v1/cameras/{camera}", {"name": "x"}),
    ("post", "/api/v1/schools/1/classes", {"name": "八年级一班"}),
    ("post", "/api/v1/schools/1/invites", {"role": "manager"}),
    ("get", "/api/v1/schools/1/invites", None),
    ("get", "/api/v1/schools/1/memberships", None),
    ("put", "/api/v1/schools/1/notice-settings", {"published_kinds": []}),
])
def test_one_schools_principal_cannot_manage_another_school(client, demo, as_user, method, path, body):
    url = path.format(**_school_1_targets())
    response = getattr(client, method)(url, json=body, headers=as_user("demo-principal-2"))
    assert response.status_code == 403, response.json
    assert response.json["error"]["code"] == "forbidden"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.actor_id == db.session.scalar(
                                 sa.text("select id from user_account where openid = 'demo-principal-2'")))) == 0


def test_the_other_schools_principal_cannot_decide_or_revoke_this_schools_bindings(client, demo, as_user):
    [waiting] = client.get("/api/v1/schools/1/memberships?status=pending", headers=as_user("demo-principal-1")).json
    outsider = as_user("demo-principal-2")
    assert client.post(f"/api/v1/memberships/{waiting['id']}/decision", json={"approve": True},
                       headers=outsider).status_code == 403
    assert client.post(f"/api/v1/memberships/{waiting['id']}/revoke", json={}, headers=outsider).status_code == 403
    assert client.get("/api/v1/schools/1/memberships?status=pending",
                      headers=as_user("demo-principal-1")).json[0]["status"] == "pending"
