"""POST /api/v1/live/cameras/<id>/play and the live lobby: roles, public areas, live windows, caps, audit."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.integrations import media
from tests.live.conftest import ALL_DAY, HOOK_SECRET, mark_all_live, mark_live, set_live_windows

WEEKDAY_WINDOWS = [{"weekday": d, "start": s, "end": e} for d in range(5)
                   for s, e in (("06:30", "13:30"), ("16:30", "19:00"))]


@pytest.fixture
def live(demo, clock, camera_ids):
    """Demo cameras publishing, Monday 10:00 in Shanghai, weekday live windows."""
    set_live_windows(1, WEEKDAY_WINDOWS)
    return mark_all_live(camera_ids, clock.now)


def _move_clock(clock, cameras, **fields):
    """Move the clock; the cameras keep publishing (the media server keeps reporting them)."""
    clock.now = clock.now.replace(**fields)
    mark_all_live(cameras, clock.now)


def _play(client, as_user, openid, camera_id):
    return client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=as_user(openid))


def _token_of(body):
    return parse_qs(urlsplit(body["rtmp_url"]).query)["token"][0]


def test_a_parent_gets_signed_urls_of_a_public_camera_in_the_window(client, as_user, live, app, media_ports):
    response = _play(client, as_user, "demo-parent-1", live["public"])
    assert response.status_code == 200, response.json
    body = response.json
    token = _token_of(body)
    assert body["rtmp_url"] == f"rtmp://127.0.0.1:{media_ports['rtmp']}/live/cam-{live['public']}?token={token}"
    assert body["hls_url"] == f"http://127.0.0.1:{media_ports['http']}/hls/{token}/cam-{live['public']}.m3u8"
    assert body["expires_at"] == "2026-11-23T10:01:00+08:00"
    assert body["window_closes_at"] == "2026-11-23T13:30:00+08:00"
    assert body["viewer"] == "parent"
    verified = media.verify_token(media.derive_key(app.config["SECRET_KEY"]), token, now=1_795_400_000,
                                  kind=media.TokenKind.PLAY, check_expiry=False)
    parent_id = db.session.scalar(sa.text("SELECT id FROM user_account WHERE openid='demo-parent-1'"))
    assert (verified.user_id, verified.camera_id, verified.school_id, verified.privileged) == (
        parent_id, live["public"], 1, False)


def test_every_play_is_an_audit_row(client, as_user, live):
    _play(client, as_user, "demo-parent-1", live["public"])
    _play(client, as_user, "demo-staff-1", live["private"])
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.play").order_by(AuditLog.id)).all()
    assert [(r.school_id, r.target_type, r.target_id, r.details["viewer"]) for r in rows] == [
        (1, "camera", live["public"], "parent"), (1, "camera", live["private"], "staff")]
    assert all(len(r.details["token_id"]) == 16 for r in rows)


def test_outside_the_window_a_parent_is_told_the_next_opening(client, as_user, live, clock):
    clock.now = clock.now.replace(hour=6)  # 14:00 in Shanghai, between the lunch and dinner windows
    response = _play(client, as_user, "demo-parent-1", live["public"])
    assert response.status_code == 403
    assert response.json["error"] == {
        "code": "live_window_closed", "message": "当前不在直播开放时间，下次开放时间：11月23日（周一）16:30",
        "details": {"next_open_at": "2026-11-23T16:30:00+08:00", "timezone": "Asia/Shanghai"}}
    clock.now = clock.now.replace(day=28)  # Saturday
    error = _play(client, as_user, "demo-committee-1", live["public"]).json["error"]
    assert error["details"]["next_open_at"] == "2026-11-30T06:30:00+08:00"
    assert error["message"].endswith("11月30日（周一）06:30")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "live.play")) == 0


def test_staff_and_regulators_watch_any_area_at_any_time(client, as_user, live, clock):
    _move_clock(clock, live, day=28, hour=15)  # Saturday 23:00
    for openid in ("demo-manager-1", "demo-staff-1", "demo-principal-1", "demo-regulator", "demo-admin"):
        response = _play(client, as_user, openid, live["private"])
        assert response.status_code == 200, (openid, response.json)
        assert response.json["window_closes_at"] is None


def test_parents_never_watch_a_private_area(client, as_user, live):
    for openid in ("demo-parent-1", "demo-committee-1"):
        response = _play(client, as_user, openid, live["private"])
        assert response.status_code == 403
        assert response.json["error"]["code"] == "live_area_not_public"
        assert response.json["error"]["message"] == "该区域不对家长开放直播"


def test_no_windows_at_all_is_its_own_error(client, as_user, live):
    set_live_windows(1, [])
    error = _play(client, as_user, "demo-parent-1", live["public"]).json["error"]
    assert (error["code"], error["message"]) == ("live_not_scheduled", "食堂尚未设置直播开放时间")


def test_one_school_never_watches_another(client, as_user, live):
    assert _play(client, as_user, "demo-parent-1", live["other"]).status_code == 403
    assert _play(client, as_user, "demo-staff-1", live["other"]).status_code == 403
    assert _play(client, as_user, "demo-parent-2", live["other"]).status_code == 200


def test_an_offline_or_disabled_camera_is_a_clear_conflict(client, as_user, live, clock):
    from backend.live.models import CameraStream
    from backend.schools.models import Camera

    db.session.get(CameraStream, live["public"]).publishing = False
    db.session.commit()
    error = _play(client, as_user, "demo-parent-1", live["public"]).json["error"]
    assert (error["code"], error["message"]) == ("camera_offline", "摄像头暂未开播，请稍后再试")
    mark_live(live["public"], clock.now - timedelta(seconds=61))  # a media server that went silent
    assert _play(client, as_user, "demo-parent-1", live["public"]).json["error"]["code"] == "camera_offline"
    mark_live(live["public"], clock.now)
    db.session.get(Camera, live["public"]).enabled = False
    db.session.commit()
    response = _play(client, as_user, "demo-staff-1", live["public"])
    assert (response.status_code, response.json["error"]["code"]) == (409, "camera_disabled")


def _open_sessions(camera_id, school_id, count, now, privileged=False, start=0):
    from backend.live.models import ViewSession

    parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE openid='demo-parent-1'"))
    for index in range(start, start + count):
        db.session.add(ViewSession(token_id=f"t{camera_id}-{index}", user_id=parent, camera_id=camera_id,
                                   school_id=school_id, privileged=privileged, protocol="rtmp", opened_at=now,
                                   last_seen_at=now, policy_checked_at=now))
    db.session.commit()


def test_viewer_caps_per_camera_and_per_school(app, client, as_user, live, clock):
    from backend.live.settings import live_settings

    settings = live_settings()
    object.__setattr__(settings, "max_per_camera", 2)
    object.__setattr__(settings, "max_per_school", 3)
    _open_sessions(live["public"], 1, 2, clock.now)
    response = _play(client, as_user, "demo-parent-1", live["public"])
    assert response.status_code == 429
    assert response.json["error"] == {"code": "live_viewers_full", "message": "当前观看人数已满，请稍后再试",
                                      "details": {"camera_limit": 2, "school_limit": 3}}
    # Staff are never turned away by the cap.
    assert _play(client, as_user, "demo-staff-1", live["public"]).status_code == 200
    # Another camera of the school has room until the school's cap is reached.
    second_public = db.session.scalar(sa.text(
        "SELECT c.id FROM camera c JOIN kitchen_area a ON a.id=c.area_id WHERE a.public AND a.canteen_id=1 "
        "AND c.id != :first ORDER BY c.id"), {"first": live["public"]})
    mark_live(second_public, clock.now)
    assert _play(client, as_user, "demo-parent-1", second_public).status_code == 200
    _open_sessions(second_public, 1, 1, clock.now)
    assert _play(client, as_user, "demo-parent-1", second_public).status_code == 429
    # Sessions the media server stopped reporting no longer count.
    clock.now = clock.now + timedelta(seconds=61)
    mark_live(live["public"], clock.now)
    assert _play(client, as_user, "demo-parent-1", live["public"]).status_code == 200


def test_the_lobby_shows_parents_public_cameras_and_the_window(client, as_user, live, clock):
    response = client.get("/api/v1/live/canteens/1/cameras", headers=as_user("demo-parent-1"))
    assert response.status_code == 200
    body = response.json
    assert (body["any_time"], body["open_now"], body["window_closes_at"], body["next_open_at"]) == (
        False, True, "2026-11-23T13:30:00+08:00", None)
    # The fixture marks the first public camera live; the second public camera is not publishing.
    assert [(c["id"], c["area_public"], c["live"]) for c in body["cameras"]] == [
        (live["public"], True, True), (live["public"] + 1, True, False)]
    clock.now = clock.now.replace(hour=12)  # 20:00
    body = client.get("/api/v1/live/canteens/1/cameras", headers=as_user("demo-parent-1")).json
    assert (body["open_now"], body["next_open_at"]) == (False, "2026-11-24T06:30:00+08:00")
    staff = client.get("/api/v1/live/canteens/1/cameras", headers=as_user("demo-staff-1")).json
    assert (staff["any_time"], staff["open_now"], len(staff["cameras"])) == (True, True, 3)


def test_publish_key_rotation_shows_the_key_once_and_keeps_only_a_hash(client, as_user, demo, camera_ids, clock,
                                                                       media_ports):
    from backend.live.models import CameraStream

    response = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/publish-key",
                           headers=as_user("demo-staff-1"))
    assert response.status_code == 201
    body = response.json
    key = body["publish_key"]
    assert body["publish_url"] == (f"rtmp://127.0.0.1:{media_ports['rtmp']}/live/cam-{camera_ids['public']}"
                                   f"?key={key}")
    stream = db.session.get(CameraStream, camera_ids["public"])
    assert stream.publish_key_hash == media.hash_publish_key(key) and key not in stream.publish_key_hash
    again = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/publish-key", headers=as_user("demo-staff-1"))
    assert again.json["publish_key"] != key
    db.session.expire_all()
    assert not media.publish_key_matches(key, db.session.get(CameraStream, camera_ids["public"]).publish_key_hash)
    assert client.post(f"/api/v1/live/cameras/{camera_ids['public']}/publish-key",
                       headers=as_user("demo-parent-1")).status_code == 403
    audit = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "camera",
                                                                AuditLog.target_id == camera_ids["public"])).all()
    assert audit == ["live.publish_key_rotated", "live.publish_key_rotated"]


def test_play_answers_never_carry_the_camera_source(client, as_user, live, caplog):
    from backend.schools.models import Camera

    camera = db.session.get(Camera, live["public"])
    camera.source_url, camera.source_username, camera.source_password = (
        "rtsp://10.9.8.7:554/Streaming/Channels/101", "cam-admin", "S3cret-pass!")
    db.session.commit()
    caplog.set_level("DEBUG")
    bodies = [_play(client, as_user, "demo-parent-1", live["public"]).get_data(as_text=True),
              client.get("/api/v1/live/canteens/1/cameras", headers=as_user("demo-staff-1")).get_data(as_text=True)]
    for text in [*bodies, caplog.text]:
        for secret in ("10.9.8.7", "Streaming/Channels", "cam-admin", "S3cret-pass!", HOOK_SECRET):
            assert secret not in text


def test_all_day_windows_are_always_open(client, as_user, live, clock):
    set_live_windows(1, ALL_DAY)
    for hour in (0, 8, 15, 23):
        _move_clock(clock, live, day=29, hour=hour)
        assert _play(client, as_user, "demo-parent-1", live["public"]).status_code == 200
