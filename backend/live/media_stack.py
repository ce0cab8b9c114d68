"""The media stack as child processes: the media server (Debian's nginx with the RTMP module, configured from
docker/media/nginx.conf.template) and the relay (`flask live relay`, one process, one ffmpeg per camera) of the
cameras that cannot push.

`make demo` runs it through scripts/run_demo.py, and the demo's test starts it through the same
:class:`MediaStack`. nginx gets its own prefix folder under the instance (configuration, temp/, HLS), ports that
need no root, and hooks to the api with MEDIA_HOOK_SECRET; nothing under /etc/nginx is read or written.
Every process is stopped by its own pid.
"""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from backend.child_processes import bound_to_parent
from backend.extensions import db
from backend.integrations.media import render_media_config
from backend.live.mediaconf import DEFAULT_TEMPLATE, default_variables
from backend.live.settings import live_settings
from backend.schools.models import Camera, SourceKind

log = logging.getLogger(__name__)

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
# What a relay process needs to sign its tokens and find its camera: the api's own values.
RELAY_SETTINGS = ("APP_ENV", "DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "INSTANCE_PATH",
                  "MEDIA_RTMP_BASE", "MEDIA_RTMP_PUBLISH_BASE", "LIVE_TOKEN_TTL_SECONDS", "LOG_LEVEL")
RELAY_RESTART_SECONDS = 5.0


def require_media_tools() -> None:
    """Raise with the Debian packages to install when nginx, its RTMP module or ffmpeg is missing."""
    if shutil.which("nginx") is None or not RTMP_MODULE.exists():
        raise RuntimeError("nginx-light and libnginx-mod-rtmp must be installed (scripts/system_packages.sh)")
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg must be installed (scripts/system_packages.sh)")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port`` and it can be bound."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port the kernel chose (closed again; the caller binds it right away)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen | None, deadline: float, what: str = "the server") -> None:
    """Poll until something accepts connections on loopback ``port``; fail early if ``process`` exits."""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited while starting (code {process.returncode})")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


def stop_process(process: subprocess.Popen) -> None:
    """Stop a child process by its own pid: TERM, then KILL after ten seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_nginx(prefix: Path, config: str, ports: Sequence[int], timeout: float = 30) -> subprocess.Popen:
    """Write ``config`` into ``prefix``, check it with ``nginx -t``, run nginx in the foreground with that prefix
    (stderr into ``prefix/nginx.stderr``) and wait until every port listens."""
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)  # nginx opens its default error log before reading -e
    conf = prefix / "nginx.conf"
    conf.write_text(config)
    command = ["nginx", "-e", "stderr", "-p", f"{prefix}/", "-c", str(conf)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx rejected the rendered configuration: {checked.stderr}")
    with open(prefix / "nginx.stderr", "ab") as stderr:
        process = subprocess.Popen(bound_to_parent([*command, "-g", "daemon off;"]), stdout=subprocess.DEVNULL,
                                   stderr=stderr)
    deadline = time.monotonic() + timeout
    try:
        for port in ports:
            wait_for_port(port, process, deadline, "nginx")
    except RuntimeError:
        stop_process(process)
        raise
    return process


def relay_cameras() -> list[Camera]:
    """The enabled cameras whose video is a file (the demo's): they cannot push, a relay publishes them."""
    return list(db.session.scalars(sa.select(Camera).where(Camera.enabled.is_(True),
                                                           Camera.source_kind == SourceKind.FILE)
                                   .order_by(Camera.id)))


@dataclass
class MediaStack:
    """nginx-rtmp with the project's configuration plus the relay of the file cameras, for the app in context.

    ``api_base`` is where nginx sends its hooks and HLS authorisations; ``listen_host`` is the address nginx
    listens on (the api's). The hook secret, recording folder and instance path come from the app's settings.
    """

    api_base: str
    rtmp_port: int
    http_port: int
    listen_host: str = "127.0.0.1"
    record_interval: str = "5m"
    # None: `flask live relay`'s default (a file camera from its cached H.264 copy); True: re-encode live.
    relay_transcode: bool | None = None
    nginx: subprocess.Popen | None = None
    relay: subprocess.Popen | None = None
    camera_ids: list[int] = field(default_factory=list)
    _restart_after: float = 0.0
    _relay_env: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> Path:
        """nginx's own folder: its configuration, temp/ and the HLS playlists and segments."""
        return Path(current_app.config["INSTANCE_PATH"]) / "media"

    @property
    def hls_dir(self) -> Path:
        """Where nginx writes HLS (read back by nginx only, after the api authorised the request)."""
        return self.prefix / "hls"

    def start(self) -> MediaStack:
        """Start nginx, then the relay of the file cameras (it encodes their H.264 copy first when not cached)."""
        require_media_tools()
        settings = live_settings()
        self.hls_dir.mkdir(parents=True, exist_ok=True)
        settings.record_dir.mkdir(parents=True, exist_ok=True)
        variables = {**default_variables(current_app.config), "MEDIA_USER": getpass.getuser(),
                     "RTMP_LISTEN": f"{self.listen_host}:{self.rtmp_port}",
                     "HTTP_LISTEN": f"{self.listen_host}:{self.http_port}", "API_HOOK_BASE": self.api_base,
                     "MEDIA_HOOK_SECRET": settings.hook_secret, "HLS_DIR": str(self.hls_dir),
                     "RECORD_DIR": str(settings.record_dir), "RECORD_INTERVAL": self.record_interval}
        config = render_media_config(DEFAULT_TEMPLATE.read_text(encoding="utf-8"), variables)
        self.nginx = start_nginx(self.prefix, config, [self.rtmp_port, self.http_port])
        log.info("media server: rtmp %s:%s, http %s:%s", self.listen_host, self.rtmp_port, self.listen_host,
                 self.http_port)
        publish_base = f"rtmp://127.0.0.1:{self.rtmp_port}/live"
        self._relay_env = {**os.environ, **{name: str(current_app.config[name]) for name in RELAY_SETTINGS
                                            if current_app.config.get(name)},
                           "MEDIA_RTMP_PUBLISH_BASE": publish_base, "FLASK_APP": "backend.app:create_app"}
        self.camera_ids = [camera.id for camera in relay_cameras()]
        db.session.rollback()
        if self.camera_ids:
            self._start_relay()
        return self

    def _start_relay(self) -> None:
        mode = [] if self.relay_transcode is None else ["--transcode" if self.relay_transcode else "--copy"]
        self.relay = subprocess.Popen(
            bound_to_parent([sys.executable, "-m", "flask", "live", "relay", *mode, *map(str, self.camera_ids)]),
            env=self._relay_env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self._restart_after = time.monotonic() + RELAY_RESTART_SECONDS

    def check(self) -> bool:
        """Restart the relay if it exited (at most once every few seconds; each camera's ffmpeg is restarted by
        the relay itself); False once nginx exited."""
        if self.relay is not None and self.relay.poll() is not None and time.monotonic() >= self._restart_after:
            log.warning("the relay exited %s; restarting it", self.relay.returncode)
            self._start_relay()
        return self.nginx is not None and self.nginx.poll() is None

    def stop(self) -> None:
        """Stop the relay (and with it every ffmpeg it runs), then nginx."""
        if self.relay is not None:
            stop_process(self.relay)
        if self.nginx is not None:
            stop_process(self.nginx)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of what nginx wrote to stderr (for failure messages)."""
        path = self.prefix / "nginx.stderr"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""
