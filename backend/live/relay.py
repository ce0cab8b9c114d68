"""The camera relay: ffmpeg pulls a camera's own stream (RTSP, RTMP, HTTP, or a file for the demo) and publishes
it to the media server, for cameras that cannot push RTMP themselves.

The relay authenticates with a short-lived relay token the server signs for that camera (a fresh one at
every reconnect), so no publish key has to be copied into its configuration. The source URL and
credentials go to ffmpeg only; what the relay logs is scrubbed of them.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable

from backend.extensions import db
from backend.integrations import media
from backend.live.services import relay_token
from backend.live.settings import LiveSettings
from backend.live.snapshots import NETWORK_PROTOCOLS, scrub, source_with_credentials
from backend.schools.models import Camera, SourceKind
from backend.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30


def relay_command(camera: Camera, publish_to: str, *, transcode: bool) -> list[str]:
    """The ffmpeg command that relays one camera (video only: kitchens are watched, not listened to)."""
    source = source_with_credentials(camera.source_url, camera.source_username, camera.source_password)
    if camera.source_kind == SourceKind.FILE:
        # A demo file loops forever at its own frame rate, like a camera would deliver it.
        input_options = ["-re", "-stream_loop", "-1", "-protocol_whitelist", "file"]
    elif camera.source_kind == SourceKind.RTSP:
        input_options = ["-rtsp_transport", "tcp", "-timeout", "10000000", "-protocol_whitelist", NETWORK_PROTOCOLS]
    else:
        input_options = ["-rw_timeout", "10000000", "-protocol_whitelist", NETWORK_PROTOCOLS]
    video = (["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "50"]
             if transcode else ["-c:v", "copy"])
    return ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", *input_options, "-i", source,
            "-map", "0:v:0", "-an", *video, "-f", "flv", publish_to]


def _run_ffmpeg(command: list[str]) -> tuple[int, bytes]:
    """Run ffmpeg to its end; if the relay itself is stopped (SIGTERM, Ctrl-C), stop ffmpeg with it."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, stderr = process.communicate()
    except BaseException:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    return process.returncode, stderr


def stop_on_sigterm() -> None:
    """Turn SIGTERM (docker stop, a supervisor) into SystemExit, so the running ffmpeg is stopped too."""
    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)


def run_relay(camera_id: int, settings: LiveSettings, *, transcode: bool | None = None, runs: int | None = None,
              sleep: Callable[[float], None] = time.sleep) -> int:
    """Relay a camera until stopped, reconnecting with backoff; ``runs`` bounds the attempts (tests, one-shot).

    Returns ffmpeg's last exit code.
    """
    attempt, code = 0, 0
    while runs is None or attempt < runs:
        camera = db.session.get(Camera, camera_id)
        if camera is None or not camera.enabled:
            log.error("relay: camera %s does not exist or is disabled", camera_id)
            return 2
        token = relay_token(camera, utcnow(), settings)
        publish_to = media.publish_url(settings.publish_base, camera.id, token)
        use_transcode = transcode if transcode is not None else camera.source_kind == SourceKind.FILE
        command = relay_command(camera, publish_to, transcode=use_transcode)
        hidden = [command[command.index("-i") + 1], camera.source_url, camera.source_username,
                  camera.source_password, token]
        db.session.rollback()  # hold no transaction open while ffmpeg runs for hours
        log.info("relay: camera %s → %s", camera_id, media.redact_url(settings.publish_base))
        started = time.monotonic()
        code, stderr = _run_ffmpeg(command)
        message = scrub(stderr.decode(errors="replace").strip()[-500:], hidden)
        log.warning("relay: camera %s ffmpeg exited %s: %s", camera_id, code, message)
        attempt += 1
        # A relay that ran for a while reconnects quickly; one that keeps failing backs off.
        delay = 1.0 if time.monotonic() - started > 60 else min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempt, 5))
        if runs is None or attempt < runs:
            sleep(delay)
    return code
