"""Snapshots for staff, the camera relay, and the rule that a camera's source never leaves the server."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
import sqlalchemy as sa

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.live.sources import NETWORK_PROTOCOLS
from backend.schools.models import Camera
from tests.live.conftest import HOOK_SECRET

SOURCE = "rtsp://127.0.0.1:9/Streaming/Channels/101"  # nothing listens on the discard port
USER, PASSWORD = "cam-admin", "S3cret:p@ss/word"
SECRETS = ("Streaming/Channels", "cam-admin", "S3cret", "p%40ss", "p@ss")


def _with_credentials(camera_id):
    camera = db.session.get(Camera, camera_id)
    camera.source_kind, camera.source_url = "rtsp", SOURCE
    camera.source_username, camera.source_password = USER, PASSWORD
    db.session.commit()


def test_staff_take_a_snapshot_of_the_camera(client, as_user, demo, clock, camera_ids):
    response = client.post(f"/api/v1/live/cameras/{camera_ids['private']}/snapshots", headers=as_user("demo-staff-1"))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["width"], body["height"], body["taken_at"]) == (768, 576, "2026-11-23T10:00:00+08:00")
    parts = urlsplit(body["url"])
    assert parts.path.startswith(f"/api/v1/files/snapshots/1/{camera_ids['private']}/2026/11/23/100000-")
    image = client.get(f"{parts.path}?{parts.query}")
    assert image.status_code == 200 and image.data[:2] == b"\xff\xd8"
    frame = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
    assert frame.shape == (576, 768, 3) and float(frame.std()) > 20  # a real picture, not a flat frame
    [audit] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "live.snapshot")).all()
    assert (audit.school_id, audit.target_id, audit.details["object_key"]) == (
        1, camera_ids["private"], parts.path.removeprefix("/api/v1/files/"))


@pytest.mark.parametrize("openid", ["demo-parent-1", "demo-committee-1", "demo-manager-1", "demo-regulator",
                                    "demo-staff-2"])
def test_only_the_schools_staff_take_snapshots(client, as_user, demo, camera_ids, openid):
    response = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/snapshots", headers=as_user(openid))
    assert response.status_code == 403


def test_an_unreachable_camera_is_a_clear_error_that_names_no_source(client, as_user, demo, clock, camera_ids,
                                                                     caplog):
    _with_credentials(camera_ids["public"])
    caplog.set_level("DEBUG")
    response = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/snapshots", headers=as_user("demo-staff-1"))
    assert response.status_code == 502
    assert response.json["error"] == {"code": "camera_unreachable",
                                      "message": "无法从摄像头获取画面，请检查摄像头是否在线", "details": {}}
    assert f"snapshot of camera {camera_ids['public']} failed" in caplog.text
    for text in (response.get_data(as_text=True), caplog.text):
        for secret in SECRETS:
            assert secret not in text


def test_the_relay_logs_nothing_of_the_source(app, demo, camera_ids, caplog):
    from backend.live.relay import run_relay
    from backend.live.settings import live_settings

    _with_credentials(camera_ids["public"])
    caplog.set_level("DEBUG")
    code = run_relay(camera_ids["public"], live_settings(), runs=1, sleep=lambda _: None)
    assert code != 0
    assert f"relay: camera {camera_ids['public']} ffmpeg exited {code}" in caplog.text
    for secret in (*SECRETS, "token=", "key=L1."):
        assert secret not in caplog.text


def test_the_relay_command_names_no_source(demo, camera_ids, app):
    """The source reaches ffmpeg on its standard input (an ffconcat script), never in its command line."""
    from backend.live.relay import relay_command

    camera = db.session.get(Camera, camera_ids["public"])
    command, script = relay_command(camera, "rtmp://media/live/cam-1?key=K", transcode=True)
    assert command[command.index("-f") - 3:command.index("-i") + 2] == [
        "-re", "-stream_loop", "-1", "-f", "concat", "-safe", "0", "-auto_convert", "0", "-protocol_whitelist", "pipe",
        "-i", "pipe:0"]
    assert camera.source_url not in " ".join(command)
    assert script.decode().splitlines() == ["ffconcat version 1.0", f"file 'file:{camera.source_url}'",
                                            "option protocol_whitelist 'file'"]
    assert command[-3:] == ["-f", "flv", "rtmp://media/live/cam-1?key=K"] and "-an" in command
    _with_credentials(camera_ids["public"])
    db.session.refresh(camera)
    command, script = relay_command(camera, "rtmp://media/live/cam-1?key=K", transcode=False)
    assert "-re" not in command and "-stream_loop" not in command
    assert command[command.index("-c:v"):command.index("-c:v") + 2] == ["-c:v", "copy"]
    for secret in SECRETS:
        assert secret not in " ".join(command)
    assert script.decode().splitlines() == [
        "ffconcat version 1.0", "file 'rtsp://cam-admin:S3cret%3Ap%40ss%2Fword@127.0.0.1:9/Streaming/Channels/101'",
        "option rtsp_transport 'tcp'", "option timeout '10000000'", f"option protocol_whitelist '{NETWORK_PROTOCOLS}'"]


def test_the_script_quotes_the_source_and_refuses_line_breaks(demo, camera_ids, app):
    from backend.live.sources import SourceError, ffmpeg_input

    camera = db.session.get(Camera, camera_ids["public"])
    camera.source_kind, camera.source_url = "hls", "https://cdn.example/it's/live.m3u8?t=a b"
    assert ffmpeg_input(camera, 2.5)[1].decode().splitlines()[1:3] == [
        "file 'https://cdn.example/it'\\''s/live.m3u8?t=a b'", "option rw_timeout '2500000'"]
    camera.source_url = "rtsp://10.0.0.2/s\nfile 'file:/etc/passwd'"
    with pytest.raises(SourceError) as raised:
        ffmpeg_input(camera, 2.5)
    assert "passwd" not in str(raised.value)
    db.session.rollback()


def test_a_source_that_cannot_be_a_script_line_is_refused_without_naming_it(client, as_user, demo, clock,
                                                                               camera_ids, caplog):
    from backend.live.relay import run_relay
    from backend.live.settings import live_settings

    camera = db.session.get(Camera, camera_ids["public"])
    camera.source_kind, camera.source_url = "rtsp", "rtsp://10.0.0.2/Streaming/Channels/101\nfile 'file:/etc/passwd'"
    db.session.commit()
    caplog.set_level("DEBUG")
    assert run_relay(camera_ids["public"], live_settings(), runs=1, sleep=lambda _: None) == 2
    response = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/snapshots", headers=as_user("demo-staff-1"))
    assert response.status_code == 502
    assert "relay: camera" in caplog.text and "snapshot of camera" in caplog.text
    for secret in ("Streaming/Channels", "passwd"):
        assert secret not in caplog.text and secret not in response.get_data(as_text=True)


def test_a_snapshot_of_a_file_with_quotes_and_spaces_in_its_path(demo, camera_ids, app, tmp_path):
    """The quoting holds with the real ffmpeg: a path that needs it opens."""
    from backend.live.snapshots import grab_frame
    from tests.live.media_files import VTEST

    odd = tmp_path / "it's a 'demo' video.avi"
    odd.symlink_to(VTEST)
    camera = db.session.get(Camera, camera_ids["public"])
    camera.source_url = str(odd)
    image = cv2.imdecode(np.frombuffer(grab_frame(camera, 10), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (576, 768, 3)
    db.session.rollback()


def test_credentials_are_added_to_network_sources_only():
    from backend.live.sources import scrub
    from backend.source_urls import with_credentials

    assert with_credentials("rtsp://10.0.0.2/s", "u", "p w") == "rtsp://u:p%20w@10.0.0.2/s"
    assert with_credentials("rtsp://x:y@10.0.0.2/s", "u", "p") == "rtsp://x:y@10.0.0.2/s"
    assert with_credentials("/data/demo.avi", "u", "p") == "/data/demo.avi"
    assert with_credentials("rtsp://10.0.0.2/s", None, "p") == "rtsp://10.0.0.2/s"
    assert scrub("open rtsp://u:p%20w@h failed for u", ["rtsp://u:p%20w@h", "u", "p w"]) == "open *** failed for ***"


def test_credentials_keep_ipv6_brackets_and_host_case():
    from backend.source_urls import with_credentials

    assert with_credentials("rtsp://[fe80::1]:554/s", "u", "p") == "rtsp://u:p@[fe80::1]:554/s"
    assert with_credentials("rtsp://[2001:DB8::1]/s", "u", None) == "rtsp://u@[2001:DB8::1]/s"
    assert with_credentials("rtmp://Cam-01.Kitchen.LAN:1935/live/A", "u", "p") == (
        "rtmp://u:p@Cam-01.Kitchen.LAN:1935/live/A")


def test_file_sources_never_get_credentials():
    from backend.source_urls import with_credentials

    assert with_credentials("file:///data/demo.avi", "u", "p") == "file:///data/demo.avi"
    assert with_credentials("FILE:///data/demo.avi", "u", "p") == "FILE:///data/demo.avi"
    assert with_credentials("data/demo.avi", "u", "p") == "data/demo.avi"


def test_special_characters_in_user_and_password_are_percent_encoded():
    from urllib.parse import unquote, urlsplit

    from backend.source_urls import with_credentials

    password = "p@ss:w/rd#?%&=[] 中"
    url = with_credentials("rtsp://10.0.0.2:554/Streaming/Channels/101?transport=tcp", "ad:min@x", password)
    parts = urlsplit(url)
    assert (parts.hostname, parts.port, parts.path, parts.query) == (
        "10.0.0.2", 554, "/Streaming/Channels/101", "transport=tcp")
    assert (unquote(parts.username), unquote(parts.password)) == ("ad:min@x", password)


def test_no_live_answer_or_log_line_carries_the_source(client, as_user, demo, clock, camera_ids, caplog, hook):
    """Walk the live API and hooks as every kind of viewer with a credentialed camera."""
    from tests.live.conftest import ALL_DAY, mark_live, set_live_windows

    _with_credentials(camera_ids["public"])
    set_live_windows(1, ALL_DAY)
    mark_live(camera_ids["public"], clock.now)
    caplog.set_level("DEBUG")
    bodies = []
    for openid in ("demo-parent-1", "demo-staff-1", "demo-regulator", "demo-admin"):
        headers = as_user(openid)
        play = client.post(f"/api/v1/live/cameras/{camera_ids['public']}/play", headers=headers)
        bodies += [play.get_data(as_text=True),
                   client.get("/api/v1/live/canteens/1/cameras", headers=headers).get_data(as_text=True),
                   client.get(f"/api/v1/live/cameras/{camera_ids['public']}/recordings",
                              headers=headers).get_data(as_text=True)]
        if play.status_code == 200:
            token = play.json["rtmp_url"].split("token=")[1]
            hook("on_play", call="play", name=f"cam-{camera_ids['public']}", token=token)
            hook("on_done", call="done", name=f"cam-{camera_ids['public']}", token=token)
    for text in [*bodies, caplog.text]:
        for secret in (*SECRETS, HOOK_SECRET):
            assert secret not in text


def test_a_snapshot_of_a_camera_that_wants_credentials_shows_them_to_no_local_user(client, as_user, demo, clock,
                                                                                   camera_ids, caplog):
    """A real HTTP camera behind basic auth: without the credentials no snapshot; with them a picture, and while
    ffmpeg fetches it no process of ours shows the source or the credentials in /proc."""
    import os
    import threading

    from tests.live.camera_sources import HttpCamera, descendants, visible_to_local_users

    camera_id = camera_ids["private"]
    source = HttpCamera(USER, PASSWORD, "/ISAPI/Streaming/tok-5e55ion.ts").start()
    secrets_ = (USER, PASSWORD, "p%40ss", "tok-5e55ion", source.url)
    seen: dict[int, tuple[str, str]] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in descendants(os.getpid()):
                cmdline, environ = visible_to_local_users(pid)
                if cmdline:
                    seen[pid] = (cmdline, environ)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    caplog.set_level("DEBUG")
    try:
        camera = db.session.get(Camera, camera_id)
        camera.source_kind, camera.source_url = "hls", source.url
        db.session.commit()
        refused = client.post(f"/api/v1/live/cameras/{camera_id}/snapshots", headers=as_user("demo-staff-1"))
        assert refused.status_code == 502 and source.refused >= 1 and source.authorised == 0

        camera = db.session.get(Camera, camera_id)
        camera.source_username, camera.source_password = USER, PASSWORD
        db.session.commit()
        watcher.start()
        response = client.post(f"/api/v1/live/cameras/{camera_id}/snapshots", headers=as_user("demo-staff-1"))
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join(timeout=30)
        source.stop()
    assert response.status_code == 201, response.json
    assert (response.json["width"], response.json["height"]) == (768, 576) and source.authorised >= 1
    for cmdline, environ in seen.values():
        for secret in secrets_:
            assert secret not in cmdline and secret not in environ
    # The watcher did see the snapshot's ffmpeg at work (the one reading the camera: its input is the script).
    assert [cmdline for cmdline, _ in seen.values() if cmdline.startswith("ffmpeg ") and "pipe:0" in cmdline], seen
    for record in caplog.records:
        for secret in secrets_:
            assert secret not in record.getMessage()
