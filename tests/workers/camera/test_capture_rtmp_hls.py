"""Capture over RTMP and HLS from a camera's own streaming server on loopback, and every stream kind giving up
on a peer that never answers.

What a worker reads is the camera's own source (``Camera.source_url``). For an RTMP or HLS camera that is the
stream its camera or NVR serves, e.g. ``rtmp://nvr/live/ch1`` or ``http://nvr/hls/ch1.m3u8``. It is not the
project's media server: that one lets only viewers holding a single-use play token from the api play, so a
worker, which reads a fixed URL again and again, could not read it. The camera's streaming server here is
the same nginx-rtmp the project's media server runs, configured without the api's hooks
(``MediaServer.start_standalone``), with ffmpeg publishing the demo video to it as the camera would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import MediaServer, publish
from tests.support.net import SilentServer, free_port, kill_process, returns_within
from tests.workers.camera.stream_checks import assert_demo_frame
from workers.camera.capture import CaptureCache, CaptureError, CaptureResult, SourceSpec, StreamSource

pytestmark = pytest.mark.slow

STREAM = "kitchen1"


def _wait(predicate: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Camera:
    """ffmpeg publishing the demo video to the streaming server as stream ``kitchen1``; can stop and restart."""

    def __init__(self, server: MediaServer) -> None:
        self.server = server
        self.process = None

    def start(self) -> None:
        self.process = publish(f"{self.server.rtmp_base}/{STREAM}")
        _wait(lambda: self.server.stream_clients(STREAM)["publishers"] == 1, 60,
              f"the camera to publish ({self.server.log()[-500:]})")

    def stop(self) -> None:
        if self.process is not None:
            kill_process(self.process)
            self.process = None
        _wait(lambda: self.server.stream_clients(STREAM)["publishers"] == 0, 60, "the camera to stop publishing")

    def playlist_ready(self) -> bool:
        playlist = self.server.hls_dir / f"{STREAM}.m3u8"
        return playlist.exists() and ".ts" in playlist.read_text()


@pytest.fixture
def streaming_server(tmp_path: Path) -> Iterator[MediaServer]:
    server = MediaServer(prefix=tmp_path / "nginx", hls_dir=tmp_path / "hls", record_dir=tmp_path / "unused",
                         rtmp_port=free_port(), http_port=free_port())
    server.start_standalone()
    yield server
    server.stop()


@pytest.fixture
def camera(streaming_server: MediaServer) -> Iterator[Camera]:
    publisher = Camera(streaming_server)
    publisher.start()
    yield publisher
    if publisher.process is not None:
        kill_process(publisher.process)


def _spec(kind: str, server: MediaServer, timeout: float, stream: str = STREAM) -> SourceSpec:
    if kind == "rtmp":
        return SourceSpec("rtmp", f"{server.rtmp_base}/{stream}", timeout_seconds=timeout)
    return SourceSpec("hls", f"{server.http_base}/hls/{stream}.m3u8", timeout_seconds=timeout)


def _read(cache: CaptureCache, spec: SourceSpec) -> CaptureResult:
    """One sample, which must return at all (a generous bound: several timeouts, reconnects included)."""
    return returns_within(120, lambda: cache.read(spec, time.time())).value


def test_rtmp_and_hls_sources_read_the_cameras_live_frames(streaming_server, camera):
    cache = CaptureCache(tries=2, retry_delay=0.5)
    rtmp = _spec("rtmp", streaming_server, 10.0)
    first = _read(cache, rtmp)
    assert first.tries == 1, first.error
    assert_demo_frame(first.frame)
    time.sleep(1.0)
    second = _read(cache, rtmp)
    assert second.tries == 1, second.error
    assert_demo_frame(second.frame)
    assert (second.frame != first.frame).any()  # live pictures, read over the connection kept open
    assert streaming_server.stream_clients(STREAM) == {"publishers": 1, "players": 1}

    _wait(camera.playlist_ready, 60, "the HLS playlist")
    hls = _spec("hls", streaming_server, 10.0)
    for _ in range(2):
        result = _read(cache, hls)
        assert result.tries == 1, result.error
        assert_demo_frame(result.frame)
        time.sleep(1.0)
    assert cache.opened == 2  # one RTMP and one HLS connection, each kept between samples
    cache.close()
    _wait(lambda: streaming_server.stream_clients(STREAM)["players"] == 0, 30, "the RTMP player to leave")


@pytest.mark.parametrize("kind", ["rtmp", "hls"])
def test_the_cache_reconnects_when_the_camera_stops_and_comes_back(streaming_server, camera, kind, caplog):
    caplog.set_level(logging.INFO)
    if kind == "hls":
        _wait(camera.playlist_ready, 60, "the HLS playlist")
    cache = CaptureCache(tries=2, retry_delay=0.5)
    spec = _spec(kind, streaming_server, 4.0)
    result = _read(cache, spec)
    assert result.tries == 1, result.error
    assert_demo_frame(result.frame)

    # The camera goes away. What was already buffered may still come out for a moment (HLS keeps serving
    # the last playlist until the server cleans it up), then the samples fail: within the timeouts, without
    # hanging.
    camera.stop()
    failed = None
    for _ in range(30):
        result = _read(cache, spec)
        if result.frame is None:
            failed = result
            break
        time.sleep(1.0)
    assert failed is not None, "a stopped camera still gave frames after 30 samples"
    assert failed.tries == 2 and failed.error
    assert "capture failed for " + spec.redacted() in caplog.text
    opened_before = cache.opened

    # The camera comes back: the cache opens a new connection and reads live frames again.
    camera.start()
    if kind == "hls":
        _wait(camera.playlist_ready, 60, "the new HLS playlist")
    recovered = None
    for _ in range(30):
        result = _read(cache, spec)
        if result.frame is not None:
            recovered = result
            break
        time.sleep(1.0)
    assert recovered is not None, "the cache did not read the camera again after it came back"
    assert_demo_frame(recovered.frame)
    assert cache.opened > opened_before
    if kind == "rtmp":
        assert streaming_server.stream_clients(STREAM) == {"publishers": 1, "players": 1}  # the old one is gone
    cache.close()


def test_a_stream_nobody_publishes_ends_in_an_error_within_the_timeout(streaming_server, camera):
    # The streaming server keeps an RTMP player of an unpublished stream waiting forever: only the open
    # timeout ends it. An HLS playlist that does not exist is a plain 404.
    for kind in ("rtmp", "hls"):
        spec = _spec(kind, streaming_server, 2.0, stream="nobody")
        outcome = returns_within(60, lambda spec=spec: StreamSource(spec).read(time.time()))
        assert isinstance(outcome.error, CaptureError), outcome.value
        assert str(outcome.error) == f"cannot open stream {spec.redacted()}"
        result = _read(CaptureCache(tries=2, retry_delay=0.0), spec)
        assert result.frame is None and result.error == f"cannot open stream {spec.redacted()}"
    # The camera that is publishing is unaffected.
    assert_demo_frame(_read(CaptureCache(), _spec("rtmp", streaming_server, 10.0)).frame)


@pytest.mark.parametrize("scheme", ["rtsp", "rtmp", "hls"])
def test_stream_sources_give_up_on_a_peer_that_never_answers(scheme):
    with SilentServer() as silent:
        url = {"rtsp": f"rtsp://127.0.0.1:{silent.port}/cam", "rtmp": f"rtmp://127.0.0.1:{silent.port}/live/cam",
               "hls": f"http://127.0.0.1:{silent.port}/hls/cam.m3u8"}[scheme]
        spec = SourceSpec(scheme, url, "admin", "Kitchen#Secret:42", 2.0)
        outcome = returns_within(60, lambda: StreamSource(spec).read(time.time()))
        assert isinstance(outcome.error, CaptureError), outcome.value
        assert silent.accepted >= 1  # it connected, then waited for an answer that never came
