"""Playback: a camera's day as a timeline, play from a time, and clips cut with ffmpeg from real recordings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.live.models import RecordingSegment
from backend.monitoring.models import CameraHealthEvent
from tests.live.media_files import make_flv, probe
from tests.live.test_recordings import _download, _index

START = 1795398900  # 2026-11-23 09:55:00 Asia/Shanghai, five minutes before the clock fixture
DAY = "2026-11-23"


@pytest.fixture
def recorded(hook, demo, clock, camera_ids, app):
    """Two contiguous real recordings of 4 s each (09:55:00–09:55:08) of the own public camera, stored."""
    from pathlib import Path

    from backend.live.recordings import ingest_pending

    camera = camera_ids["public"]
    record_dir = Path(app.config["LIVE_RECORD_DIR"])
    segments = []
    for offset in (0, 4):
        path = make_flv(record_dir / f"cam-{camera}-{START + offset}.flv", seconds=4.0)
        segments.append(_index(hook, camera, path))
    assert ingest_pending(clock.now).stored == 2
    for segment in segments:
        db.session.refresh(segment)
    return camera, segments


def _mark_violation_and_health(camera_id: int) -> int:
    from backend.schools.models import Camera
    from backend.violations.services import raise_violation

    camera = db.session.get(Camera, camera_id)
    at = datetime.fromtimestamp(START + 6, UTC)
    violation = raise_violation(canteen_id=camera.area.canteen_id, kind="no_mask", source="ai",
                                idempotency_key="playback-test", occurred_at=at, camera_id=camera_id).violation
    db.session.add(CameraHealthEvent(camera_id=camera_id, at=datetime.fromtimestamp(START + 9, UTC),
                                     from_status="ok", to_status="offline", problems=["offline"], metrics={}))
    db.session.commit()
    return violation.id


def test_the_day_timeline_has_recordings_gaps_and_marks(client, as_user, clock, recorded):
    camera, segments = recorded
    violation_id = _mark_violation_and_health(camera)
    response = client.get(f"/api/v1/live/cameras/{camera}/playback?day={DAY}", headers=as_user("demo-staff-1"))
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["day"], body["start"], body["end"]) == (DAY, f"{DAY}T00:00:00+08:00", "2026-11-24T00:00:00+08:00")
    assert [r["id"] for r in body["recordings"]] == [s.id for s in segments]
    assert [r["started_at"][11:19] for r in body["recordings"]] == ["09:55:00", "09:55:04"]
    # Before the first recording and after the last one up to now (10:00, the clock): the future is no gap.
    assert [(g["start"][11:19], g["end"][11:19]) for g in body["gaps"]] == [("00:00:00", "09:55:00"),
                                                                            ("09:55:08", "10:00:00")]
    assert body["violations"] == [{"id": violation_id, "kind": "no_mask", "title": body["violations"][0]["title"],
                                   "status": "open", "at": f"{DAY}T09:55:06+08:00"}]
    assert body["health"] == [{"at": f"{DAY}T09:55:09+08:00", "status": "offline", "label": "离线",
                               "from_status": "ok"}]
    other_day = client.get(f"/api/v1/live/cameras/{camera}/playback?day=2026-11-22", headers=as_user("demo-regulator"))
    assert other_day.status_code == 200
    assert (other_day.json["recordings"], other_day.json["violations"]) == ([], [])
    assert len(other_day.json["gaps"]) == 1  # the whole day
    missing = client.get(f"/api/v1/live/cameras/{camera}/playback", headers=as_user("demo-staff-1"))
    assert missing.status_code == 422 and "day" in missing.json["error"]["details"]["fields"]


def test_playing_from_a_marked_time_gives_the_segment_and_offset(client, as_user, clock, recorded, tmp_path):
    camera, segments = recorded
    response = client.post(f"/api/v1/live/cameras/{camera}/playback/play", json={"at": f"{DAY}T09:55:06"},
                           headers=as_user("demo-regulator"))
    assert response.status_code == 200, response.json
    assert (response.json["id"], response.json["offset_seconds"]) == (segments[1].id, 2.0)
    assert probe(_download(client, response.json["url"]), tmp_path)["codec"] == "h264"
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.recording_play")).all()
    assert [(a.target_id, a.details["offset"]) for a in audit] == [(segments[1].id, 2.0)]
    gap = client.post(f"/api/v1/live/cameras/{camera}/playback/play", json={"at": f"{DAY}T09:58:00"},
                      headers=as_user("demo-regulator"))
    assert (gap.status_code, gap.json["error"]["code"], gap.json["error"]["message"]) == (
        404, "recording_not_found", "该时间没有录像")


def test_a_recording_is_served_in_ranges_so_players_can_seek(client, as_user, clock, recorded):
    _, segments = recorded
    url = client.post(f"/api/v1/live/recordings/{segments[0].id}/play", headers=as_user("demo-staff-1")).json["url"]
    whole = _download(client, url)
    part = client.get(url.replace("http://localhost", ""), headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == whole[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"


def _clip(client, headers, camera, start, end):
    """A clip made through the API (201 expected): its answer."""
    response = client.post(f"/api/v1/live/cameras/{camera}/clips", json={"start": start, "end": end}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_a_clip_across_two_segments_is_one_valid_mp4_and_audited(client, as_user, clock, recorded, tmp_path):
    camera, segments = recorded
    body = _clip(client, as_user("demo-staff-1"), camera, f"{DAY}T09:55:02", f"{DAY}T09:55:07")
    assert body["copied"] is True  # 09:55:02 is a keyframe (one every second): the video is copied
    assert (body["start"], body["end"]) == (f"{DAY}T09:55:02+08:00", f"{DAY}T09:55:07+08:00")
    assert body["filename"] == f"camera-{camera}-20261123-095502.mp4"
    clip = probe(_download(client, body["url"]), tmp_path)
    assert (clip["codec"], clip["width"], clip["height"]) == ("h264", 768, 576)
    assert "mp4" in clip["format"] and clip["duration"] == pytest.approx(5.0, abs=0.25)
    assert body["duration_seconds"] == pytest.approx(5.0, abs=0.25)
    [audit] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.clip_download")).all()
    assert (audit.target_type, audit.target_id, audit.school_id) == ("camera", camera, 1)
    assert audit.details["segments"] == [s.id for s in segments]
    assert audit.details["start"] == "2026-11-23T01:55:02+00:00" and audit.details["end"] == "2026-11-23T01:55:07+00:00"
    assert audit.actor_id is not None


def test_a_clip_starting_between_keyframes_is_re_encoded(client, as_user, clock, recorded, tmp_path):
    camera, _ = recorded
    body = _clip(client, as_user("demo-regulator"), camera, f"{DAY}T09:55:01.5+08:00", f"{DAY}T09:55:03.5+08:00")
    assert body["copied"] is False
    clip = probe(_download(client, body["url"]), tmp_path)
    assert clip["codec"] == "h264" and clip["duration"] == pytest.approx(2.0, abs=0.25)


def test_bad_clip_spans_are_refused_and_store_nothing(client, as_user, clock, recorded, app):
    from pathlib import Path

    camera, _ = recorded
    headers = as_user("demo-staff-1")

    def clip(start, end):
        response = client.post(f"/api/v1/live/cameras/{camera}/clips", json={"start": start, "end": end},
                               headers=headers)
        return response.status_code, response.json["error"]["code"], response.json["error"]["message"]

    assert clip(f"{DAY}T09:56:00", f"{DAY}T09:57:00") == (404, "recording_not_found", "所选时段没有录像")
    assert clip(f"{DAY}T09:55:05", f"{DAY}T09:55:01") == (422, "invalid_time_range", "结束时间必须晚于开始时间")
    assert clip(f"{DAY}T09:50:00", f"{DAY}T10:00:01") == (422, "clip_too_long", "剪辑时长不能超过 10 分钟")
    assert not (Path(app.config["STORAGE_LOCAL_PATH"]) / "clips").exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "live.clip_download")) == 0


def test_a_clip_that_ffmpeg_cannot_cut_is_a_clear_503_with_nothing_stored(client, as_user, clock, recorded, app,
                                                                         monkeypatch):
    from pathlib import Path

    from backend.live import clips

    camera, _ = recorded

    def killed(*args, **kwargs):
        raise clips.subprocess.TimeoutExpired("ffmpeg", clips.CLIP_TIMEOUT)

    monkeypatch.setattr(clips.subprocess, "run", killed)
    response = client.post(f"/api/v1/live/cameras/{camera}/clips",
                           json={"start": f"{DAY}T09:55:00", "end": f"{DAY}T09:55:03"}, headers=as_user("demo-staff-1"))
    assert (response.status_code, response.json["error"]["code"]) == (503, "clip_failed")
    assert not (Path(app.config["STORAGE_LOCAL_PATH"]) / "clips").exists()


def test_parents_and_other_schools_get_no_playback(client, as_user, clock, recorded, camera_ids):
    camera, _ = recorded
    for openid in ("demo-parent-1", "demo-committee-1", "demo-staff-2", "demo-principal-2", "demo-parent-2"):
        headers = as_user(openid)
        assert client.get(f"/api/v1/live/cameras/{camera}/playback?day={DAY}", headers=headers).status_code == 403
        assert client.post(f"/api/v1/live/cameras/{camera}/playback/play", json={"at": f"{DAY}T09:55:01"},
                           headers=headers).status_code == 403
        assert client.post(f"/api/v1/live/cameras/{camera}/clips",
                           json={"start": f"{DAY}T09:55:00", "end": f"{DAY}T09:55:03"},
                           headers=headers).status_code == 403, openid
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordingSegment)) == 2
    # The other school's staff sees its own camera's (empty) day.
    own = client.get(f"/api/v1/live/cameras/{camera_ids['other']}/playback?day={DAY}", headers=as_user("demo-staff-2"))
    assert own.status_code == 200 and own.json["recordings"] == []


def _clip_on_disk(app, key: str) -> bool:
    from pathlib import Path

    return (Path(app.config["STORAGE_LOCAL_PATH"]) / key).is_file()


def test_clips_past_the_retention_are_purged_by_the_scheduled_job_file_and_row_audited(
        client, as_user, clock, recorded, app):
    from datetime import timedelta

    from backend.live.models import RecordingClip
    from workers.jobs.platform import purge_live_clips

    camera, _ = recorded
    made_at = clock.now
    _clip(client, as_user("demo-staff-1"), camera, f"{DAY}T09:55:02", f"{DAY}T09:55:07")
    clip = db.session.scalars(sa.select(RecordingClip)).one()
    assert (clip.camera_id, clip.school_id, clip.size_bytes > 0) == (camera, 1, True)
    assert clip.url_expires_at == made_at + timedelta(seconds=600)
    assert _clip_on_disk(app, clip.object_key)
    key, clip_id = clip.object_key, clip.id
    db.session.rollback()

    # LIVE_CLIP_RETENTION_DAYS defaults to 7: a second before, the clip stays.
    assert purge_live_clips(made_at + timedelta(days=7, seconds=-1)) == {"removed": 0}
    assert _clip_on_disk(app, key) and db.session.get(RecordingClip, clip_id) is not None
    assert purge_live_clips(made_at + timedelta(days=7, seconds=1)) == {"removed": 1}
    db.session.expire_all()
    assert not _clip_on_disk(app, key) and db.session.get(RecordingClip, clip_id) is None
    [purge] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.clip_purge")).all()
    assert (purge.actor_id, purge.school_id, purge.target_type, purge.target_id) == (None, 1, "camera", camera)
    assert (purge.details["key"], purge.details["clip_id"], purge.details["retention_days"]) == (key, clip_id, 7)
    # The record of who cut the clip stays; the recordings it came from are the recordings' retention's.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "live.clip_download")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordingSegment)) == 2
    assert purge_live_clips(made_at + timedelta(days=8)) == {"removed": 0}


def test_a_clip_is_kept_while_its_download_url_runs_and_the_retention_is_a_setting(
        client, as_user, clock, recorded, app, monkeypatch):
    from datetime import timedelta

    from backend.live import clips
    from backend.live.models import RecordingClip

    app.config["LIVE_CLIP_RETENTION_DAYS"] = "2"
    app.extensions.pop("live_settings", None)
    camera, _ = recorded
    made_at = clock.now
    _clip(client, as_user("demo-regulator"), camera, f"{DAY}T09:55:00", f"{DAY}T09:55:03")
    # A download URL that runs three days (longer than the retention): the clip outlives the retention with it.
    monkeypatch.setattr(clips, "URL_SECONDS", 3 * 86400)
    long = _clip(client, as_user("demo-regulator"), camera, f"{DAY}T09:55:04", f"{DAY}T09:55:07")
    short_key, long_key = db.session.scalars(sa.select(RecordingClip.object_key).order_by(RecordingClip.id)).all()
    db.session.rollback()
    assert clips.purge_expired(made_at + timedelta(days=2, seconds=1)) == 1
    assert not _clip_on_disk(app, short_key) and _clip_on_disk(app, long_key)
    # Still downloadable in full while its URL runs.
    assert len(_download(client, long["url"])) == db.session.scalars(sa.select(RecordingClip.size_bytes)).one()
    db.session.rollback()
    assert clips.purge_expired(made_at + timedelta(days=3, seconds=-1)) == 0
    assert clips.purge_expired(made_at + timedelta(days=3, seconds=1)) == 1
    assert not _clip_on_disk(app, long_key)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordingClip)) == 0
