"""Recordings: indexed from the media server's files, copied to the object store, listed, played, purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.live.models import RecordingSegment
from tests.live.media_files import make_audio_only_flv, make_flv, probe

START = 1795398900  # 2026-11-23 09:55:00 Asia/Shanghai, five minutes before the clock fixture


def _index(hook, camera_id, path):
    response = hook("on_record_done", call="record_done", name=f"cam-{camera_id}", path=str(path))
    assert response.status_code == 200, response.json
    return db.session.scalar(sa.select(RecordingSegment).where(RecordingSegment.source_path == str(path)))


@pytest.fixture
def record_dir(app):
    return Path(app.config["LIVE_RECORD_DIR"])


@pytest.fixture(params=["local", "s3"])
def store_backend(request, app):
    """Run against the local store and against S3 (moto_server)."""
    if request.param == "s3":
        import uuid

        endpoint = request.getfixturevalue("s3_endpoint")
        app.config.update(STORAGE_BACKEND="s3", S3_ENDPOINT_URL=endpoint, S3_BUCKET=f"rec-{uuid.uuid4().hex[:10]}",
                          S3_ACCESS_KEY_ID="testing", S3_SECRET_ACCESS_KEY="testing")
        app.extensions.pop("object_store", None)
    return request.param


def _download(client, url):
    if url.startswith("http://localhost") or url.startswith("/"):
        parts = urlsplit(url)
        response = client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200
        return response.data
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_a_recorded_file_becomes_a_playable_mp4(hook, client, as_user, demo, clock, camera_ids, record_dir,
                                                store_backend, tmp_path):
    from backend.files import object_store
    from backend.live.recordings import ingest_pending

    camera = camera_ids["public"]
    source = make_flv(record_dir / f"cam-{camera}-{START}.flv", seconds=2.0)
    segment = _index(hook, camera, source)
    report = ingest_pending(clock.now)
    assert (report.stored, report.empty, report.failed, report.retried) == (1, 0, 0, 0)
    db.session.refresh(segment)
    assert segment.status == "stored" and segment.local_present is False and not source.exists()
    assert segment.object_key == f"recordings/1/{camera}/2026/11/23/{segment.id}.mp4"
    assert (segment.width, segment.height) == (768, 576)
    assert segment.duration_seconds == pytest.approx(2.0, abs=0.15)
    assert segment.ended_at == datetime.fromtimestamp(START, UTC) + timedelta(seconds=segment.duration_seconds)
    assert object_store().exists(segment.object_key)

    listed = client.get(f"/api/v1/live/cameras/{camera}/recordings?start=2026-11-23T09:00:00&end=2026-11-23T10:00:00",
                        headers=as_user("demo-staff-1"))
    assert listed.status_code == 200, listed.json
    assert listed.json["start"] == "2026-11-23T09:00:00+08:00"
    [item] = listed.json["recordings"]
    assert (item["id"], item["started_at"], item["width"]) == (segment.id, "2026-11-23T09:55:00+08:00", 768)
    played = client.post(f"/api/v1/live/recordings/{segment.id}/play", headers=as_user("demo-regulator"))
    assert played.status_code == 200
    mp4 = probe(_download(client, played.json["url"]), tmp_path)
    assert (mp4["codec"], mp4["width"], mp4["height"]) == ("h264", 768, 576)
    assert "mp4" in mp4["format"] and mp4["duration"] == pytest.approx(2.0, abs=0.15)
    assert ingest_pending(clock.now).stored == 0  # nothing left to do


def test_recordings_list_by_time_range(hook, client, as_user, demo, clock, camera_ids):
    camera = camera_ids["public"]
    base = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    for index in range(3):  # 09:00-09:05, 09:05-09:10, 09:10-09:15
        db.session.add(RecordingSegment(camera_id=camera, school_id=1, source_path=f"/r/{index}", status="stored",
                                        local_present=False, started_at=base + timedelta(minutes=5 * index),
                                        ended_at=base + timedelta(minutes=5 * index + 5), duration_seconds=300,
                                        size_bytes=10, object_key=f"recordings/1/{camera}/{index}.mp4", attempts=0))
    db.session.add(RecordingSegment(camera_id=camera, school_id=1, source_path="/r/pending", status="pending",
                                    local_present=True, started_at=base, ended_at=base, attempts=0))
    db.session.commit()
    headers = as_user("demo-principal-1")

    def ids(query):
        response = client.get(f"/api/v1/live/cameras/{camera}/recordings?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [r["started_at"][11:16] for r in response.json["recordings"]]

    assert ids("start=2026-11-23T09:06:00%2B08:00&end=2026-11-23T09:11:00%2B08:00") == ["09:05", "09:10"]
    assert ids("start=2026-11-23T09:05:00&end=2026-11-23T09:10:00") == ["09:05"]  # touching ends excluded
    assert ids("start=2026-11-23T01:00:00Z&end=2026-11-23T01:01:00Z") == ["09:00"]
    assert ids("start=2026-11-22T09:00:00&end=2026-11-22T10:00:00") == []
    bad = client.get(f"/api/v1/live/cameras/{camera}/recordings?start=2026-11-23T10:00:00&end=2026-11-23T09:00:00",
                     headers=headers)
    assert (bad.status_code, bad.json["error"]["code"], bad.json["error"]["message"]) == (
        422, "invalid_time_range", "结束时间必须晚于开始时间")
    long = client.get(f"/api/v1/live/cameras/{camera}/recordings?start=2026-11-01T00:00:00&end=2026-11-23T00:00:00",
                      headers=headers)
    assert (long.status_code, long.json["error"]["code"]) == (422, "time_range_too_long")
    junk = client.get(f"/api/v1/live/cameras/{camera}/recordings?start=yesterday", headers=headers)
    assert junk.status_code == 422 and "start" in junk.json["error"]["details"]["fields"]


def test_parents_and_other_schools_never_see_recordings(client, as_user, demo, camera_ids):
    db.session.add(RecordingSegment(camera_id=camera_ids["public"], school_id=1, source_path="/r/x", status="stored",
                                    local_present=False, started_at=datetime(2026, 11, 23, tzinfo=UTC),
                                    ended_at=datetime(2026, 11, 23, 0, 5, tzinfo=UTC), object_key="recordings/x.mp4",
                                    attempts=0))
    db.session.commit()
    segment_id = db.session.scalar(sa.select(RecordingSegment.id))
    for openid in ("demo-parent-1", "demo-committee-1", "demo-manager-1", "demo-staff-2", "demo-parent-2"):
        headers = as_user(openid)
        assert client.get(f"/api/v1/live/cameras/{camera_ids['public']}/recordings",
                          headers=headers).status_code == 403, openid
        assert client.post(f"/api/v1/live/recordings/{segment_id}/play", headers=headers).status_code == 403, openid
    assert client.post("/api/v1/live/recordings/99999/play", headers=as_user("demo-staff-1")).status_code == 404


def test_a_segment_not_yet_stored_cannot_be_played(client, as_user, demo, camera_ids):
    db.session.add(RecordingSegment(camera_id=camera_ids["public"], school_id=1, source_path="/r/p", status="pending",
                                    local_present=True, started_at=datetime(2026, 11, 23, tzinfo=UTC),
                                    ended_at=datetime(2026, 11, 23, tzinfo=UTC), attempts=0))
    db.session.commit()
    segment_id = db.session.scalar(sa.select(RecordingSegment.id))
    response = client.post(f"/api/v1/live/recordings/{segment_id}/play", headers=as_user("demo-staff-1"))
    assert (response.status_code, response.json["error"]["code"]) == (409, "recording_not_ready")


def test_files_without_video_are_dropped_and_unreadable_ones_retried_then_failed(hook, demo, clock, camera_ids,
                                                                                   record_dir):
    from backend.live.recordings import MAX_ATTEMPTS, ingest_pending

    camera = camera_ids["public"]
    empty = _index(hook, camera, make_audio_only_flv(record_dir / f"cam-{camera}-{START}.flv"))
    header_only = record_dir / f"cam-{camera}-{START + 600}.flv"
    header_only.write_bytes(b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00" + b"\x09" * 78)  # a cut with no frame
    headless = _index(hook, camera, header_only)
    junk_path = record_dir / f"cam-{camera}-{START + 300}.flv"
    junk_path.write_bytes(b"FLV this is not really a video" * 1000)  # 30 kB that no tool can read
    junk = _index(hook, camera, junk_path)
    first = ingest_pending(clock.now)
    assert (first.stored, first.empty, first.failed, first.retried) == (0, 2, 0, 1)
    db.session.refresh(empty)
    db.session.refresh(headless)
    assert (empty.status, empty.local_present) == ("empty", False)
    assert (headless.status, header_only.exists()) == ("empty", False)
    for _ in range(MAX_ATTEMPTS - 1):
        ingest_pending(clock.now)
    db.session.refresh(junk)
    assert (junk.status, junk.attempts) == ("failed", MAX_ATTEMPTS)
    assert "ffprobe failed" in junk.last_error
    assert junk_path.exists()  # kept for a person to look at, until the retention purge


def test_a_worker_killed_mid_ingest_loses_and_duplicates_nothing(hook, demo, clock, camera_ids, record_dir,
                                                                monkeypatch):
    from backend.files import object_store
    from backend.live import recordings

    camera = camera_ids["public"]
    source = make_flv(record_dir / f"cam-{camera}-{START}.flv", seconds=1.0)
    segment = _index(hook, camera, source)
    store = object_store()
    real_put = store.put
    calls = []

    def put_then_die(key, data, content_type):
        real_put(key, data, content_type)
        calls.append(key)
        raise KeyboardInterrupt  # the process dies after the upload, before the commit

    monkeypatch.setattr(store, "put", put_then_die)
    with pytest.raises(KeyboardInterrupt):
        recordings.ingest_pending(clock.now)
    db.session.rollback()
    monkeypatch.setattr(store, "put", real_put)
    db.session.refresh(segment)
    assert segment.status == "pending" and source.exists()
    assert recordings.ingest_pending(clock.now).stored == 1
    db.session.refresh(segment)
    assert segment.object_key == calls[0]  # the same key, overwritten: one object, not two
    assert store.exists(segment.object_key) and not source.exists()

    # Killed after the commit, before removing the local file: the next run removes it.
    leftover = make_flv(record_dir / f"cam-{camera}-{START + 60}.flv", seconds=1.0)
    stored = _index(hook, camera, leftover)
    stored.status, stored.object_key = "stored", "recordings/x.mp4"
    db.session.commit()
    recordings.ingest_pending(clock.now)
    db.session.refresh(stored)
    assert stored.local_present is False and not leftover.exists()


def test_the_purge_removes_what_is_older_than_the_retention(hook, demo, clock, camera_ids, record_dir, app):
    from backend.files import object_store
    from backend.live.recordings import purge_expired

    store = object_store()
    camera = camera_ids["public"]
    now = clock.now
    rows = []
    for name, age_days, status in (("old", 16, "stored"), ("edge", 15, "stored"), ("new", 1, "stored"),
                                   ("old-pending", 20, "pending")):
        key = f"recordings/1/{camera}/{name}.mp4"
        store.put(key, b"mp4", "video/mp4")
        local = record_dir / f"{name}.flv"
        local.write_bytes(b"flv")
        ended = now - timedelta(days=age_days, seconds=1 if name != "edge" else -1)
        rows.append(RecordingSegment(camera_id=camera, school_id=1, source_path=str(local), status=status,
                                     local_present=status == "pending", started_at=ended - timedelta(minutes=5),
                                     ended_at=ended, object_key=key if status == "stored" else None, attempts=0))
    db.session.add_all(rows)
    db.session.commit()
    assert purge_expired(now) == 2
    left = db.session.scalars(sa.select(RecordingSegment.source_path).order_by(RecordingSegment.id)).all()
    assert [Path(p).stem for p in left] == ["edge", "new"]
    assert not store.exists(f"recordings/1/{camera}/old.mp4") and store.exists(f"recordings/1/{camera}/edge.mp4")
    assert not (record_dir / "old-pending.flv").exists()
    assert (record_dir / "old.flv").exists()  # a stored segment's local file was already gone; not touched again
    assert purge_expired(now) == 0
    assert app.config.get("LIVE_RECORDING_RETENTION_DAYS") in (None, "15")
