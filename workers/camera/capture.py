"""Reading one frame from a camera source, with timeouts, a per-worker connection cache and reconnects.

Sources: ``file`` loops a video file as if it were a live camera (the frame shown at a given time is
``time x fps`` modulo the length), RTSP / RTMP / HLS through OpenCV's FFmpeg backend, and HTTP snapshot
URLs (ONVIF-style JPEG, basic or digest authentication). Every network read has a timeout. No Flask here.

A camera's source is the camera's own: for RTMP or HLS, the stream its camera or NVR serves. The project's
media server is not one (it plays only for single-use viewer tokens from the api).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np
import requests
import urllib3

from backend.source_urls import with_credentials

log = logging.getLogger(__name__)

# Options OpenCV hands to FFmpeg at every open (key;value pairs joined by |), unless the operator set their own:
# - FFmpeg reads RTSP over UDP first, which drops packets on busy networks: TCP gives whole frames.
# - An RTMP stream announces audio in its FLV header even when a camera sends none (kitchen cameras often do
#   not), and FFmpeg then probes for 5 s for that audio: every (re)connection would eat the whole open
#   timeout. One second of probing finds the video (its parameters come first, in the sequence header).
FFMPEG_CAPTURE_OPTIONS = "rtsp_transport;tcp|analyzeduration;1000000"
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", FFMPEG_CAPTURE_OPTIONS)


class _QueryHidden(logging.Filter):
    """urllib3 logs request URLs at DEBUG with their query string, and cheap cameras take the password there
    (``/snapshot.cgi?user=admin&pwd=...``): keep the path, hide the query."""

    _QUERY = re.compile(r"\?[^\s'\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's string arguments; never drop the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(self._QUERY.sub("?<hidden>", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_QueryHidden())

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
    # A camera that pushes to the media server (kind ``push``): ``url`` is its stream there, which names the source
    # (cache key, logs), and ``connect_url`` that stream with a fresh sample token, used when a connection opens.
    connect_url: str | None = None

    def redacted(self) -> str:
        """The URL without user information, query or fragment, for logs.

        A URL that does not parse cleanly (say a password with an unescaped ``#``, ``/`` or ``@`` typed into
        it) is not guessed at: only its scheme is shown, so no piece of a password can reach a log line.
        """
        if self.kind == "file":
            return self.url
        try:
            parts = urlsplit(self.url)
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
        except ValueError:
            parts, host = None, ""
        if parts is None or not parts.scheme or not host or "@" in parts.path:
            scheme = self.url.split(":", 1)[0] if ":" in self.url else ""
            return f"{scheme}://<unparsed URL>" if scheme.isalnum() else "<unparsed URL>"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

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
                    # The stream ended or stalled for a whole read timeout: reading on would only wait
                    # another timeout for the same answer.
                    self.close()
                    return None
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


class _CameraDigestAuth(requests.auth.HTTPDigestAuth):
    """Digest authentication whose nonce and nonce count belong to the camera, not to the calling thread.

    requests keeps digest state per thread, but the worker pool's threads take turns reading a camera (the
    cache's per-source lock serialises them): with per-thread state each new thread would start with a 401
    again. One camera, one state.
    """

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        self._thread_local = SimpleNamespace()  # type: ignore[assignment]


class SnapshotSource:
    """An HTTP(S) snapshot URL returning one JPEG/PNG per request, over a kept-alive session.

    With a user, the first request carries no credentials: the camera's challenge decides the scheme. Digest
    (what ONVIF cameras usually ask for) is answered and then sent directly with every later request; basic
    is used only when the camera asks for it, so a password never travels in clear to a camera that did
    not. Not thread-safe on its own: the :class:`CaptureCache` serialises the reads of a source.
    """

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self._session = requests.Session()
        self._digest = _CameraDigestAuth(spec.username or "", spec.password or "")
        self._basic = False

    def _auth(self) -> requests.auth.AuthBase | None:
        if not self.spec.username:
            return None
        if self._basic:
            return requests.auth.HTTPBasicAuth(self.spec.username, self.spec.password or "")
        # Sends nothing until the camera sends a digest challenge; answers it and remembers it.
        return self._digest

    def _get(self) -> requests.Response:
        timeout = (self.spec.timeout_seconds, self.spec.timeout_seconds)
        response = self._session.get(self.spec.url, auth=self._auth(), timeout=timeout, stream=True)
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        if response.status_code == 401 and self.spec.username and not self._basic and challenge.startswith("basic"):
            response.close()
            self._basic = True  # the camera wants basic: remember it for this camera
            response = self._session.get(self.spec.url, auth=self._auth(), timeout=timeout, stream=True)
        return response

    def _body(self, response: requests.Response) -> bytes:
        """The body, capped in size and in total time.

        Each read returns after one socket read (at most ``timeout_seconds``), so a camera that dribbles
        its answer is cut off at the deadline instead of holding the worker for as long as it likes.
        """
        body = bytearray()
        deadline = time.monotonic() + self.spec.timeout_seconds * 2
        while True:
            chunk = response.raw.read1(64 * 1024, decode_content=True)
            if not chunk:
                return bytes(body)
            body.extend(chunk)
            if len(body) > MAX_SNAPSHOT_BYTES:
                raise CaptureError(f"snapshot {self.spec.redacted()}: larger than {MAX_SNAPSHOT_BYTES} bytes")
            if time.monotonic() > deadline:
                raise CaptureError(f"snapshot {self.spec.redacted()}: body too slow")

    def read(self, at: float) -> np.ndarray | None:
        """Fetch and decode one picture; the body is capped and checked by content, not by header."""
        try:
            response = self._get()
        except requests.RequestException as exc:
            raise CaptureError(f"snapshot {self.spec.redacted()}: {type(exc).__name__}") from exc
        with response:
            if response.status_code != 200:
                raise CaptureError(f"snapshot {self.spec.redacted()}: HTTP {response.status_code}")
            try:
                body = self._body(response)
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise CaptureError(f"snapshot {self.spec.redacted()}: {type(exc).__name__}") from exc
        frame = cv2.imdecode(np.frombuffer(body, dtype=np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise CaptureError(f"snapshot {self.spec.redacted()}: not a picture")
        return frame

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()


class PushSource(StreamSource):
    """A camera's pushed stream on the platform's media server. Its sample token is checked when a connection
    opens, so a reconnection (after a stall, or an idle reopen) uses the newest sample's URL (:meth:`renew`)."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(self._played(spec))

    @staticmethod
    def _played(spec: SourceSpec) -> SourceSpec:
        if not spec.connect_url:
            raise CaptureError("no sample URL for a pushed camera")
        return SourceSpec("rtmp", spec.connect_url, timeout_seconds=spec.timeout_seconds)

    def renew(self, spec: SourceSpec) -> None:
        """Connect with ``spec``'s sample URL from now on (the open connection, if any, stays)."""
        if spec.connect_url:
            self.spec = self._played(spec)


def open_source(spec: SourceSpec) -> FrameSource:
    """A source object for the spec's kind."""
    if spec.kind == "file":
        return FileSource(spec.url)
    if spec.kind in STREAM_KINDS:
        return StreamSource(spec)
    if spec.kind == "push":
        return PushSource(spec)
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
    """The worker's open sources, least recently used dropped first; one lock per source.

    Cameras with the same source (kind, URL and user) share one connection. ``opened`` counts the sources
    this cache has opened, reconnections included.
    """

    def __init__(self, max_open: int = 256, tries: int = 2, retry_delay: float = 0.2) -> None:
        self.max_open = max_open
        self.tries = tries
        self.retry_delay = retry_delay
        self.opened = 0
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
        evicted: list[tuple[FrameSource, threading.Lock]] = []
        with self._lock:
            entry = self._sources.setdefault(key, (source, threading.Lock()))
            if entry[0] is source:
                self.opened += 1
            while len(self._sources) > self.max_open:
                evicted.append(self._sources.popitem(last=False)[1])
        if entry[0] is not source:
            source.close()
        for old, old_lock in evicted:
            with old_lock:  # never release a connection another thread is reading from
                old.close()
        return entry

    def _drop(self, spec: SourceSpec, source: FrameSource | None) -> None:
        """Forget the source that failed (not one another thread has opened since) and release it."""
        if source is None:
            return  # it never opened: nothing of ours is in the cache
        key = spec.cache_key()
        with self._lock:
            entry = self._sources.get(key)
            if entry is None or entry[0] is not source:
                return
            del self._sources[key]
        with entry[1]:
            entry[0].close()

    def read(self, spec: SourceSpec, at: float) -> CaptureResult:
        """Up to ``tries`` attempts, reconnecting after each failure; never raises for the camera's faults."""
        error: str | None = None
        for attempt in range(1, self.tries + 1):
            source: FrameSource | None = None
            try:
                source, lock = self._entry(spec)
                with lock:
                    if isinstance(source, PushSource):
                        source.renew(spec)
                    frame = source.read(at)
                if frame is not None and frame.size:
                    return CaptureResult(frame, attempt)
                error = "no frame"
            except CaptureError as exc:
                error = str(exc)
            except cv2.error as exc:
                error = f"decoder error: {exc.msg if hasattr(exc, 'msg') else exc}"
            self._drop(spec, source)
            if attempt < self.tries:
                time.sleep(self.retry_delay)
        log.info("capture failed for %s after %d tries: %s", spec.redacted(), self.tries, error)
        return CaptureResult(None, self.tries, error)

    def close(self) -> None:
        """Release every open source."""
        with self._lock:
            entries = list(self._sources.values())
            self._sources.clear()
        for source, lock in entries:
            with lock:
                source.close()
