"""Camera sources through the API: stored write-only, and refused when they could not be one line of ffmpeg's input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.schools.models import Camera, KitchenArea


def _area_of_school_1() -> int:
    return db.session.scalar(sa.select(KitchenArea.id).order_by(KitchenArea.id))


def test_a_camera_is_created_with_a_write_only_source(client, demo, as_user):
    area_id = _area_of_school_1()
    response = client.post(f"/api/v1/areas/{area_id}/cameras", headers=as_user("demo-principal-1"), json={
        "name": "洗消间", "source_kind": "rtsp", "source_url": "rtsp://10.0.0.9/Streaming/Channels/101",
        "source_username": "admin", "source_password": "p@ss word"})
    assert response.status_code == 201, response.json
    assert "source_url" not in response.json and "p@ss word" not in response.get_data(as_text=True)
    camera = db.session.get(Camera, response.json["id"])
    assert camera.source_url == "rtsp://10.0.0.9/Streaming/Channels/101" and camera.source_password == "p@ss word"


@pytest.mark.parametrize("source_url", ["rtsp://10.0.0.9/101\nfile 'file:/etc/passwd'", "rtsp://10.0.0.9/1\r01",
                                        "rtsp://10.0.0.9/\x00", "rtsp://10.0.0.9/\x7f"])
def test_a_source_with_a_line_break_or_control_character_is_refused(client, demo, as_user, source_url):
    area_id = _area_of_school_1()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Camera))
    response = client.post(f"/api/v1/areas/{area_id}/cameras", headers=as_user("demo-principal-1"), json={
        "name": "洗消间", "source_kind": "rtsp", "source_url": source_url})
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"]["source_url"] == ["不能包含换行或其他控制字符"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Camera)) == before

    camera_id = db.session.scalar(sa.select(Camera.id).where(Camera.area_id == area_id).order_by(Camera.id))
    patched = client.patch(f"/api/v1/cameras/{camera_id}", headers=as_user("demo-principal-1"),
                           json={"source_url": source_url})
    assert patched.status_code == 422
    assert "\n" not in db.session.get(Camera, camera_id).source_url


def test_a_camera_that_pushes_needs_no_source_and_others_do(client, demo, as_user):
    area_id = _area_of_school_1()
    headers = as_user("demo-principal-1")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Camera))
    for body in ({"name": "后厨", "source_kind": "rtsp"}, {"name": "后厨", "source_kind": "rtsp", "source_url": "  "}):
        refused = client.post(f"/api/v1/areas/{area_id}/cameras", headers=headers, json=body)
        assert refused.status_code == 422 and refused.json["error"]["code"] == "source_url_required"
        assert refused.json["error"]["details"]["fields"]["source_url"] == ["请填写视频源地址"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Camera)) == before

    pushed = client.post(f"/api/v1/areas/{area_id}/cameras", headers=headers,
                         json={"name": "后厨（4G 推流）", "source_kind": "push"})
    assert pushed.status_code == 201, pushed.json
    assert pushed.json["source_kind"] == "push" and pushed.json["source_url_set"] is False
    # Back to a source the platform reads: its URL is needed then.
    refused = client.patch(f"/api/v1/cameras/{pushed.json['id']}", headers=headers, json={"source_kind": "rtsp"})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "source_url_required"
    changed = client.patch(f"/api/v1/cameras/{pushed.json['id']}", headers=headers,
                           json={"source_kind": "rtsp", "source_url": "rtsp://10.0.0.9/101"})
    assert changed.status_code == 200 and changed.json["source_url_set"] is True
    # And a camera that had a source can be switched to pushing without one.
    assert client.patch(f"/api/v1/cameras/{pushed.json['id']}", headers=headers,
                        json={"source_kind": "push"}).status_code == 200
