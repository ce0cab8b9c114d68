"""The demo's live video on loopback: how long a camera takes from its relay's start to a first playable HLS
segment, and what relaying the demo cameras costs in CPU (nginx + the relays, from /proc).

    .venv/bin/python bench/demo_relay.py [--seconds 30] [--mode copy|transcode] [--cameras 6]

Starts the media stack exactly as `make demo` does (backend.live.media_stack.MediaStack, as scripts/run_demo.py)
against the api on gunicorn, on a demo-seeded SQLite database in a fresh instance folder (/tmp/kitchen-bench-demo,
the H.264 copy of the demo video kept between runs in its media cache: delete
/tmp/kitchen-bench-demo/media-cache to include its encoding). ``copy`` is the default relay (the
demo video encoded once, then stream copy); ``transcode`` re-encodes it live (the relay's former default for
file cameras). Prints, per camera, the seconds from the relay's start to the first segment fetched over HTTP
with a staff member's play URL, then the CPU of nginx and of the relays (their Python and ffmpeg processes)
over ``--seconds``, as % of one core per camera. ``--cameras N`` keeps only the first N demo cameras enabled
(``--cameras 1``: one relay starting alone, without the others' start-up competing for the CPU).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import run  # noqa: E402
from bench.loadgen import start_gunicorn  # noqa: E402
from tests.support.net import http_get  # noqa: E402

INSTANCE = Path("/tmp/kitchen-bench-demo")
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes together, in MB."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total / 1e6


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):  # children started from any thread
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            queue += children
    return found


def _first_segment(client, headers: dict[str, str], camera_id: int, started: float, limit: float) -> float:
    """Seconds from ``started`` until the camera's HLS playlist lists a segment that can be fetched (the play
    API answers once the camera publishes)."""
    hls = None
    while time.monotonic() - started < limit:
        if hls is None:
            response = client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=headers)
            hls = response.json["hls_url"] if response.status_code == 200 else None
            if hls is None:
                time.sleep(0.1)
                continue
        status, body = http_get(hls)
        names = [line for line in body.decode(errors="replace").splitlines() if line.endswith(".ts")]
        if status == 200 and names and http_get(urljoin(hls, names[0]))[0] == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    raise SystemExit(f"camera {camera_id}: no playable segment within {limit} s")


def main() -> int:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--mode", choices=["copy", "transcode"], default="copy")
    parser.add_argument("--cameras", type=int, default=6)
    args = parser.parse_args()
    for stale in ("kitchen.db", "media", "recordings"):
        path = INSTANCE / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    env = {**os.environ, "APP_ENV": "development", "INSTANCE_PATH": str(INSTANCE), "LOG_LEVEL": "WARNING",
           "FLASK_APP": "backend.app:create_app", "PYTHONPATH": str(ROOT)}
    from backend.live.media_stack import free_port

    rtmp_port, http_port, api_port = free_port(), free_port(), free_port()
    env.update(MEDIA_RTMP_BASE=f"rtmp://127.0.0.1:{rtmp_port}/live", MEDIA_HLS_BASE=f"http://127.0.0.1:{http_port}/hls")
    flask = str(Path(sys.executable).parent / "flask")
    run([flask, "db", "upgrade"], env)
    run([flask, "seed-demo"], env)
    os.environ.update(env)
    api, base = start_gunicorn(env, api_port, workers=1, threads=4)

    from backend.accounts.models import User
    from backend.accounts.services import issue_session
    from backend.app import create_app
    from backend.extensions import db
    from backend.live.media_stack import MediaStack, relay_cameras

    app = create_app()
    stack = MediaStack(api_base=base, rtmp_port=rtmp_port, http_port=http_port,
                       relay_transcode=None if args.mode == "copy" else True)
    try:
        with app.app_context():
            for camera in relay_cameras()[args.cameras:]:
                camera.enabled = False
            # The staff of each school (staff watch their own school's cameras at any time).
            headers = {}
            for camera in relay_cameras():
                school = camera.area.canteen.school_id
                staff = db.session.query(User).filter_by(openid=f"demo-staff-{school}").one()
                headers[camera.id] = {"Authorization": f"Bearer {issue_session(staff, 1).token}"}
            db.session.commit()
            encoded = time.monotonic()
            stack.start()
            started = time.monotonic()
            print(f"mode {args.mode}: stack started in {started - encoded:.1f} s (nginx, "
                  f"relay of {len(stack.camera_ids)} cameras)")
            client = app.test_client()
            for camera_id in stack.camera_ids:
                seconds = _first_segment(client, headers[camera_id], camera_id, started, 60)
                print(f"camera {camera_id}: first playable HLS segment {seconds:.1f} s after the relays started")
        time.sleep(5)  # past the start-up burst
        assert stack.nginx is not None and stack.relay is not None
        groups = {"nginx": [stack.nginx.pid, *_descendants(stack.nginx.pid)], "relay python": [stack.relay.pid],
                  "relay ffmpeg": _descendants(stack.relay.pid)}
        before = {name: sum(_cpu_seconds(p) for p in pids) for name, pids in groups.items()}
        time.sleep(args.seconds)
        after = {name: sum(_cpu_seconds(p) for p in pids) for name, pids in groups.items()}
        cameras = len(stack.camera_ids)
        total = 0.0
        for name in groups:
            share = (after[name] - before[name]) / args.seconds * 100
            total += share
            print(f"{name}: {share:.1f} % of one core ({share / cameras:.2f} % per camera)")
        print("resident memory: " + ", ".join(f"{name} {_rss_mb(pids):.0f} MB" for name, pids in groups.items()))
        print(f"nginx + relays: {total:.1f} % of one core, {total / cameras:.2f} % per camera "
              f"({cameras} cameras, {args.seconds:.0f} s, load average {os.getloadavg()[0]:.1f})")
    finally:
        stack.stop()
        api.terminate()
        api.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
