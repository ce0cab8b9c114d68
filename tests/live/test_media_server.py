"""End to end on loopback: the project's nginx-rtmp configuration, the api as a real HTTP server, ffmpeg as the
camera and as the players. The media server itself refuses what the api's hooks refuse."""

from __future__ import annotations

import contextlib
import secrets
import signal
import subprocess
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import numpy as np
import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.integrations import media
from backend.live.models import CameraStream, RecordingSegment, ViewSession
from backend.timeutil import SHANGHAI, utcnow
from tests.live.conftest import ALL_DAY, HOOK_SECRET, set_live_windows
from tests.live.media_files import probe
from tests.support.media import MediaServer, publish
from tests.support.net import http_get, kill_process
from tests.support.waiting import wait_for as _wait

pytestmark = pytest.mark.slow
WIDTH, HEIGHT = 768, 576


@pytest.fixture
def media_server(hook_server, app, media_ports, tmp_path):
    server = MediaServer(prefix=tmp_path / "nginx", hls_dir=tmp_path / "hls",
                         record_dir=Path(app.config["LIVE_RECORD_DIR"]),
                         rtmp_port=media_ports["rtmp"], http_port=media_ports["http"])
    server.start(hook_server, HOOK_SECRET, record_interval="4s")  # the hooks go to the api's hook listener
    yield server
    server.stop()


def _read_frames(url: str, frames: int = 5) -> tuple[int, np.ndarray | None]:
    """ffmpeg as the player: decode a few frames as grey pictures (exit code, frames or None)."""
    result = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-rw_timeout", "15000000",
                             "-i", url, "-frames:v", str(frames), "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
                            capture_output=True, timeout=40, check=False)
    if result.returncode != 0 or len(result.stdout) != frames * WIDTH * HEIGHT:
        return result.returncode or 1, None
    return 0, np.frombuffer(result.stdout, np.uint8).reshape(frames, HEIGHT, WIDTH)


def _play(client, as_user, openid, camera_id):
    response = client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=as_user(openid))
    assert response.status_code == 200, response.json
    return response.json


def _http_status(url: str, source_address: str = "127.0.0.1") -> int:
    return http_get(url, source_address)[0]


def _assert_moving_picture(frames: np.ndarray) -> None:
    assert frames.shape == (5, HEIGHT, WIDTH)
    assert float(frames[0].std()) > 20  # a real scene, not a flat test card
    assert float(np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean()) > 0.5  # and it moves


def test_live_view_through_the_media_server(app, client, as_user, demo, camera_ids, media_server, caplog):
    camera = camera_ids["public"]
    set_live_windows(1, ALL_DAY)
    caplog.set_level("INFO")

    # The school's staff give the camera a publish key; the camera publishes with it.
    key = client.post(f"/api/v1/live/cameras/{camera}/publish-key", headers=as_user("demo-staff-1")).json["publish_key"]
    wrong = publish(media.publish_url(media_server.rtmp_base, camera, "not-the-key"), seconds=3)
    assert wrong.wait(timeout=30) != 0, "the media server accepted a wrong publish key"
    assert "media hook refused: bad_publish_key" in caplog.text
    db.session.rollback()
    assert db.session.get(CameraStream, camera).publishing is False

    publisher = publish(media.publish_url(media_server.rtmp_base, camera, key))
    try:
        _wait(lambda: (s := db.session.get(CameraStream, camera)) is not None and s.publishing, what="publishing")
        lobby = client.get("/api/v1/live/canteens/1/cameras", headers=as_user("demo-parent-1")).json
        assert [c["live"] for c in lobby["cameras"] if c["id"] == camera] == [True]

        # A parent inside the live window reads frames over RTMP with the signed URL.
        urls = _play(client, as_user, "demo-parent-1", camera)
        code, frames = _read_frames(urls["rtmp_url"])
        assert code == 0, media_server.log()
        _assert_moving_picture(frames)
        # Closing the player closes the view session (on_done).
        session = _wait(lambda: db.session.scalars(sa.select(ViewSession).where(ViewSession.closed_at.is_not(None)))
                        .first(), what="the view session to close")
        assert (session.camera_id, session.protocol, session.close_reason) == (camera, "rtmp", "player_closed")
        assert session.closed_at >= session.opened_at

        # The same URL again (replayed or shared): refused by the media server.
        assert _read_frames(urls["rtmp_url"])[0] != 0
        # Expired, forged and another user's tokens: refused by the media server.
        secret_key = media.derive_key(app.config["SECRET_KEY"])
        expired = media.issue_token(secret_key, media.TokenKind.PLAY, user_id=session.user_id, camera_id=camera,
                                    school_id=1, privileged=False, expires=int(time.time()) - 5).token
        assert _read_frames(f"{media_server.rtmp_base}/cam-{camera}?token={expired}")[0] != 0
        fresh = _play(client, as_user, "demo-parent-1", camera)["rtmp_url"]
        forged = fresh[:-4] + ("AAAA" if not fresh.endswith("AAAA") else "BBBB")
        assert _read_frames(forged)[0] != 0
        # A genuine token of another school's parent, for their own school's camera.
        other_parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE openid = 'demo-parent-2'"))
        others = media.issue_token(secret_key, media.TokenKind.PLAY, user_id=other_parent,
                                   camera_id=camera_ids["other"], school_id=2, privileged=False,
                                   expires=int(time.time()) + 60).token
        assert _read_frames(f"{media_server.rtmp_base}/cam-{camera}?token={others}")[0] != 0
        for reason in ("session_reused", "token_expired", "token_bad_signature", "token_other_camera"):
            assert f"media hook refused: {reason}" in caplog.text, reason
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ViewSession)) == 1

        # HLS for <video>: the token in the path authorises the playlist and every segment.
        hls = _play(client, as_user, "demo-committee-1", camera)["hls_url"]
        _wait(lambda: (media_server.hls_dir / f"cam-{camera}.m3u8").exists(), what="the HLS playlist")
        code, frames = _read_frames(hls)
        assert code == 0, media_server.log()
        _assert_moving_picture(frames)
        hls_session = db.session.scalars(sa.select(ViewSession).where(ViewSession.protocol == "hls")).one()
        assert (hls_session.client_addr, hls_session.closed_at) == ("127.0.0.1", None)
        assert _http_status(hls) == 200  # the same player goes on fetching
        assert _http_status(hls, source_address="127.0.0.2") == 403  # the link opened on another device
        assert _http_status(hls.replace("/cam-", "/x", 1)) == 404
        token = urlsplit(hls).path.split("/")[2]
        assert _http_status(hls.replace(token, token[:-4] + "AAAA")) == 403
        expired_hls = media.play_urls("nginx-rtmp", "", f"http://127.0.0.1:{media_server.http_port}/hls", camera,
                                      expired)["hls"]
        assert _http_status(expired_hls) == 403

        # Outside the live window a parent is told when it opens next (Asia/Shanghai).
        today = utcnow().astimezone(SHANGHAI).date()
        weekday = (today.weekday() + 2) % 7
        set_live_windows(1, [{"weekday": weekday, "start": "06:30", "end": "07:00"}])
        refused = client.post(f"/api/v1/live/cameras/{camera}/play", headers=as_user("demo-parent-1"))
        opening = datetime.combine(today + timedelta(days=2), datetime.min.time(), SHANGHAI).replace(hour=6, minute=30)
        assert refused.status_code == 403
        assert refused.json["error"]["code"] == "live_window_closed"
        assert refused.json["error"]["details"]["next_open_at"] == opening.isoformat()
        assert refused.json["error"]["message"] == (
            f"当前不在直播开放时间，下次开放时间：{opening.month}月{opening.day}日（"
            f"{'一二三四五六日'[opening.weekday()].join(['周', ''])}）06:30")
        # Staff still watch.
        code, frames = _read_frames(_play(client, as_user, "demo-staff-1", camera)["rtmp_url"], frames=2)
        assert code == 0
        # The media server's access log names each play and publish by stream, never by its URL: no play token
        # and no publish key in it (nginx-rtmp's own format would write each URL's query).
        access = (media_server.prefix / "logs" / "access.log").read_text()
        assert f'PLAY "live" "cam-{camera}"' in access and f'PUBLISH "live" "cam-{camera}"' in access
        assert "token" not in access and key not in access and expired not in access
    finally:
        kill_process(publisher)

    # The camera stopped: it is no longer live, and what it recorded is indexed, stored and playable.
    _wait(lambda: not db.session.get(CameraStream, camera).publishing, what="publish_done")

    def every_file_indexed():
        files = {str(path) for path in media_server.record_dir.glob("*.flv")}
        indexed = set(db.session.scalars(sa.select(RecordingSegment.source_path)))
        return len(files) >= 2 and files <= indexed

    _wait(every_file_indexed, what="every recorded file to be indexed (on_record_done)")
    from backend.live.recordings import ingest_pending

    report = ingest_pending(utcnow(), limit=50)
    assert report.stored >= 2 and report.failed == 0
    listed = client.get(f"/api/v1/live/cameras/{camera}/recordings", headers=as_user("demo-staff-1")).json
    assert len(listed["recordings"]) == report.stored
    longest = max(listed["recordings"], key=lambda r: r["duration_seconds"])
    played = client.post(f"/api/v1/live/recordings/{longest['id']}/play", headers=as_user("demo-staff-1")).json
    parts = urlsplit(played["url"])
    mp4 = probe(client.get(f"{parts.path}?{parts.query}").data, media_server.prefix)
    assert (mp4["codec"], mp4["width"], mp4["height"]) == ("h264", WIDTH, HEIGHT)
    assert mp4["duration"] >= 2.0
    assert not list(media_server.record_dir.glob("*.flv"))  # every local file moved to the object store


class HlsViewer:
    """A player that reads the playlist and fetches segments by name, including the next name, guessed ahead."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.folder, name = url.rsplit("/", 1)
        self.stream = name.removesuffix(".m3u8")
        self.newest = 0  # the newest segment number the playlist named

    def fetch(self) -> dict[str, int]:
        """The guessed next segment, the newest named one, then the playlist: their HTTP statuses."""
        statuses = {"guessed": _http_status(f"{self.folder}/{self.stream}-{self.newest + 1}.ts"),
                    "segment": _http_status(f"{self.folder}/{self.stream}-{self.newest}.ts")}
        statuses["playlist"], body = http_get(self.url)
        numbers = [int(line.rsplit("-", 1)[1].removesuffix(".ts")) for line in body.decode().splitlines()
                   if line.startswith(self.stream) and line.endswith(".ts")]
        if statuses["playlist"] == 200 and numbers:
            self.newest = max(numbers)
        return statuses


def _rtmp_player(url: str) -> subprocess.Popen:
    """ffmpeg reading a stream without decoding it, until the media server drops it."""
    return subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-rw_timeout", "15000000",
                             "-i", url, "-c", "copy", "-f", "null", "-"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_viewer_whose_right_ends_is_refused_on_every_path_within_the_bound(
        client, as_user, demo, camera_ids, clock, media_server, hls_auth_calls, caplog):
    """For each way a parent's right ends (binding revoked, area made private, live window closed): once the right
    is due to be checked again (POLICY_RECHECK_SECONDS after the last check) and nginx's cached allow has run out
    (HLS_AUTH_CACHE_SECONDS, plus the second nginx's clock may add), the next request the api sees refuses the
    viewer, and from then on every path is: a guessed segment name, the newest segment, the playlist, and RTMP at
    its next on_update. A committee member whose right holds goes on getting all of it, mostly from the cache."""
    from backend.accounts.models import Membership, User
    from backend.live.hooks import HLS_AUTH_CACHE_SECONDS, POLICY_RECHECK_SECONDS
    from backend.schools.models import Camera, Canteen, KitchenArea

    caplog.set_level("INFO")
    clock.now -= timedelta(seconds=POLICY_RECHECK_SECONDS)  # the check due then comes at 10:00 in Shanghai
    set_live_windows(1, ALL_DAY)
    set_live_windows(2, [{"weekday": 0, "start": "09:00", "end": "10:00"}])
    kitchen, other = camera_ids["public"], camera_ids["other"]
    prep = db.session.scalar(sa.select(Camera.id).join(KitchenArea).join(Canteen).where(
        Canteen.school_id == 1, KitchenArea.public.is_(True), Camera.id != kitchen))
    causes = {"forbidden": ("demo-parent-1", kitchen),  # the binding is revoked
              "live_area_not_public": ("demo-committee-1", prep),  # the area is made private
              "live_window_closed": ("demo-parent-2", other)}  # the window closes at 10:00
    processes: list[subprocess.Popen] = []
    try:
        for camera, staff in ((kitchen, "demo-staff-1"), (prep, "demo-staff-1"), (other, "demo-staff-2")):
            key = client.post(f"/api/v1/live/cameras/{camera}/publish-key", headers=as_user(staff)).json["publish_key"]
            processes.append(publish(media.publish_url(media_server.rtmp_base, camera, key)))
        playlists = [media_server.hls_dir / f"cam-{camera}.m3u8" for camera in (kitchen, prep, other)]
        _wait(lambda: all(path.exists() and ".ts" in path.read_text() for path in playlists), seconds=60,
              what="the HLS playlists")
        hls = {cause: HlsViewer(_play(client, as_user, openid, camera)["hls_url"])
               for cause, (openid, camera) in causes.items()}
        keeper = HlsViewer(_play(client, as_user, "demo-committee-1", kitchen)["hls_url"])
        rtmp = {cause: _rtmp_player(_play(client, as_user, openid, camera)["rtmp_url"])
                for cause, (openid, camera) in causes.items()}
        rtmp_keeper = _rtmp_player(_play(client, as_user, "demo-committee-1", kitchen)["rtmp_url"])
        processes += [*rtmp.values(), rtmp_keeper]
        for viewer in (*hls.values(), keeper):
            assert viewer.fetch()["playlist"] == 200, media_server.log()
            assert viewer.fetch()["segment"] == 200
        _wait(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(ViewSession).where(
            ViewSession.protocol == "rtmp", ViewSession.closed_at.is_(None))) == 4, what="the RTMP players")

        # The rights end: the principal revokes the binding and makes the area private; the window closes.
        membership = db.session.scalar(sa.select(Membership.id).join(User, Membership.user_id == User.id).where(
            User.openid == "demo-parent-1", Membership.school_id == 1))
        principal = as_user("demo-principal-1")
        assert client.post(f"/api/v1/memberships/{membership}/revoke", json={}, headers=principal).status_code == 200
        area = db.session.get(Camera, prep).area_id
        assert client.patch(f"/api/v1/areas/{area}", json={"public": False}, headers=principal).status_code == 200
        for viewer in hls.values():
            viewer.fetch()  # no check is due yet: these allows may be cached now
        clock.now += timedelta(seconds=POLICY_RECHECK_SECONDS)  # 10:00:00: the window closes, checks are due
        time.sleep(HLS_AUTH_CACHE_SECONDS + 1.1)  # no allow nginx cached before is still served

        # One request reaches the api and ends the session; every path is refused from then on.
        for cause, viewer in hls.items():
            assert viewer.fetch() == {"guessed": 403, "segment": 403, "playlist": 403}, cause
            assert viewer.fetch() == {"guessed": 403, "segment": 403, "playlist": 403}, cause
        ended = db.session.scalars(sa.select(ViewSession).where(ViewSession.protocol == "hls",
                                                                ViewSession.closed_at.is_not(None))).all()
        assert sorted(session.close_reason for session in ended) == ["policy"] * 3
        for cause in causes:
            assert f"ended by policy: {cause}" in caplog.text

        # The committee member's right holds: the check passes and every path goes on, one api call a second
        # or two at most, however often the player asks.
        before, started = len(hls_auth_calls), int(time.time())
        for _ in range(10):
            statuses = keeper.fetch()
            assert (statuses["playlist"], statuses["segment"], statuses["guessed"] in (200, 404)) == (200, 200, True)
        seconds = range(started, int(time.time()) + 1)
        # Each call's allow is cached for more than a second, so no two calls fall within the same second.
        keeper_calls = [uri for uri in hls_auth_calls[before:] if uri.startswith(urlsplit(keeper.folder).path)]
        assert 1 <= len(keeper_calls) <= len(seconds)
        # A cached allow is the token's for its own camera only.
        assert _http_status(keeper.url.replace(f"/cam-{kitchen}.m3u8", f"/cam-{prep}.m3u8")) == 403
        db.session.rollback()
        kept = db.session.scalars(sa.select(ViewSession).where(ViewSession.protocol == "hls",
                                                               ViewSession.closed_at.is_(None))).one()
        assert kept.policy_checked_at == clock.now

        # RTMP: each refused player is dropped at its next on_update; the committee member's goes on.
        _wait(lambda: all(player.poll() is not None for player in rtmp.values()), seconds=60,
              what="the media server to drop the RTMP players")
        dropped = db.session.scalars(sa.select(ViewSession).where(ViewSession.protocol == "rtmp",
                                                                  ViewSession.closed_at.is_not(None))).all()
        assert sorted(session.close_reason for session in dropped) == ["policy"] * 3
        _wait(lambda: db.session.scalars(sa.select(ViewSession.policy_checked_at).where(
            ViewSession.protocol == "rtmp", ViewSession.closed_at.is_(None))).one() == clock.now, seconds=60,
              what="an on_update of the RTMP player whose right holds")
        assert rtmp_keeper.poll() is None
    finally:
        for process in processes:
            kill_process(process)


def test_the_relay_publishes_a_camera_that_cannot_push(app, app_config, client, as_user, demo, camera_ids,
                                                       media_server, tmp_path):
    """`flask live relay` pulls the camera's own source (here the demo's video file) and publishes it with a
    server-signed relay token; staff then watch it through the media server."""
    import os
    import sys

    camera = camera_ids["private"]
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": app_config["DATABASE_URL"],
           "SECRET_KEY": app_config["SECRET_KEY"], "INSTANCE_PATH": str(tmp_path / "relay-instance"),
           "MEDIA_RTMP_PUBLISH_BASE": media_server.rtmp_base, "FLASK_APP": "backend.app:create_app",
           "LOG_LEVEL": "WARNING"}
    relay = subprocess.Popen([str(Path(sys.executable).parent / "flask"), "live", "relay", str(camera)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # The relay is a fresh `flask` process that imports the whole app before ffmpeg connects: on a loaded CI
        # machine that alone has taken over 20 s.
        stream = _wait(lambda: (s := db.session.get(CameraStream, camera)) is not None and s.publishing and s,
                       seconds=90, what="the relay to publish")
        assert stream.publisher_kind == "relay"
        code, frames = _read_frames(_play(client, as_user, "demo-staff-1", camera)["rtmp_url"])
        assert code == 0, media_server.log()
        _assert_moving_picture(frames)
    finally:
        kill_process(relay)
    _wait(lambda: not db.session.get(CameraStream, camera).publishing, what="the relay's publish_done")


SOURCE_USER, SOURCE_PASSWORD = "kitchen-cam", "Pa55:w/rd@cam"


def _camera_source(kind: str, tmp_path: Path):
    """A camera of that kind on loopback with a secret stream path, demanding credentials where the protocol has
    them (HTTP and RTSP basic auth; ffmpeg's RTMP server has none), plus the kind the API stores for it."""
    from tests.live.camera_sources import HttpCamera, RtmpCamera, RtspCamera
    from tests.live.conftest import free_port

    path_secret = f"tok-{secrets.token_hex(6)}"
    if kind == "http":
        return HttpCamera(SOURCE_USER, SOURCE_PASSWORD, f"/live/{path_secret}.ts").start(), "hls", path_secret
    if kind == "rtsp":
        return RtspCamera(SOURCE_USER, SOURCE_PASSWORD, f"/Streaming/{path_secret}", tmp_path).start(), "rtsp", \
            path_secret
    return RtmpCamera(f"/cam/{path_secret}", free_port()).start(), "rtmp", path_secret


@pytest.mark.parametrize("kind", ["http", "rtsp", "rtmp"])
def test_the_relay_keeps_the_source_out_of_every_command_line(kind, app, client, as_user, demo, camera_ids,
                                                              media_server, tmp_path, caplog):
    """`run_relay` pulls a camera that wants credentials and publishes it; meanwhile no process of ours shows the
    source URL or the credentials in /proc (command line, environment), and no log record holds them."""
    import os

    from backend.live.relay import run_relay
    from backend.live.settings import live_settings
    from backend.schools.models import Camera
    from tests.live.camera_sources import descendants, visible_to_local_users

    camera_id = camera_ids["private"]
    source, source_kind, path_secret = _camera_source(kind, tmp_path)
    secrets_ = [SOURCE_USER, SOURCE_PASSWORD, quote(SOURCE_PASSWORD, safe=""), path_secret, source.url]
    camera = db.session.get(Camera, camera_id)
    camera.source_kind, camera.source_url = source_kind, source.url
    camera.source_username, camera.source_password = SOURCE_USER, SOURCE_PASSWORD
    db.session.commit()
    caplog.set_level("DEBUG")
    exit_codes: list[int] = []

    def relay() -> None:
        with app.app_context():
            exit_codes.append(run_relay(camera_id, live_settings(), runs=1, sleep=lambda _: None))

    thread = threading.Thread(target=relay, daemon=True)
    camera_pids = {p.pid for p in source.processes}
    relay_ffmpeg: list[int] = []
    thread.start()
    try:
        stream = _wait(lambda: (s := db.session.get(CameraStream, camera_id)) is not None and s.publishing and s,
                       seconds=60, what="the relay to publish")
        assert stream.publisher_kind == "relay"
        camera_pids |= {p.pid for p in source.processes}
        ours = [pid for pid in descendants(os.getpid()) if pid not in camera_pids]
        seen = {pid: visible_to_local_users(pid) for pid in ours}
        relay_ffmpeg += [pid for pid, (cmdline, _) in seen.items() if cmdline.startswith("ffmpeg ")
                        and media_server.rtmp_base in cmdline]
        assert len(relay_ffmpeg) == 1, seen
        for pid, (cmdline, environ) in seen.items():
            for secret in secrets_:
                assert secret not in cmdline and secret not in environ, (pid, secret)
        # The media server really gets the camera: staff watch it through it.
        code, frames = _read_frames(_play(client, as_user, "demo-staff-1", camera_id)["rtmp_url"])
        assert code == 0, media_server.log()
        _assert_moving_picture(frames)
    finally:
        for pid in relay_ffmpeg:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # the relay's ffmpeg ends; run_relay (runs=1) returns
        thread.join(timeout=60)
        source.stop()
    assert not thread.is_alive() and exit_codes and exit_codes[0] != 0
    if kind in ("http", "rtsp"):
        assert source.refused >= 1 and source.authorised >= 1  # asked for credentials, and got them
    if kind == "rtsp":
        assert "/TCP" in source.transports[0]  # rtsp_transport tcp reached the RTSP demuxer through the script
    assert f"relay: camera {camera_id} ffmpeg exited" in caplog.text
    for record in caplog.records:
        for secret in secrets_:
            assert secret not in record.getMessage()


def test_a_camera_that_pushes_is_sampled_and_snapshotted_from_the_media_server(app, client, as_user, demo, camera_ids,
                                                                              media_server, caplog):
    """A camera of kind 推流 has no source of its own: the detection worker and a snapshot play what it pushes from
    the media server with a sample token of that camera, which opens no view session; other tokens are refused."""
    from backend.schools.models import Camera
    from workers.camera.capture import CaptureCache, SourceSpec
    from workers.jobs.detection import camera_spec

    camera = camera_ids["public"]
    caplog.set_level("INFO")
    staff = as_user("demo-staff-1")
    assert client.patch(f"/api/v1/cameras/{camera}", headers=staff, json={"source_kind": "push"}).status_code == 200
    key = client.post(f"/api/v1/live/cameras/{camera}/publish-key", headers=staff).json["publish_key"]
    publisher = publish(media.publish_url(media_server.rtmp_base, camera, key))
    cache = CaptureCache()
    try:
        _wait(lambda: (s := db.session.get(CameraStream, camera)) is not None and s.publishing, what="publishing")
        spec = camera_spec(db.session.get(Camera, camera), 15.0)
        assert spec.kind == "push" and "token=" not in spec.url and "token=" in (spec.connect_url or "")
        first = cache.read(spec, time.time())
        assert first.frame is not None, (first.error, media_server.log())
        assert first.frame.shape == (HEIGHT, WIDTH, 3)
        time.sleep(1)
        # The next sample, with a new token, reads on the open connection.
        again = cache.read(camera_spec(db.session.get(Camera, camera), 15.0), time.time())
        assert again.frame is not None and cache.opened == 1

        # The stream stalls (the connection is gone) after the first sample's token expired: the reconnection uses
        # the newest sample's token, at its first try.
        secret_key = media.derive_key(app.config["SECRET_KEY"])
        stream = spec.url
        brief = media.issue_token(secret_key, media.TokenKind.SAMPLE, user_id=0, camera_id=camera, school_id=0,
                                  privileged=True, expires=int(time.time()) + 2).token
        stalling = CaptureCache()
        try:
            short = SourceSpec("push", stream, timeout_seconds=15.0,
                               connect_url=media.sample_url(media_server.rtmp_base, camera, brief))
            assert stalling.read(short, time.time()).frame is not None
            time.sleep(3)
            for source, _ in stalling._sources.values():
                source.close()  # what a stalled stream leaves: no connection
            later = stalling.read(camera_spec(db.session.get(Camera, camera), 15.0), time.time())
            assert later.frame is not None and later.tries == 1, later.error
        finally:
            stalling.close()

        snapshot = client.post(f"/api/v1/live/cameras/{camera}/snapshots", headers=staff)
        assert snapshot.status_code == 201, snapshot.json
        assert (snapshot.json["width"], snapshot.json["height"]) == (WIDTH, HEIGHT)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ViewSession)) == 0

        # Another camera's sample token, an expired one and a forged one: refused by the media server.

        def sample(camera_id: int, expires: int) -> str:
            return media.issue_token(secret_key, media.TokenKind.SAMPLE, user_id=0, camera_id=camera_id, school_id=0,
                                     privileged=True, expires=expires).token

        other = sample(camera_ids["other"], int(time.time()) + 60)
        assert _read_frames(media.sample_url(media_server.rtmp_base, camera, other))[0] != 0
        expired = sample(camera, int(time.time()) - 5)
        assert _read_frames(media.sample_url(media_server.rtmp_base, camera, expired))[0] != 0
        good = sample(camera, int(time.time()) + 60)
        assert _read_frames(media.sample_url(media_server.rtmp_base, camera, good[:-4] + "AAAA"))[0] != 0
        for reason in ("sample_token_other_camera", "sample_token_expired", "sample_token_bad_signature"):
            assert f"media hook refused: {reason}" in caplog.text, reason
    finally:
        cache.close()
        kill_process(publisher)
