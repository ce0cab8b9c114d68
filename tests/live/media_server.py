"""Run the project's nginx-rtmp configuration (docker/media/nginx.conf.template) on loopback for the tests.

Nothing under /etc/nginx is touched: nginx runs with a temporary prefix folder and a rendered copy of the
template; it is stopped by its own process id.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from backend.integrations.media import render_media_config
from backend.live.mediaconf import DEFAULT_TEMPLATE


def _wait_for_port(port: int, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("nginx exited while starting")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}")


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
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    def start(self, api_base: str, hook_secret: str, record_interval: str = "4s") -> MediaServer:
        """Render the template for this run and start nginx in the foreground."""
        if shutil.which("nginx") is None or not Path("/usr/lib/nginx/modules/ngx_rtmp_module.so").exists():
            raise RuntimeError("nginx-light and libnginx-mod-rtmp must be installed (see .ci/run)")
        (self.prefix / "temp").mkdir(parents=True, exist_ok=True)
        self.hls_dir.mkdir(parents=True, exist_ok=True)
        self.record_dir.mkdir(parents=True, exist_ok=True)
        config = render_media_config(DEFAULT_TEMPLATE.read_text(), {
            "MEDIA_USER": getpass.getuser(), "RTMP_LISTEN": f"127.0.0.1:{self.rtmp_port}",
            "HTTP_LISTEN": f"127.0.0.1:{self.http_port}", "API_HOOK_BASE": api_base,
            "MEDIA_HOOK_SECRET": hook_secret, "HLS_DIR": str(self.hls_dir), "RECORD_DIR": str(self.record_dir),
            "RECORD_INTERVAL": record_interval})
        conf = self.prefix / "nginx.conf"
        conf.write_text(config)
        command = ["nginx", "-e", "stderr", "-p", f"{self.prefix}/", "-c", str(conf)]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx rejected the rendered template: {checked.stderr}")
        self.process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                        stderr=open(self.prefix / "nginx.stderr", "wb"))  # noqa: SIM115
        deadline = time.monotonic() + 15
        _wait_for_port(self.rtmp_port, self.process, deadline)
        _wait_for_port(self.http_port, self.process, deadline)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/healthz", timeout=5) as response:
            assert response.read() == b"ok\n"
        return self

    def stop(self) -> None:
        """Stop nginx (TERM, then KILL) by its own pid."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        """What nginx wrote to stderr (for failure messages)."""
        path = self.prefix / "nginx.stderr"
        return path.read_text(errors="replace") if path.exists() else ""


def kill_process(process: subprocess.Popen) -> None:
    """Stop a child process started by a test, by its own pid."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, 9)
            process.wait(timeout=10)
