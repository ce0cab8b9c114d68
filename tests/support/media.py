"""Real media servers and a real camera on loopback, for the live-view tests and the capture tests.

* :class:`MediaServer` runs Debian's nginx with the RTMP module, either with the project's own configuration
  (docker/media/nginx.conf.template, every publish and play decided by the api's hooks) or, with
  :meth:`MediaServer.start_standalone`, as a camera's or NVR's own streaming server (RTMP and HLS, no hooks).
  Nothing under /etc/nginx is touched: nginx runs with a temporary prefix folder and is stopped by its pid.
* :func:`publish` is ffmpeg acting as a camera: the demo video (opencv-doc's vtest.avi) in real time, as H.264
  in FLV over RTMP.
* :class:`RtspServer` runs tests/fakes/rtsp_server.py (GStreamer's gst-rtsp-server) under the system Python.

A missing tool is an error naming the Debian packages to install (see .ci/run), never a silent skip.
"""

from __future__ import annotations

import getpass
import queue
import subprocess
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from backend.integrations.media import render_media_config
from backend.live.media_stack import require_media_tools, start_nginx
from backend.live.mediaconf import DEFAULT_TEMPLATE
from tests.support.net import kill_process
from workers.demo_media import demo_video

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER_SCRIPT = ROOT / "tests" / "fakes" / "rtsp_server.py"

# A camera's or an NVR's own streaming server: what a worker reads when a camera's source is RTMP or HLS.
# Same nginx and module as the project's media server, without the api's hooks (its streams are the camera
# owner's, not tokens the api hands to viewers). Players of a stream nobody publishes wait (idle_streams is
# on by default), as with many such servers: only the reader's own timeout ends that wait.
STANDALONE_TEMPLATE = """\
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
user ${MEDIA_USER};
worker_processes 1;
pid temp/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }

rtmp {
    server {
        listen ${RTMP_LISTEN};
        chunk_size 4096;
        application live {
            live on;
            hls on;
            hls_path ${HLS_DIR};
            hls_fragment 1s;
            hls_playlist_length 6s;
        }
    }
}

http {
    access_log off;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;

    server {
        listen ${HTTP_LISTEN};
        location /hls/ {
            types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
            alias ${HLS_DIR}/;
            add_header Cache-Control no-store;
        }
        location = /stat { rtmp_stat all; }
        location = /healthz { return 200 "ok\\n"; }
        location / { return 404; }
    }
}
"""


def require_nginx_rtmp() -> None:
    """Raise with the packages to install when nginx, its RTMP module or ffmpeg is missing."""
    require_media_tools()


def require_ffmpeg() -> None:
    """Raise with the package to install when ffmpeg is missing."""
    require_media_tools()


@dataclass
class MediaServer:
    """A running nginx-rtmp on loopback."""

    prefix: Path
    hls_dir: Path
    record_dir: Path
    rtmp_port: int
    http_port: int
    process: subprocess.Popen | None = None

    @property
    def rtmp_base(self) -> str:
        """Where streams of the ``live`` application are published and played."""
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    @property
    def http_base(self) -> str:
        """The HTTP side (HLS, health)."""
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, api_base: str, hook_secret: str, record_interval: str = "4s") -> MediaServer:
        """Render the project's template for this run (hooks to ``api_base``) and start nginx."""
        return self._run(render_media_config(DEFAULT_TEMPLATE.read_text(), {
            **self._variables(), "API_HOOK_BASE": api_base, "MEDIA_HOOK_SECRET": hook_secret,
            "RECORD_DIR": str(self.record_dir), "RECORD_INTERVAL": record_interval}))

    def start_standalone(self) -> MediaServer:
        """Start nginx as a camera's own streaming server: RTMP, HLS under /hls/<stream>.m3u8, no hooks."""
        return self._run(render_media_config(STANDALONE_TEMPLATE, self._variables()))

    def _variables(self) -> dict[str, str]:
        return {"MEDIA_USER": getpass.getuser(), "RTMP_LISTEN": f"127.0.0.1:{self.rtmp_port}",
                "HTTP_LISTEN": f"127.0.0.1:{self.http_port}", "HLS_DIR": str(self.hls_dir)}

    def _run(self, config: str) -> MediaServer:
        require_nginx_rtmp()
        self.hls_dir.mkdir(parents=True, exist_ok=True)
        self.record_dir.mkdir(parents=True, exist_ok=True)
        self.process = start_nginx(self.prefix, config, [self.rtmp_port, self.http_port])
        with urllib.request.urlopen(f"{self.http_base}/healthz", timeout=10) as response:
            assert response.read() == b"ok\n"
        return self

    def stop(self) -> None:
        """Stop nginx (TERM, then KILL) by its own pid."""
        if self.process is not None:
            kill_process(self.process)

    def log(self) -> str:
        """What nginx wrote to stderr (for failure messages)."""
        path = self.prefix / "nginx.stderr"
        return path.read_text(errors="replace") if path.exists() else ""

    def stream_clients(self, stream: str) -> dict[str, int]:
        """From the standalone server's rtmp_stat page: publishers and players of ``stream`` right now."""
        with urllib.request.urlopen(f"{self.http_base}/stat", timeout=10) as response:
            root = ET.fromstring(response.read())
        counts = {"publishers": 0, "players": 0}
        for node in root.iter("stream"):
            if node.findtext("name") == stream:
                for client in node.iter("client"):
                    counts["publishers" if client.find("publishing") is not None else "players"] += 1
        return counts


def publish(url: str, seconds: float | None = None) -> subprocess.Popen:
    """ffmpeg as the camera: the demo video in a loop in real time, H.264 with a key frame every second."""
    require_ffmpeg()
    limit = ["-t", str(seconds)] if seconds else []
    return subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
                             "-i", str(demo_video()), *limit, "-an", "-c:v", "libx264", "-preset", "ultrafast",
                             "-tune", "zerolatency", "-g", "10", "-f", "flv", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def encode_h264(path: Path) -> Path:
    """The demo video encoded once to H.264 in Matroska (what tests/fakes/rtsp_server.py serves).

    One slice per picture (no ``-tune zerolatency``, whose sliced threads cut pictures into several slices):
    FFmpeg's RTSP client decodes the first pictures of a multi-slice stream served by gst-rtsp-server with
    their lower part missing, which would make "is this the demo video" checks fail for a reason that has
    nothing to do with the capture code.
    """
    require_ffmpeg()
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(demo_video()),
                    "-an", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p",
                    "-f", "matroska", str(path)], check=True, timeout=300)
    return path


def require_rtsp_server() -> None:
    """Raise with the packages to install when the system Python cannot run gst-rtsp-server."""
    probe = ("import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst, GstRtspServer; "
             "Gst.init(None); missing = [n for n in ('filesrc', 'matroskademux', 'h264parse', 'rtph264pay') "
             "if Gst.ElementFactory.find(n) is None]; print(' '.join(missing)); raise SystemExit(1 if missing else 0)")
    result = None
    if Path(SYSTEM_PYTHON).exists():
        result = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    if result is None or result.returncode != 0:
        detail = (result.stdout + result.stderr).strip()[-300:] if result is not None else "no /usr/bin/python3"
        raise RuntimeError("the RTSP server needs python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-base, "
                           f"-good and -bad (see .ci/run): {detail}")


class RtspServer:
    """tests/fakes/rtsp_server.py as a child process on a port the kernel chose; counts its connections."""

    def __init__(self, video: Path, *, user: str | None = None, password: str | None = None,
                 auth: str = "digest", mount: str = "/cam") -> None:
        self.video, self.user, self.password, self.auth, self.mount = video, user, password, auth, mount
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.clients = 0
        self.setups: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._pump_thread: threading.Thread | None = None

    def url(self, with_userinfo: str = "") -> str:
        """The stream's URL (credentials belong in SourceSpec, not here, unless a test means otherwise)."""
        return f"rtsp://{with_userinfo}127.0.0.1:{self.port}{self.mount}"

    def clients_when(self, expected: int, seconds: float = 10.0) -> int:
        """The count of clients once it is ``expected``, or what it is after ``seconds``: the server reports each
        connection on its stdout, which a thread reads, so the count lags a connection by a moment."""
        deadline = time.monotonic() + seconds
        while self.clients != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.clients

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            line = line.strip()
            if line.startswith("CLIENT "):
                self.clients = int(line.split()[1])
            elif line.startswith("SETUP "):
                self.setups.append(line.split(" ", 1)[1])
            self._lines.put(line)

    def start(self, timeout: float = 60) -> RtspServer:
        """Start the server and wait for its READY line."""
        require_rtsp_server()
        command = [SYSTEM_PYTHON, str(RTSP_SERVER_SCRIPT), "--video", str(self.video), "--port", "0",
                   "--mount", self.mount, "--auth", self.auth]
        if self.user:
            command += ["--user", self.user, "--password", self.password or ""]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self._pump_thread = threading.Thread(target=self._pump, name="rtsp-server-stdout", daemon=True)
        self._pump_thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the RTSP server exited: {self.process.stderr.read()[-2000:]}") from None
                continue
            if line.startswith("READY "):
                # Listening already (a probe connection here would count as a client).
                self.port = int(line.split()[1])
                return self
        raise RuntimeError("the RTSP server did not start")

    def stop(self) -> None:
        """Stop the server by its own pid."""
        if self.process is not None:
            kill_process(self.process)
            if self._pump_thread is not None:
                self._pump_thread.join(timeout=10)
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
