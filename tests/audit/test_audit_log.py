"""The audit log: who watched which camera, who changed what and who exported what is written by the actions
themselves, and readable only by the school's principal and the region's regulators."""

from __future__ import annotations

import sqlalchemy as sa

from backend.accounts.models import User
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.timeutil import utcnow
from tests.live.conftest import ALL_DAY, mark_live, set_live_windows

SECRET_URL = "rtsp://10.1.2.3:554/Streaming/Channels/101"


def _user_id(openid: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.openid == openid))


def _public_camera(school_id: int) -> int:
    return db.session.scalar(sa.select(Camera.id).join(KitchenArea, Camera.area_id == KitchenArea.id)
                             .join(Canteen, KitchenArea.canteen_id == Canteen.id)
                             .where(Canteen.school_id == school_id, KitchenArea.public.is_(True))
                             .order_by(Camera.id).limit(1))


def _audit(client, as_user, openid: str, school_id: int = 1):
    return client.get(f"/api/v1/schools/{school_id}/audit", headers=as_user(openid))


def test_watching_changing_and_exporting_are_audited_for_the_principal_and_the_regulator(client, as_user, demo):
    camera_id = _public_camera(1)
    set_live_windows(1, ALL_DAY)
    mark_live(camera_id, utcnow())
    today = utcnow().date().isoformat()

    watched = client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=as_user("demo-parent-1"))
    assert watched.status_code == 200, watched.json
    changed = client.patch(f"/api/v1/cameras/{camera_id}", headers=as_user("demo-principal-1"),
                           json={"name": "热菜区一号", "source_url": SECRET_URL})
    assert changed.status_code == 200, changed.json
    exported = client.get("/api/v1/canteens/1/records/export", headers=as_user("demo-regulator"),
                          query_string={"from": today, "to": today})
    assert exported.status_code == 200
    refused = client.post(f"/api/v1/live/cameras/{_public_camera(2)}/play", headers=as_user("demo-parent-1"))
    assert refused.status_code == 403  # a refused play is not a viewing

    log = _audit(client, as_user, "demo-principal-1")
    assert log.status_code == 200
    rows = {row["action"]: row for row in log.json}
    assert [row["action"] for row in log.json][:3] == ["records.export", "camera.update", "live.play"]
    assert (rows["live.play"]["actor_id"], rows["live.play"]["target_type"], rows["live.play"]["target_id"]) == (
        _user_id("demo-parent-1"), "camera", camera_id)
    assert rows["live.play"]["details"]["viewer"] == "parent"
    assert (rows["camera.update"]["actor_id"], rows["camera.update"]["target_id"]) == (
        _user_id("demo-principal-1"), camera_id)
    assert SECRET_URL not in str(rows["camera.update"]["details"])  # the secret's change is logged, not its value
    assert (rows["records.export"]["actor_id"], rows["records.export"]["target_type"]) == (
        _user_id("demo-regulator"), "canteen")
    assert rows["records.export"]["details"]["from"] == today
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "live.play")) == 1

    # The region's regulator reads the same log; nobody else at the school, and no other school's principal.
    assert [row["id"] for row in _audit(client, as_user, "demo-regulator").json] == [row["id"] for row in log.json]
    for openid in ("demo-staff-1", "demo-manager-1", "demo-committee-1", "demo-parent-1", "demo-principal-2"):
        response = _audit(client, as_user, openid)
        assert response.status_code == 403, openid
    other = _audit(client, as_user, "demo-principal-2", school_id=2)
    assert other.status_code == 200
    assert not {row["id"] for row in other.json} & {row["id"] for row in log.json}
    assert client.get("/api/v1/schools/1/audit").status_code == 401
