"""The camera relay: ffmpeg pulls a camera's own stream (RTSP, RTMP, HTTP, or a file for the demo) and publishes
it to the media server, for cameras that cannot push RTMP themselves.

The relay authenticates with a short-lived relay token the server signs for that camera (a fresh one at
every reconnect), so no publish key has to be copied into its configuration. The source URL and
credentials go to ffmpeg only, through its standard input and never its command line, which every local user
can read (see :mod:`backend.live.sources` for how and why); what the relay logs is scrubbed of them.

A file source (the demo's cameras) is encoded to H.264 once, into the instance's media cache, and relayed from
there with stream copy: looping the file then costs a few percent of a core instead of an encoder's worth.

The publish URL does stay in ffmpeg's command line (an output has no such detour). It carries only the relay
token: bound to this camera and accepted only within ``LIVE_TOKEN_TTL_SECONDS`` of signing, so a local user who
read it could at most publish this one camera for that minute, and not while the relay is publishing it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from flask import Flask

from backend.child_processes import bound_to_parent
from backend.extensions import db
from backend.integrations import media
from backend.live.media_stack import stop_process
from backend.live.services import relay_token
from backend.live.settings import LiveSettings, live_settings
from backend.live.sources import SourceError, ffmpeg_input, scrub, source_secrets
from backend.schools.models import Camera, SourceKind
from backend.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30
SOURCE_TIMEOUT_SECONDS = 10
# The file cameras' H.264 copy: a key frame every second, so HLS can cut its 2 s segments; CRF 30 (about
# 0.5 Mbit/s for the demo video), since every relayed camera is also recorded.
RENDITION_ARGS = ("-map", "0:v:0", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-pix_fmt",
                  "yuv420p", "-force_key_frames", "expr:gte(t,n_forced*1)", "-movflags", "+faststart", "-f", "mp4")


def h264_rendition(source: Path, cache_dir: Path) -> Path:
    """The video of a file source encoded once to H.264 in MP4 (:data:`RENDITION_ARGS`), cached in ``cache_dir``
    under a name that changes with the file's path, size and time and with those arguments.

    Written under a temporary name and renamed, so relays starting together never read a half-written file
    (two that race both encode, and the last rename wins with the same content). Raises
    :class:`subprocess.CalledProcessError` when ffmpeg cannot encode the file.
    """
    stat = source.stat()
    key = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{' '.join(RENDITION_ARGS)}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    target = cache_dir / f"{source.stem}-{digest}.h264.mp4"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cache_dir / f".{target.name}.{os.getpid()}.part"
    try:
        subprocess.run(bound_to_parent(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i",
                                        f"file:{source}", *RENDITION_ARGS, str(partial)], "KILL"),
                       check=True, capture_output=True, timeout=900)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _file_path(camera: Camera) -> Path:
    url = camera.source_url
    return Path(url[len("file:"):] if url.startswith("file:") else url)


def relay_command(camera: Camera, publish_to: str, *, transcode: bool,
                  rendition: Path | None = None) -> tuple[list[str], bytes]:
    """The ffmpeg command that relays one camera (video only: kitchens are watched, not listened to), and the
    script naming the source that goes to its standard input.

    A demo file loops forever at its own frame rate, like a camera would deliver it. With ``rendition`` (see
    :func:`h264_rendition`) the file camera's H.264 copy is looped instead of its source.
    """
    if rendition is not None:
        # A transient, never-added Camera: the same ffconcat input as any file source, naming the copy.
        camera = Camera(source_kind=SourceKind.FILE, source_url=str(rendition))
    input_args, script = ffmpeg_input(camera, SOURCE_TIMEOUT_SECONDS,
                                      realtime_loop=camera.source_kind == SourceKind.FILE)
    video = (["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "50"]
             if transcode else ["-c:v", "copy"])
    return (["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", *input_args,
             "-map", "0:v:0", "-an", *video, "-f", "flv", publish_to], script)


# The ffmpeg processes of this process's relays (one per camera), so that stopping the relays stops them all.
_ffmpegs: set[subprocess.Popen] = set()
_ffmpegs_lock = threading.Lock()
_rendition_lock = threading.Lock()


def _run_ffmpeg(command: list[str], script: bytes) -> tuple[int, bytes]:
    """Run ffmpeg to its end, ``script`` on its standard input; if the relay itself is stopped (SIGTERM, Ctrl-C),
    stop ffmpeg with it; if the relay is killed outright (SIGKILL), the kernel stops ffmpeg
    (:func:`bound_to_parent`)."""
    process = subprocess.Popen(bound_to_parent(command, "KILL"), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    with _ffmpegs_lock:
        _ffmpegs.add(process)
    try:
        _, stderr = process.communicate(input=script)
    except BaseException:
        stop_process(process)
        raise
    finally:
        with _ffmpegs_lock:
            _ffmpegs.discard(process)
    return process.returncode, stderr


def stop_on_sigterm() -> None:
    """Turn SIGTERM (docker stop, a supervisor) into SystemExit, so the running ffmpeg is stopped too."""
    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)


def file_rendition(camera: Camera, settings: LiveSettings) -> Path | None:
    """The cached H.264 copy of a file camera's video, or None (not a file, or ffmpeg could not encode it: the
    relay then encodes while it relays)."""
    if camera.source_kind != SourceKind.FILE:
        return None
    try:
        with _rendition_lock:  # the relays of one process starting together: one encodes, the others find it
            return h264_rendition(_file_path(camera), settings.media_cache_dir)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("relay: camera %s: no H.264 copy of its file (%s); encoding live", camera.id, type(exc).__name__)
        return None


def run_relay(camera_id: int, settings: LiveSettings, *, transcode: bool | None = None, runs: int | None = None,
              sleep: Callable[[float], object] = time.sleep, stop: threading.Event | None = None) -> int:
    """Relay a camera until stopped, reconnecting with backoff; ``runs`` bounds the attempts (tests, one-shot).

    ``transcode`` None (the default) copies a network camera's stream and relays a file camera from its cached
    H.264 copy; True re-encodes, False copies the source as it is. ``stop``, once set, ends the relay after the
    running ffmpeg. Returns ffmpeg's last exit code.
    """
    attempt, code = 0, 0
    while (runs is None or attempt < runs) and not (stop is not None and stop.is_set()):
        camera = db.session.get(Camera, camera_id)
        if camera is None or not camera.enabled:
            log.error("relay: camera %s does not exist or is disabled", camera_id)
            return 2
        if camera.source_kind == SourceKind.PUSH:
            log.error("relay: camera %s pushes its stream to the media server itself; there is nothing to relay",
                      camera_id)
            return 2
        token = relay_token(camera, utcnow(), settings)
        publish_to = media.publish_url(settings.publish_base, camera.id, token)
        rendition = file_rendition(camera, settings) if transcode is None else None
        use_transcode = transcode if transcode is not None else (
            camera.source_kind == SourceKind.FILE and rendition is None)
        try:
            command, script = relay_command(camera, publish_to, transcode=use_transcode, rendition=rendition)
        except SourceError:
            log.error("relay: camera %s has a source URL that cannot be opened", camera_id)
            return 2
        hidden = [*source_secrets(camera), token]
        db.session.rollback()  # hold no transaction open while ffmpeg runs for hours
        log.info("relay: camera %s → %s", camera_id, media.redact_url(settings.publish_base))
        started = time.monotonic()
        code, stderr = _run_ffmpeg(command, script)
        message = scrub(stderr.decode(errors="replace").strip()[-500:], hidden)
        log.warning("relay: camera %s ffmpeg exited %s: %s", camera_id, code, message)
        attempt += 1
        # A relay that ran for a while reconnects quickly; one that keeps failing backs off.
        delay = 1.0 if time.monotonic() - started > 60 else min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempt, 5))
        if runs is None or attempt < runs:
            sleep(delay)
    return code


def run_relays(app: Flask, camera_ids: Sequence[int], *, transcode: bool | None = None) -> int:
    """Relay several cameras from this one process until stopped: a thread (with its own app context) and an
    ffmpeg per camera, each reconnecting on its own as :func:`run_relay` does.

    One process instead of one per camera: every relay process holds a whole app in memory and pays for its
    imports at start. Stopping (SIGTERM through :func:`stop_on_sigterm`, Ctrl-C) stops every ffmpeg. Returns
    the highest last exit code.
    """
    stopping = threading.Event()
    codes: dict[int, int] = {}

    def relay(camera_id: int) -> None:
        with app.app_context():
            codes[camera_id] = run_relay(camera_id, live_settings(), transcode=transcode, sleep=stopping.wait,
                                         stop=stopping)

    threads = [threading.Thread(target=relay, args=(camera_id,), name=f"relay-{camera_id}", daemon=True)
               for camera_id in camera_ids]
    for thread in threads:
        thread.start()
    try:
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.5)
    finally:
        stopping.set()
        deadline = time.monotonic() + 15
        # Again until the threads end: one may have started an ffmpeg just as the stop began.
        while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
            with _ffmpegs_lock:
                running = [process for process in _ffmpegs if process.poll() is None]
            for process in running:
                process.terminate()
            for thread in threads:
                thread.join(timeout=0.2)
    return max(codes.values(), default=0)
