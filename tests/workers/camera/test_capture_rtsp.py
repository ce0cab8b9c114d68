"""Capture over RTSP from a real RTSP server on loopback (GStreamer's gst-rtsp-server, tests/fakes/rtsp_server.py)
serving the demo video with digest or basic authentication: frames over RTP-in-TCP, the camera's credentials
from its source spec, wrong credentials failing cleanly with no password in any log or on stderr, and
cameras sharing a source sharing one connection."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.media import RtspServer, encode_h264
from tests.support.net import returns_within
from tests.workers.camera.stream_checks import assert_demo_frame
from workers.camera.capture import CaptureCache, CaptureError, SourceSpec, StreamSource
from workers.camera.detection.quality import CameraQualityState, QualityProblem, diagnose

pytestmark = pytest.mark.slow

USER = "admin"
PASSWORD = "Kitchen#Secret:42"
WRONG = "Wrong#Guess:17"


@pytest.fixture(scope="module")
def h264_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode_h264(tmp_path_factory.mktemp("rtsp") / "vtest.mkv")


@pytest.fixture
def rtsp_camera(h264_video: Path):
    with RtspServer(h264_video, user=USER, password=PASSWORD, auth="digest") as server:
        yield server


@pytest.mark.parametrize("auth", ["digest", "basic"])
def test_stream_source_reads_the_demo_video_over_rtsp_in_tcp_with_the_cameras_credentials(h264_video, auth):
    with RtspServer(h264_video, user=USER, password=PASSWORD, auth=auth) as server:
        # The URL as an installer enters it; user and password come from the camera's own fields.
        source = StreamSource(SourceSpec("rtsp", server.url(), USER, PASSWORD, 10.0))
        try:
            first = assert_demo_frame(source.read(time.time()))
            time.sleep(2.0)
            later = assert_demo_frame(source.read(time.time()))
        finally:
            source.close()
        # A live stream, kept open: the second sample shows the present (the ~20 frames that queued up while
        # we waited were skipped), not the frame after the first one.
        assert later >= first + 5
        assert server.clients_when(1) == 1
        # RTP inside the RTSP TCP connection was asked for from the start (no UDP attempt first).
        assert server.setups and all(setup.startswith("RTP/AVP/TCP") for setup in server.setups)


def test_wrong_rtsp_credentials_fail_cleanly_and_no_password_appears_anywhere(rtsp_camera, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    url = rtsp_camera.url()
    spec = SourceSpec("rtsp", url, USER, WRONG, 5.0)
    outcome = returns_within(60, lambda: StreamSource(spec).read(time.time()))
    assert isinstance(outcome.error, CaptureError)
    assert str(outcome.error) == f"cannot open stream {url}"

    cache = CaptureCache(tries=2, retry_delay=0.0)
    result = returns_within(60, lambda: cache.read(spec, time.time())).value
    assert result.frame is None and result.tries == 2 and result.error == f"cannot open stream {url}"
    assert diagnose(result.frame, CameraQualityState()).problems == {QualityProblem.OFFLINE}
    # The same with the credentials written into the URL.
    in_url = SourceSpec("rtsp", rtsp_camera.url(f"{USER}:{quote(WRONG, safe='')}@"), timeout_seconds=5.0)
    result = returns_within(60, lambda: cache.read(in_url, time.time())).value
    assert result.frame is None and result.error == f"cannot open stream {url}"
    cache.close()
    assert rtsp_camera.clients_when(5) == 5  # every attempt reached the server and was refused there

    # Neither the log nor what OpenCV and FFmpeg print on stderr carries the password.
    captured = capfd.readouterr()
    texts = [captured.out, captured.err, *(record.getMessage() for record in caplog.records)]
    assert any(f"capture failed for {url}" in text for text in texts)
    for text in texts:
        for secret in (WRONG, quote(WRONG, safe=""), PASSWORD, quote(PASSWORD, safe="")):
            assert secret not in text


def test_cameras_with_the_same_rtsp_source_share_one_connection(rtsp_camera):
    url = rtsp_camera.url()
    kitchen = SourceSpec("rtsp", url, USER, PASSWORD, 10.0)
    same_stream = SourceSpec("rtsp", url, USER, PASSWORD, 10.0)  # a second camera row on the same stream
    cache = CaptureCache(tries=2, retry_delay=0.5)
    for spec in (kitchen, same_stream, kitchen, same_stream):
        result = cache.read(spec, time.time())
        assert result.tries == 1, result.error
        assert_demo_frame(result.frame)
        time.sleep(0.3)
    assert rtsp_camera.clients_when(1) == 1 and cache.opened == 1

    # Another user on the same URL is another connection (here refused: the camera knows no such user)...
    other_user = SourceSpec("rtsp", url, "viewer", PASSWORD, 5.0)
    assert cache.read(other_user, time.time()).frame is None
    assert rtsp_camera.clients_when(3) == 3
    # ...and its failure leaves the shared connection alone.
    assert cache.read(kitchen, time.time()).tries == 1
    assert rtsp_camera.clients_when(3) == 3 and cache.opened == 3
    cache.close()
