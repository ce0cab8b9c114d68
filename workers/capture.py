"""Reading one frame from a camera source, with timeouts, a per-worker connection cache and reconnects.

Sources: ``file`` loops a video file as if it were a live camera (the frame shown at a given time is
``time x fps`` modulo the length), RTSP / RTMP / HLS through OpenCV's FFmpeg backend, and HTTP snapshot
URLs (ONVIF-style JPEG, basic or digest authentication). Every network read has a timeout. No Flask here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import cv2
import numpy as np
import requests

log = logging.getLogger(__name__)

# FFmpeg reads RTSP over UDP by default, which drops packets on busy networks: TCP gives whole frames.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

STREAM_KINDS = ("rtsp", "rtmp", "hls")
MAX_SNAPSHOT_BYTES = 15 * 1024 * 1024


class CaptureError(Exception):
    """The source cannot give a frame (unreachable, refused, not a picture, ...)."""


@dataclass(frozen=True)
class SourceSpec:
    """Where and how to read a camera; credentials stay out of logs (see :meth:`redacted`)."""

    kind: str
    url: str
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 5.0

    def redacted(self) -> str:
        """The URL without any user information, for logs."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", "")) if parts.scheme else self.url

    def cache_key(self) -> tuple[str, str, str | None]:
        """Connections are shared by every camera with the same source and user."""
        return (self.kind, self.url, self.username)


class FrameSource(Protocol):
    """One open source."""

    def read(self, at: float) -> np.ndarray | None:
        """A BGR frame for sample time ``at`` (epoch seconds), or None; may raise CaptureError."""

    def close(self) -> None:
        """Release the connection."""


class FileSource:
    """A video file played in a loop on the wall clock: the demo's and the tests' camera."""

    def __init__(self, path: str) -> None:
        if not Path(path).is_file():
            raise CaptureError(f"video file not found: {path}")
        self.path = path
        self._cap = cv2.VideoCapture(path)
        if not self._cap.isOpened():
            raise CaptureError(f"cannot open video file: {path}")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 25.0
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if self.frame_count <= 0:
            raise CaptureError(f"video file has no frames: {path}")
        self._next = 0

    def frame_index(self, at: float) -> int:
        """Which frame a live camera playing this file would show at ``at``."""
        return int(at * self.fps) % self.frame_count

    def read(self, at: float) -> np.ndarray | None:
        """Decode the frame for ``at``; a short step forward is decoded, a longer jump seeks."""
        target = self.frame_index(at)
        ahead = target - self._next
        if not 0 <= ahead <= int(self.fps * 2):
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, target)
        else:
            for _ in range(ahead):
                self._cap.grab()
        ok, frame = self._cap.read()
        if not ok:
            # Some containers misreport their length: start over from the beginning once.
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
            target = 0
        self._next = target + 1
        return frame if ok else None

    def close(self) -> None:
        """Release the decoder."""
        self._cap.release()


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """``url`` with user information added (RTSP/RTMP carry credentials in the URL)."""
    if not username:
        return url
    parts = urlsplit(url)
    if parts.username:
        return url
    userinfo = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))


class StreamSource:
    """RTSP / RTMP / HLS through FFmpeg, kept open between samples.

    A connection idle longer than ``reopen_after`` is reopened: its buffer only holds stale pictures.
    Otherwise the frames queued since the last sample are skipped so the sample shows the present.
    """

    def __init__(self, spec: SourceSpec, reopen_after: float = 30.0, max_skip: int = 150) -> None:
        self.spec = spec
        self.reopen_after = reopen_after
        self.max_skip = max_skip
        self._cap: cv2.VideoCapture | None = None
        self._last_read = 0.0

    def _open(self) -> cv2.VideoCapture:
        timeout_ms = int(self.spec.timeout_seconds * 1000)
        cap = cv2.VideoCapture(with_credentials(self.spec.url, self.spec.username, self.spec.password),
                               cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms,
                                                cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms])
        if not cap.isOpened():
            cap.release()
            raise CaptureError(f"cannot open stream {self.spec.redacted()}")
        return cap

    def read(self, at: float) -> np.ndarray | None:
        """The newest frame; raises CaptureError when the stream cannot be (re)opened."""
        now = time.monotonic()
        if self._cap is not None and now - self._last_read > self.reopen_after:
            self.close()
        if self._cap is None:
            self._cap = self._open()
        else:
            fps = self._cap.get(cv2.CAP_PROP_FPS) or 25.0
            backlog = min(self.max_skip, int((now - self._last_read) * fps) - 1)
            for _ in range(max(0, backlog)):
                if not self._cap.grab():
                    break
        ok, frame = self._cap.read()
        self._last_read = time.monotonic()
        if not ok:
            self.close()
            return None
        return frame

    def close(self) -> None:
        """Drop the connection."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class SnapshotSource:
    """An HTTP(S) snapshot URL returning one JPEG/PNG per request, over a kept-alive session."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self._session = requests.Session()
        self._digest = False

    def _auth(self) -> requests.auth.AuthBase | None:
        if not self.spec.username:
            return None
        if self._digest:
            return requests.auth.HTTPDigestAuth(self.spec.username, self.spec.password or "")
        return requests.auth.HTTPBasicAuth(self.spec.username, self.spec.password or "")

    def _get(self) -> requests.Response:
        timeout = (self.spec.timeout_seconds, self.spec.timeout_seconds)
        response = self._session.get(self.spec.url, auth=self._auth(), timeout=timeout, stream=True)
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        if response.status_code == 401 and self.spec.username and not self._digest and "digest" in challenge:
            response.close()
            self._digest = True  # ONVIF cameras usually want digest; remember it for this camera
            response = self._session.get(self.spec.url, auth=self._auth(), timeout=timeout, stream=True)
        return response

    def read(self, at: float) -> np.ndarray | None:
        """Fetch and decode one picture; the body is capped and checked by content, not by header."""
        try:
            response = self._get()
        except requests.RequestException as exc:
            raise CaptureError(f"snapshot {self.spec.redacted()}: {type(exc).__name__}") from exc
        with response:
            if response.status_code != 200:
                raise CaptureError(f"snapshot {self.spec.redacted()}: HTTP {response.status_code}")
            body = bytearray()
            deadline = time.monotonic() + self.spec.timeout_seconds * 2
            try:
                for chunk in response.iter_content(64 * 1024):
                    body.extend(chunk)
                    if len(body) > MAX_SNAPSHOT_BYTES:
                        raise CaptureError(f"snapshot {self.spec.redacted()}: larger than {MAX_SNAPSHOT_BYTES} bytes")
                    if time.monotonic() > deadline:
                        raise CaptureError(f"snapshot {self.spec.redacted()}: body too slow")
            except requests.RequestException as exc:
                raise CaptureError(f"snapshot {self.spec.redacted()}: {type(exc).__name__}") from exc
        frame = cv2.imdecode(np.frombuffer(bytes(body), dtype=np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise CaptureError(f"snapshot {self.spec.redacted()}: not a picture")
        return frame

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()


def open_source(spec: SourceSpec) -> FrameSource:
    """A source object for the spec's kind."""
    if spec.kind == "file":
        return FileSource(spec.url)
    if spec.kind in STREAM_KINDS:
        return StreamSource(spec)
    if spec.kind == "http_snapshot":
        return SnapshotSource(spec)
    raise CaptureError(f"unknown source kind {spec.kind!r}")


@dataclass(frozen=True)
class CaptureResult:
    """A frame (or None after every try failed), how many tries it took, and the last error."""

    frame: np.ndarray | None
    tries: int
    error: str | None = None


class CaptureCache:
    """The worker's open sources, least recently used dropped first; one lock per source."""

    def __init__(self, max_open: int = 256, tries: int = 2, retry_delay: float = 0.2) -> None:
        self.max_open = max_open
        self.tries = tries
        self.retry_delay = retry_delay
        self._sources: OrderedDict[tuple[str, str, str | None], tuple[FrameSource, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    def _entry(self, spec: SourceSpec) -> tuple[FrameSource, threading.Lock]:
        key = spec.cache_key()
        with self._lock:
            entry = self._sources.get(key)
            if entry is not None:
                self._sources.move_to_end(key)
                return entry
        source = open_source(spec)
        with self._lock:
            entry = self._sources.setdefault(key, (source, threading.Lock()))
            if entry[0] is not source:
                source.close()
            while len(self._sources) > self.max_open:
                _, (old, old_lock) = self._sources.popitem(last=False)
                with old_lock:
                    old.close()
            return entry

    def _drop(self, spec: SourceSpec) -> None:
        with self._lock:
            entry = self._sources.pop(spec.cache_key(), None)
        if entry is not None:
            entry[0].close()

    def read(self, spec: SourceSpec, at: float) -> CaptureResult:
        """Up to ``tries`` attempts, reconnecting after each failure; never raises for the camera's faults."""
        error: str | None = None
        for attempt in range(1, self.tries + 1):
            try:
                source, lock = self._entry(spec)
                with lock:
                    frame = source.read(at)
                if frame is not None and frame.size:
                    return CaptureResult(frame, attempt)
                error = "no frame"
            except CaptureError as exc:
                error = str(exc)
            except cv2.error as exc:
                error = f"decoder error: {exc.msg if hasattr(exc, 'msg') else exc}"
            self._drop(spec)
            if attempt < self.tries:
                time.sleep(self.retry_delay)
        log.info("capture failed for %s after %d tries: %s", spec.redacted(), self.tries, error)
        return CaptureResult(None, self.tries, error)

    def close(self) -> None:
        """Release every open source."""
        with self._lock:
            entries = list(self._sources.values())
            self._sources.clear()
        for source, _ in entries:
            source.close()
