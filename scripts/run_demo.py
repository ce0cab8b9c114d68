"""Run the demo: the api (gunicorn), the scheduler and workers, and a local WeChat fake.

Started by `make demo` after migrating and seeding. Ctrl-C stops everything; if one process dies the
others are stopped too, so a broken demo never looks half alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def start_wechat_fake(env: dict[str, str]) -> subprocess.Popen[str] | None:
    """Without real WeChat credentials, log-ins from WeChat DevTools go to the local fake."""
    if env.get("WECHAT_API_BASE"):
        return None
    process = subprocess.Popen(
        [PYTHON, "-m", "tests.fakes.wechat_server", "--host", "127.0.0.1", "--port", env.get("WECHAT_FAKE_PORT", "0"),
         "--appid", env.get("WECHAT_APPID", "wx_dev_appid"), "--secret", env.get("WECHAT_SECRET", "dev-wechat-secret")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
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


def main() -> int:
    """Start every process, report where the api listens, and supervise until interrupted."""
    env = dict(os.environ)
    env.setdefault("APP_ENV", "development")
    env["PYTHONPATH"] = str(ROOT)
    host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "5000")
    processes: list[subprocess.Popen[str]] = []
    fake = start_wechat_fake(env)
    if fake:
        processes.append(fake)
    processes.append(subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"{host}:{port}", "--workers", "2", "--threads", "4",
         "--access-logfile", "-", "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
         "backend.app:create_app()"], cwd=ROOT, env=env, text=True))
    if (ROOT / "workers" / "__main__.py").exists():
        processes.append(subprocess.Popen([PYTHON, "-m", "workers", "scheduler"], cwd=ROOT, env=env, text=True))

    def stop(*_: object) -> None:
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
        print(f"\n明厨亮灶 demo is up: {base}/healthz  {base}/openapi.json  {base}/docs\n"
              "Log in as any demo user with POST /api/v1/auth/dev-login {\"openid\": \"demo-parent-1\"}\n", flush=True)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("a demo process exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
