"""The media server's on_play hook next to /healthz, on gunicorn + PostgreSQL seeded with seed-scale.

    .venv/bin/python bench/live.py [--schools 500] [--parents-per-school 10] [--seconds 5] [--concurrency 16]
                                   [--hooks listener|gunicorn]

Every on_play request is what nginx-rtmp sends for a new player: a form POST (head and body in one write)
with the hook secret in the URL and a fresh signed play token of a parent for their school's camera (tokens
are one-use, so each request carries its own). Each accepted play opens a view session: the hook runs its
whole path (token check, per-school lock, viewer caps at their defaults of 50 per camera and 200 per school,
session insert, commit). The api runs as in production: gunicorn (gthread) with the config module that starts
the media hook listener in each worker (backend/live/gunicorn_conf.py, MEDIA_HOOK_LISTEN on --port + 1). With
``--hooks listener`` (the default, where the media server sends its hooks) on_play goes to that listener, with
``--hooks gunicorn`` to the api's own port, where the same gateway answers it in front of Flask
(backend/live/gateway.py); /healthz, like every API route, goes to gunicorn and Flask either way.
Tokens are spread evenly over the seeded schools' cameras (each client thread walks the cameras in one shared
shuffled order from its own offset, so after n plays no camera has more than about n / cameras + one per thread),
a round sends at most 45 plays per camera (a thread whose tokens run out stops early), and the players of a
round leave before the next one (their sessions are closed between rounds, outside the timed windows), so that
no camera fills up however fast the plays go: a refused play counts as an error.
Prints requests/s and p50/p99 of both endpoints measured with the same concurrency and keep-alive connections,
interleaved in one run, and the ratio on_play/healthz (target ≥ 0.9, issue 15), also as the CPU per request of
the server (gunicorn's master and workers, the listener's threads among them) and its database's backends
(steadier on a busy machine).
Uses its own database (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/kitchen_bench_live),
dropped and recreated each run.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import random
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import describe_run, seeded_bench_arguments, seeded_database  # noqa: E402
from bench.loadgen import (  # noqa: E402
    CpuMeter,
    LoadResult,
    OneWriteConnection,
    cpu_ms_per_request,
    database_cpu_ms_per_request,
    print_lines,
    print_ratio,
    start_gunicorn,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/kitchen_bench_live"
SECRET_KEY = "bench-" + "k" * 40
HOOK_SECRET = "bench-hook-secret-" + "h" * 20


@contextlib.contextmanager
def database(database_url: str) -> Iterator[sa.Connection]:
    """One committed transaction on the bench database, outside any timed window."""
    from backend.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def viewers(database_url: str) -> list[tuple[int, int, int]]:
    """(parent user id, camera id, school id) of every seeded parent and a camera of their school."""
    with database(database_url) as conn:
        rows = conn.execute(sa.text(
            "SELECT m.user_id, c.id, m.school_id FROM membership m JOIN canteen t ON t.school_id = m.school_id "
            "JOIN kitchen_area a ON a.canteen_id = t.id AND a.public JOIN camera c ON c.area_id = a.id "
            "WHERE m.role = 'parent' AND m.status = 'active'")).all()
    return [tuple(r) for r in rows]


def _play_bodies(pool: list[tuple[int, int, int]], count: int, seed: int, lane: int, lanes: int) -> list[bytes]:
    """nginx-rtmp on_play bodies, each with its own fresh token (signed ahead, outside the timed window).

    Client thread ``lane`` of ``lanes`` walks the cameras in one shuffled order shared by every lane, starting at
    its own offset: together the lanes spread any number of plays evenly over the cameras (a random choice
    instead left some camera over its cap of 50 within a round once plays got fast), each by a random parent of
    that camera's school.
    """
    from backend.integrations import media

    key = media.derive_key(SECRET_KEY)
    rng = random.Random(seed)
    by_camera: dict[int, list[tuple[int, int, int]]] = {}
    for viewer in pool:
        by_camera.setdefault(viewer[1], []).append(viewer)
    cameras = sorted(by_camera)
    random.Random(0).shuffle(cameras)
    offset = lane * len(cameras) // lanes
    expires = int(time.time()) + 3600
    bodies = []
    for index in range(count):
        user_id, camera_id, school_id = rng.choice(by_camera[cameras[(offset + index) % len(cameras)]])
        token = media.issue_token(key, media.TokenKind.PLAY, user_id=user_id, camera_id=camera_id,
                                  school_id=school_id, privileged=False, expires=expires).token
        bodies.append(urlencode({
            "app": "live", "flashver": "LNX 9,0,124,2", "swfurl": "", "tcurl": "rtmp://127.0.0.1:1935/live",
            "pageurl": "", "addr": f"10.{index % 250}.{seed % 250}.7", "clientid": str(seed * 1_000_000 + index),
            "call": "play", "name": media.stream_name(camera_id), "start": "4294965296", "duration": "0",
            "reset": "0", "token": token}).encode())
    return bodies


def _worker(base: str, path: str, kind: str, threads: int, seconds: float, pool, seed: int, first_lane: int,
            lanes: int, queue: multiprocessing.Queue, start: threading.Barrier) -> None:
    per_thread = 0
    bodies: list[list[bytes]] = []
    if kind == "play":
        # Enough tokens for any plausible rate on this machine (one list per thread, no sharing), but never more
        # than 45 plays per camera in a round: with the plays spread evenly no camera reaches its cap of 50. A
        # thread whose tokens run out stops early; the round's rate counts the time up to its last answer.
        cameras = len({viewer[1] for viewer in pool})
        per_thread = min(int(seconds * 4000 / threads) + 200, 45 * cameras // lanes)
        bodies = [_play_bodies(pool, per_thread, seed * 100 + t, first_lane + t, lanes) for t in range(threads)]
    # Every process starts its clock together, once all have signed their tokens: signing in one process
    # must not take CPU from another's timed window.
    start.wait()
    host, port = base.removeprefix("http://").split(":")
    results: list[tuple[int, int, list[float], float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def loop(index: int) -> None:
        connection = OneWriteConnection(host, int(port), timeout=10)
        count = errors = 0
        latencies: list[float] = []
        barrier.wait()
        started = time.monotonic()
        deadline = started + seconds
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if kind == "play" else {}
        while time.monotonic() < deadline:
            if kind == "play" and count >= per_thread:
                break
            begun = time.perf_counter()
            try:
                if kind == "play":
                    connection.request("POST", path, body=bodies[index][count], headers=headers)
                else:
                    connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = OneWriteConnection(host, int(port), timeout=10)
            latencies.append((time.perf_counter() - begun) * 1000)
            count += 1
        elapsed = time.monotonic() - started
        connection.close()
        with lock:
            results.append((count, errors, latencies, elapsed))

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    queue.put((sum(r[0] for r in results), sum(r[1] for r in results), [x for r in results for x in r[2]],
               max(r[3] for r in results)))


def run_load(label: str, base: str, path: str, kind: str, *, seconds: float, concurrency: int, pool,
             seed: int, processes: int = 2, meter: CpuMeter | None = None,
             database_meter: CpuMeter | None = None) -> LoadResult:
    """``concurrency`` keep-alive connections over ``processes`` processes, for ``seconds`` (with ``meter``,
    also the server's and its database's CPU seconds over the run; with ``database_meter``, the database's alone)."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    start = multiprocessing.Barrier(processes)
    threads = max(1, concurrency // processes)
    children = [multiprocessing.Process(target=_worker, args=(base, path, kind, threads, seconds, pool, seed * 10 + n,
                                                              n * threads, processes * threads, queue, start))
                for n in range(processes)]
    for child in children:
        child.start()
    # The meter counts the server's processes and the database's backends, not the load generator's signing.
    cpu_before = meter.read() if meter else None
    database_before = database_meter.read() if database_meter else None
    parts = [queue.get() for _ in children]
    cpu = meter.read() - cpu_before if meter and cpu_before is not None else None
    database_cpu = database_meter.read() - database_before if database_meter and database_before is not None else None
    for child in children:
        child.join()
    return LoadResult(label, sum(p[0] for p in parts), sum(p[1] for p in parts), max(p[3] for p in parts),
                      [x for p in parts for x in p[2]], cpu, database_cpu_seconds=database_cpu)


def count_sessions(database_url: str) -> int:
    """View sessions the accepted plays opened."""
    with database(database_url) as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM live_view_session")).scalar())


def players_leave(database_url: str) -> None:
    """Close every open view session, as on_done does when a player goes away."""
    with database(database_url) as conn:
        conn.execute(sa.text("UPDATE live_view_session SET closed_at = now(), close_reason = 'player_closed' "
                             "WHERE closed_at IS NULL"))


def main() -> int:
    """Seed, serve, measure, print."""
    parser = seeded_bench_arguments(__doc__, schools=500, parents_per_school=10, port=18432)
    parser.add_argument("--hooks", choices=("listener", "gunicorn"), default="listener",
                        help="send on_play to the workers' media hook listener (--port + 1) or to gunicorn's port")
    args = parser.parse_args()
    database_url, env = seeded_database(args, DEFAULT_URL, "live", MEDIA_HOOK_SECRET=HOOK_SECRET)
    pool = viewers(database_url)

    # As in production (docker/entrypoint.sh): every worker also runs the media hook listener.
    env = {**env, "MEDIA_HOOK_LISTEN": f"127.0.0.1:{args.port + 1}"}
    server, base = start_gunicorn(env, args.port, args.workers, args.threads,
                                  extra=["--config", "python:backend.live.gunicorn_conf"])
    hook_base = f"http://127.0.0.1:{args.port + 1}" if args.hooks == "listener" else base
    play_path = f"/internal/media/on_play?secret={HOOK_SECRET}"
    results: dict[str, list[LoadResult]] = {"GET /healthz": [], "POST on_play": []}
    meter = CpuMeter(server.pid, sa.make_url(database_url).database)
    database_meter = CpuMeter(None, sa.make_url(database_url).database)
    try:
        common = {"concurrency": args.concurrency, "pool": pool}
        # Warm both (imports, connection pools, prepared statements) before measuring.
        run_load("warm", base, "/healthz", "get", seconds=1, seed=1, **common)
        run_load("warm", hook_base, play_path, "play", seconds=1, seed=2, **common)
        players_leave(database_url)
        for round_index in range(args.rounds):
            results["GET /healthz"].append(run_load("GET /healthz", base, "/healthz", "get", seconds=args.seconds,
                                                    seed=10 + round_index, meter=meter,
                                                    database_meter=database_meter, **common))
            results["POST on_play"].append(run_load("POST /internal/media/on_play", hook_base, play_path, "play",
                                                    seconds=args.seconds, seed=20 + round_index, meter=meter,
                                                    database_meter=database_meter, **common))
            players_leave(database_url)
    finally:
        server.terminate()
        server.wait(timeout=20)

    sessions = count_sessions(database_url)
    plays = sum(r.requests - r.errors for r in results["POST on_play"])
    warm_plays = sessions - plays
    print(describe_run(args))
    print(f"on_play sent to {'the workers’ media hook listener' if args.hooks == 'listener' else 'gunicorn'} "
          f"({hook_base}); /healthz to gunicorn ({base})")
    print_lines(results)
    errors = sum(r.errors for runs in results.values() for r in runs)
    print(f"\nview sessions opened: {sessions} ({plays} measured plays + {warm_plays} warm-up), errors {errors}")
    print_ratio("POST on_play", "GET /healthz", results, target=0.9)
    shares = {name: (cpu_ms_per_request(runs), database_cpu_ms_per_request(runs)) for name, runs in results.items()}
    print("of which the api's processes / the database's backends per request: " + ", ".join(
        f"{name} {total - database:.3f} / {database:.3f} ms" for name, (total, database) in shares.items()))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
