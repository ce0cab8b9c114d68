"""HTTP snapshot cameras over real HTTP on loopback: digest authentication (RFC 7616, checked by the camera),
basic authentication, a camera that never answers and one that answers too slowly; no password in any log."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import cv2
import numpy as np
import pytest

from tests.fakes.http_camera import SnapshotCamera
from tests.support.net import SilentServer, returns_within
from tests.workers.camera.detection.detection_testdata import vtest_frame
from tests.workers.conftest import jpeg
from workers.camera.capture import CaptureCache, CaptureError, SnapshotSource, SourceSpec
from workers.camera.detection.quality import CameraQualityState, QualityProblem, diagnose

PASSWORD = "Kitchen#Secret:42"  # distinctive, so a leak anywhere is unmistakable
WRONG = "Wrong#Guess:17"


def _same_picture(got: np.ndarray, frame: np.ndarray) -> bool:
    return got.shape == frame.shape and float(np.mean(cv2.absdiff(got, frame))) < 3.0  # through JPEG


def _no_secret_in(records: list[logging.LogRecord], *secrets: str) -> None:
    for record in records:
        text = record.getMessage() + (str(record.args) if record.args else "")
        for secret in secrets:
            pieces = [piece for piece in secret.replace("#", ":").split(":") if len(piece) >= 4]
            for form in {secret, quote(secret, safe=""), *pieces}:
                assert form not in text, f"a secret reached the log: {record.name}: {text}"


def test_digest_camera_gives_its_frame_and_digest_is_sent_directly_afterwards() -> None:
    frame = vtest_frame(7)
    with SnapshotCamera("admin", PASSWORD, auth="digest", body=jpeg(frame)) as camera:
        source = SnapshotSource(SourceSpec("http_snapshot", camera.url, "admin", PASSWORD, 5.0))
        assert _same_picture(source.read(0.0), frame)
        # The first request carried no credentials (no basic password in clear to a digest camera); the
        # camera's challenge was answered with digest, which the camera checked and accepted.
        assert camera.auth_seen == ["none", "digest"]
        assert camera.unauthorized == 1

        # Later reads send digest straight away, with the nonce count going up (no replay)...
        for _ in range(3):
            assert _same_picture(source.read(0.0), frame)
        # ...also from the other threads of the worker pool, which take turns reading a camera.
        with ThreadPoolExecutor(2) as pool:
            for got in [pool.submit(source.read, 0.0).result() for _ in range(4)]:
                assert _same_picture(got, frame)
        assert camera.auth_seen[2:] == ["digest"] * 7
        assert camera.unauthorized == 1
        assert (camera.replays, camera.bad_hashes) == (0, 0)

        # The camera forgets its nonces: the stale answer costs one 401 and the read still succeeds.
        camera.expire_nonces()
        assert _same_picture(source.read(0.0), frame)
        assert camera.unauthorized == 2 and camera.auth_seen[-2:] == ["digest", "digest"]
        source.close()


def test_the_worker_cache_keeps_one_digest_session_for_cameras_sharing_a_snapshot_url() -> None:
    frame = vtest_frame(11)
    with SnapshotCamera("admin", PASSWORD, auth="digest", body=jpeg(frame)) as camera:
        first = SourceSpec("http_snapshot", camera.url, "admin", PASSWORD, 5.0)
        second = SourceSpec("http_snapshot", camera.url, "admin", PASSWORD, 5.0)
        cache = CaptureCache(tries=2, retry_delay=0.0)
        for spec in (first, second, first, second):
            result = cache.read(spec, 0.0)
            assert result.tries == 1 and _same_picture(result.frame, frame)
        assert cache.opened == 1
        assert camera.unauthorized == 1 and camera.requests == 5
        cache.close()


def test_wrong_credentials_fail_cleanly_the_camera_shows_offline_and_no_password_is_logged(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with SnapshotCamera("admin", PASSWORD, auth="digest", body=jpeg(vtest_frame(2))) as camera:
        spec = SourceSpec("http_snapshot", camera.url, "admin", WRONG, 3.0)
        with pytest.raises(CaptureError, match="HTTP 401") as raised:
            SnapshotSource(spec).read(0.0)
        assert camera.bad_hashes == 1  # the camera recomputed the hash and refused it
        assert WRONG not in str(raised.value) and "admin" not in str(raised.value)

        cache = CaptureCache(tries=2, retry_delay=0.0)
        result = cache.read(spec, 0.0)
        assert result.frame is None and result.tries == 2 and result.error.endswith("HTTP 401")
        report = diagnose(result.frame, CameraQualityState())
        assert report.problems == {QualityProblem.OFFLINE}

        # Credentials written into the URL (user information, or a query string as cheap cameras take them)
        # are kept out of the log line too.
        port = camera.port
        for url in (f"http://admin:{quote(WRONG, safe='')}@127.0.0.1:{port}/snapshot.jpg",
                    f"http://127.0.0.1:{port}/snapshot.jpg?user=admin&pwd={quote(WRONG, safe='')}"):
            failed = cache.read(SourceSpec("http_snapshot", url, timeout_seconds=3.0), 0.0)
            assert failed.frame is None and "HTTP 401" in failed.error
            assert failed.error.startswith(f"snapshot http://127.0.0.1:{port}/snapshot.jpg: ")
        # The password typed into the URL without escaping: the URL does not even parse. Still no crash, and
        # no part of the password in the error or the log.
        broken = cache.read(SourceSpec("http_snapshot", f"http://admin:{WRONG}@127.0.0.1:{port}/snapshot.jpg",
                                       timeout_seconds=3.0), 0.0)
        assert broken.frame is None and broken.error.startswith("snapshot http://<unparsed URL>: ")
        # And a camera that is not there at all (connection refused, which urllib3 logs with the URL).
        with SilentServer() as gone:
            closed_port = gone.port
        refused = cache.read(SourceSpec("http_snapshot", f"http://127.0.0.1:{closed_port}/snapshot.jpg?user=admin&pwd="
                                        f"{quote(WRONG, safe='')}", "admin", PASSWORD, 3.0), 0.0)
        assert refused.frame is None and "ConnectionError" in refused.error
        cache.close()
    assert any("capture failed for http://127.0.0.1:" in r.getMessage() for r in caplog.records)
    _no_secret_in(caplog.records, PASSWORD, WRONG)


def test_basic_camera_is_answered_with_basic_only_after_it_asks_and_then_directly() -> None:
    frame = vtest_frame(4)
    with SnapshotCamera("admin", PASSWORD, auth="basic", body=jpeg(frame)) as camera:
        source = SnapshotSource(SourceSpec("http_snapshot", camera.url, "admin", PASSWORD, 5.0))
        for _ in range(3):
            assert _same_picture(source.read(0.0), frame)
        assert camera.auth_seen == ["none", "basic", "basic", "basic"]
        assert camera.unauthorized == 1
        source.close()
        with pytest.raises(CaptureError, match="HTTP 401"):
            SnapshotSource(SourceSpec("http_snapshot", camera.url, "admin", WRONG, 5.0)).read(0.0)


def test_a_camera_without_authentication_gets_no_credentials() -> None:
    frame = vtest_frame(9)
    with SnapshotCamera(body=jpeg(frame)) as camera:
        source = SnapshotSource(SourceSpec("http_snapshot", camera.url, "admin", PASSWORD, 5.0))
        assert _same_picture(source.read(0.0), frame)
        assert camera.auth_seen == ["none"]
        source.close()


def test_a_camera_that_accepts_the_connection_but_never_answers_times_out(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with SilentServer() as silent:
        spec = SourceSpec("http_snapshot", f"http://127.0.0.1:{silent.port}/snapshot.jpg", "admin", PASSWORD, 1.0)
        outcome = returns_within(30, lambda: SnapshotSource(spec).read(0.0))
        assert isinstance(outcome.error, CaptureError) and "ReadTimeout" in str(outcome.error)
        cache = CaptureCache(tries=2, retry_delay=0.0)
        result = returns_within(30, lambda: cache.read(spec, 0.0)).value
        assert result.frame is None and "ReadTimeout" in result.error
        assert silent.accepted >= 3
        cache.close()
    _no_secret_in(caplog.records, PASSWORD)


def test_a_camera_that_dribbles_its_answer_is_cut_off_at_the_deadline() -> None:
    frame = vtest_frame(1)
    with SnapshotCamera("admin", PASSWORD, auth="digest", body=jpeg(frame)) as camera:
        source = SnapshotSource(SourceSpec("http_snapshot", camera.url, "admin", PASSWORD, 1.0))
        assert _same_picture(source.read(0.0), frame)
        # One byte every 0.2 s: no single socket read ever waits the 1 s timeout, yet the ~60 kB picture
        # would take hours. The total deadline (twice the timeout) ends it.
        camera.dribble = 0.2
        outcome = returns_within(30, lambda: source.read(0.0))
        assert isinstance(outcome.error, CaptureError) and "body too slow" in str(outcome.error)
        camera.dribble = 0.0
        source.close()
