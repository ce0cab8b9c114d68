"""Run the demo: the api (gunicorn), the scheduler and workers, a local WeChat fake, and the live video: the
media server (nginx-rtmp) with one relay per demo camera looping the demo video into it.

Started by `make demo` after migrating and seeding. Ctrl-C stops everything; if one process dies the
others are stopped too, so a broken demo never looks half alive (a relay that dies is restarted instead: a
camera that drops out and comes back is part of the product).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from backend.live.media_stack import MediaStack

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the project's packages are importable here too
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def start_wechat_fake(env: dict[str, str]) -> subprocess.Popen[str] | None:
    """Without real WeChat credentials, log-ins from WeChat DevTools go to the local fake."""
    from backend.child_processes import bound_to_parent

    if env.get("WECHAT_API_BASE"):
        return None
    command = [PYTHON, "-m", "tests.fakes.wechat_server", "--host", "127.0.0.1",
               "--port", env.get("WECHAT_FAKE_PORT", "0"), "--appid", env.get("WECHAT_APPID", "wx_dev_appid"),
               "--secret", env.get("WECHAT_SECRET", "dev-wechat-secret")]
    process = subprocess.Popen(bound_to_parent(command), cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("LISTENING "):
        process.kill()
        raise SystemExit(f"the WeChat fake did not start: {line!r}")
    env["WECHAT_API_BASE"] = line.split(" ", 1)[1].strip()
    print(f"WeChat fake at {env['WECHAT_API_BASE']}", flush=True)
    return process


def wait_until_up(url: str, seconds: float) -> bool:
    """Poll a URL until it answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def choose_media_ports(env: dict[str, str]) -> tuple[int, int]:
    """The media server's RTMP and HTTP ports: those of MEDIA_RTMP_BASE / MEDIA_HLS_BASE when set; otherwise
    the settings' defaults (1935, 8080), or free ones when those are taken. The api learns the chosen ones from
    the environment, so the play URLs it signs point at this media server."""
    from backend.config import SETTINGS
    from backend.live.media_stack import free_port, port_is_free

    defaults = {s.name: s.default for s in SETTINGS}
    ports = []
    for name in ("MEDIA_RTMP_BASE", "MEDIA_HLS_BASE"):
        parts = urlsplit(env.get(name) or str(defaults[name]))
        port = parts.port or (1935 if parts.scheme == "rtmp" else 80)
        if not env.get(name) and not port_is_free(port):
            port = free_port()
            print(f"port {parts.port} is taken; the media server uses {port} for {name}", flush=True)
        env[name] = urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))
        ports.append(port)
    return ports[0], ports[1]


def choose_hook_listen(env: dict[str, str], api_port: int) -> str:
    """Where the api's workers answer the media server's hooks (MEDIA_HOOK_LISTEN, backend/live/hook_listener.py):
    as set, or loopback on the api's port + 1 (a free one when that is taken); the media server runs here too."""
    from backend.live.hook_listener import hook_base
    from backend.live.media_stack import free_port, port_is_free

    if not env.get("MEDIA_HOOK_LISTEN"):
        port = api_port + 1 if api_port < 65535 and port_is_free(api_port + 1) else free_port()
        env["MEDIA_HOOK_LISTEN"] = f"127.0.0.1:{port}"
    return str(hook_base(env))


def start_media_stack(env: dict[str, str], ports: tuple[int, int], api_base: str,
                      listen_host: str) -> MediaStack | None:
    """Start the media server and the demo cameras' relays (backend.live.media_stack) for the api at
    ``api_base``, with the settings in ``env``; ``None``, saying why, when nginx or ffmpeg is missing."""
    from backend.app import create_app
    from backend.config import SETTINGS
    from backend.live.media_stack import MediaStack

    rtmp_port, http_port = ports
    app = create_app({s.name: env[s.name] for s in SETTINGS if env.get(s.name)}, with_routes=False)
    with app.app_context():
        stack = MediaStack(api_base=api_base, rtmp_port=rtmp_port, http_port=http_port, listen_host=listen_host)
        print("starting the media server and the demo cameras' relays (the first run encodes the demo video to "
              "H.264 once, into instance/media-cache)", flush=True)
        try:
            stack.start()
        except RuntimeError as exc:
            print(f"live video is off: {exc}", file=sys.stderr, flush=True)
            stack.stop()
            return None
    print(f"media server: {env['MEDIA_RTMP_BASE']}  {env['MEDIA_HLS_BASE']}  "
          f"({len(stack.camera_ids)} demo cameras relayed)", flush=True)
    return stack


def main() -> int:
    """Start every process, report where the api listens, and supervise until interrupted."""
    from backend.child_processes import bound_to_parent

    env = dict(os.environ)
    env.setdefault("APP_ENV", "development")
    env["PYTHONPATH"] = str(ROOT)
    host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "5000")
    processes: list[subprocess.Popen[str]] = []
    fake = start_wechat_fake(env)
    if fake:
        processes.append(fake)
    media_ports = choose_media_ports(env)  # before the api starts: it signs play URLs for these ports
    hooks_base = choose_hook_listen(env, int(port))  # before the api starts: its workers listen there
    media: MediaStack | None = None
    # Every child gets the parent-death signal: a demo runner killed outright leaves nothing running.
    processes.append(subprocess.Popen(bound_to_parent(
        [str(BIN / "gunicorn"), "--bind", f"{host}:{port}", "--workers", "2", "--threads", "4",
         "--access-logfile", "-", "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
         "--config", "python:backend.live.gunicorn_conf", "backend.app:create_app()"]), cwd=ROOT, env=env, text=True))
    if (ROOT / "workers" / "__main__.py").exists():
        processes.append(subprocess.Popen(bound_to_parent([PYTHON, "-m", "workers", "scheduler"]), cwd=ROOT, env=env,
                                          text=True))

    def stop(*_: object) -> None:
        if media is not None:
            media.stop()
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    base = f"http://{host}:{port}"
    if wait_until_up(f"{base}/healthz", 30):
        # Once the api answers, so the relays' first publish already finds its hooks (on its workers' listener).
        media = start_media_stack(env, media_ports, hooks_base, host)
        print(f"\n明厨亮灶 demo is up: {base}/healthz  {base}/openapi.json  {base}/docs\n"
              "Log in as any demo user with POST /api/v1/auth/dev-login {\"openid\": \"demo-parent-1\"}\n"
              "Live kitchens: POST /api/v1/live/cameras/<id>/play as demo-staff-1 (cameras 1-3, any time) or "
              "demo-parent-2 (cameras 4-5, all day)\n", flush=True)
    try:
        while all(p.poll() is None for p in processes) and (media is None or media.check()):
            time.sleep(0.5)
        print("a demo process exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
