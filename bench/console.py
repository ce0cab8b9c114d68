"""The console's API calls at province scale: p50/p95 at 8 concurrent users and SQL statements per request.

    .venv/bin/python bench/console.py [--database-url postgresql://postgres@127.0.0.1:5432/kitchen_h5_bench]
                                      [--concurrency 8] [--seconds 8] [--workers N] [--threads N]
                                      [--only LABEL ...]

Seeds (once; a database already seeded is reused) a province in bulk SQL (bench/console_seed.py): 10,000
schools under 11 cities × 9 counties, 1,000,000 violations over two years, 30 days of records for 1,000
canteens, two cameras per canteen, half the violations AI alarms with verdicts on most; and a tenth of it
in a second database (``<name>_small``) to show that the statements per request do not grow with the data.
Serves each with gunicorn as a deployment would (APP_ENV=production, and by default the workers and threads
docker/entrypoint.sh starts: ``WEB_CONCURRENCY`` or 4 workers × 4 threads) plus the bench-only statement
counter (bench/query_count.py), logs in a regulator of the province, and drives every call of the dashboard (the
/stats calls of 总览 and its drill-down, the 问题整改 list pages the figures open) and of the review queue
(告警审核: the province's and one school's) with ``--concurrency`` keep-alive users in interleaved slices.
Prints p50 / p95 of each next to the target (p95 ≤ 300 ms), the CPU per request of the server and its
database and of the load generator itself (it runs on the same machine), and the statements per request at
both scales. ``--only`` measures the calls whose label contains one of the given words.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import bench_env, database_bench_arguments, run  # noqa: E402
from bench.console_seed import PROVINCE_CODE, Shape  # noqa: E402
from bench.loadgen import (  # noqa: E402
    CpuMeter,
    LoadResult,
    client_cpu_ms_per_request,
    cpu_ms_per_request,
    interleaved,
    start_gunicorn,
    stop_gunicorn,
    wait_ms_per_request,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/kitchen_h5_bench"
TARGET_P95_MS = 300.0
REFERENCE = "healthz (reference)"
BIG, SMALL = Shape(), Shape(schools=1_000, violations=100_000, record_canteens=100)


def production_gunicorn() -> tuple[int, int]:
    """The workers and threads the api runs with in production (docker/entrypoint.sh: ``WEB_CONCURRENCY``
    workers, default 4, × 4 threads), so the bench measures what a deployment serves."""
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    found = re.search(r'--workers "\$\{WEB_CONCURRENCY:-(\d+)\}" --threads (\d+)', entrypoint)
    if found is None:
        raise SystemExit("docker/entrypoint.sh no longer says how many gunicorn workers and threads: update the bench")
    return int(os.environ.get("WEB_CONCURRENCY", found.group(1))), int(found.group(2))


@dataclass(frozen=True)
class Call:
    """One API call of the console: a label and a path with its query (ids filled from the seed)."""

    label: str
    path: str


def dashboard_calls(ids: dict[str, int | str]) -> list[Call]:
    """The calls of 总览 (at each level of the drill-down) and of the 问题整改 lists its figures open."""
    period = f"from={ids['from']}&to={ids['to']}"
    region = f"/api/v1/regions/{ids['province']}/violations?limit=50"
    return [
        Call("stats province", f"/api/v1/stats?region_id={ids['province']}"),
        Call("stats city", f"/api/v1/stats?region_id={ids['city']}"),
        Call("stats county", f"/api/v1/stats?region_id={ids['county']}"),
        Call("stats school", f"/api/v1/stats?school_id={ids['school']}"),
        Call("list province 30d", f"{region}&{period}"),
        Call("list in_progress 30d", f"{region}&{period}&state=in_progress"),
        Call("list overdue 30d", f"{region}&{period}&overdue=true"),
        Call("list province all", region),
        Call("list school all", f"/api/v1/schools/{ids['school']}/violations?limit=50"),
    ]


def review_calls(ids: dict[str, int | str]) -> list[Call]:
    """The review queue's calls (告警审核) for the province's regulator and for one school: the pending queue
    (newest first, then one kind of alarm), the cursor the console polls, the verdict counts of 30 days."""
    period = f"from={ids['from']}&to={ids['to']}"
    calls = []
    for scope, base in (("province", f"/api/v1/regions/{ids['province']}"),
                        ("school", f"/api/v1/schools/{ids['school']}")):
        calls += [Call(f"alarms {scope} pending", f"{base}/alarms?limit=50"),
                  Call(f"alarms {scope} no_mask", f"{base}/alarms?limit=50&kind=no_mask"),
                  Call(f"alarms {scope} cursor", f"{base}/alarms/cursor"),
                  Call(f"alarms {scope} stats 30d", f"{base}/alarms/stats?{period}")]
    return calls


PREPARE = """
import json, sys
from datetime import timedelta
from sqlalchemy import select, text
from backend import create_app
from backend.accounts.models import RegulatorScope, User
from backend.accounts.services import issue_session
from backend.db_types import EncryptedText
from backend.extensions import db
from backend.schools.models import Region, School
from backend.timeutil import to_shanghai, utcnow
from bench.console_seed import Shape, seed
shape = Shape(*json.loads(sys.argv[1]))
app = create_app()
with app.app_context():
    url = EncryptedText().process_bind_param("rtsp://10.0.0.1/stream1", None)
    with db.engine.begin() as conn:
        fresh = seed(conn, shape, url)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("violation", "alarm_review"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))  # index-only scans need the visibility map
    province = db.session.scalar(select(Region).where(Region.code == sys.argv[2]))
    user = db.session.scalar(select(User).where(User.openid == "bench-province-regulator"))
    if user is None:
        user = User(openid="bench-province-regulator", nickname="省级监管", is_admin=False)
        db.session.add(user)
        db.session.flush()
        db.session.add(RegulatorScope(user_id=user.id, region_id=province.id))
    token = issue_session(user, 24).token
    db.session.commit()
    city = db.session.scalar(select(Region).where(Region.parent_id == province.id).order_by(Region.id))
    county = db.session.scalar(select(Region).where(Region.parent_id == city.id).order_by(Region.id))
    school = db.session.scalar(select(School.id).where(School.region_id == county.id).order_by(School.id))
    today = to_shanghai(utcnow()).date()
    print(json.dumps({"fresh": fresh, "token": token, "province": province.id, "city": city.id,
                      "county": county.id, "school": school, "from": str(today - timedelta(days=29)),
                      "to": str(today)}))
"""


def ensure_database(url: str) -> str:
    """Create the database when missing (an existing one is kept: seeding is skipped when already done)."""
    from backend.config import normalise_database_url

    target = sa.make_url(normalise_database_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": target.database}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return target.render_as_string(hide_password=False)


def prepare(url: str, shape: Shape, name: str) -> tuple[dict[str, str], dict]:
    """Migrate and seed a database; its serving environment and the ids and token of the calls."""
    database_url = ensure_database(url)
    env = bench_env(database_url, name)
    run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"], env)
    shape_args = json.dumps([shape.schools, shape.violations, shape.record_canteens, shape.cities, shape.counties])
    output = subprocess.run([sys.executable, "-c", PREPARE, shape_args, PROVINCE_CODE], env=env, cwd=ROOT,
                            check=True, stdout=subprocess.PIPE, text=True).stdout
    ids = json.loads(output.strip().splitlines()[-1])
    print(f"{name}: {shape.schools} schools, {shape.violations} violations "
          f"({'seeded now' if ids['fresh'] else 'already seeded'})", flush=True)
    return env, ids


def query_counts(base: str, token: str, calls: list[Call]) -> dict[str, str]:
    """Statements per request of each call (the X-Query-Count header of bench/query_count.py), as
    'built/reused': the most and the fewest over a few requests (each gunicorn worker computes the 总览's
    figures at its first request, then reuses them while nothing changes: violations/stats_cache.py)."""
    counts = {}
    for call in calls:
        seen = []
        for _ in range(6):
            request = urllib.request.Request(base + call.path, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                seen.append(int(response.headers["X-Query-Count"]))
        counts[call.label] = f"{max(seen)}/{min(seen)}"
    return counts


def serve(env: dict[str, str], args: argparse.Namespace):
    """gunicorn with the statement counter."""
    return start_gunicorn(env, args.port, args.workers, args.threads, app="bench.query_count:create_app()")


def measure(base: str, token: str, calls: list[Call], args: argparse.Namespace,
            meter: CpuMeter) -> dict[str, list[LoadResult]]:
    """Warm every call, then drive each (and /healthz, the machine's reference) with ``--concurrency`` users in
    interleaved slices, metering the CPU the server and its database spend."""
    headers = [{"Authorization": f"Bearer {token}"}]
    runs = [(c.label, {"url": base + c.path, "headers_list": headers, "concurrency": args.concurrency,
                       "seconds": args.seconds}) for c in [*calls, Call(REFERENCE, "/healthz")]]
    interleaved([(label, {**kwargs, "seconds": 1}) for label, kwargs in runs], rounds=1)
    return interleaved(runs, rounds=args.rounds, meter=meter)


def report(calls: list[Call], results: dict[str, list[LoadResult]], small: dict[str, str],
           big: dict[str, str], args: argparse.Namespace) -> bool:
    """Print one line per call; True when every p95 is within the target and every count is constant."""
    print(f"\n{args.concurrency} concurrent users, gunicorn {args.workers} workers × {args.threads} threads, "
          f"{args.rounds} × {args.seconds:g} s per call; statements per request at "
          f"{SMALL.schools}/{SMALL.violations} and {BIG.schools}/{BIG.violations} schools/violations")
    print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the latencies move with it; "
          f"the CPU per request of the server and its database does not, much)")
    print(f"{'call':<24} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms/req':>10} {'wait ms/req':>11} "
          f"{'client cpu':>10} {'errors':>6}  {'stmts small':>11} {'stmts big':>9}")
    print("(cpu ms/req: CPU of the server and its database per request; wait ms/req: time they were runnable but "
          "waiting for a core;\n client cpu: the load generator's own CPU per request, on the same cores)")
    print("(statements: first request / next one, i.e. figures built / reused; the load runs mostly on reused)")
    ok = True
    for call in [*calls, Call(REFERENCE, "/healthz")]:
        runs = results[call.label]
        merged = LoadResult(call.label, sum(r.requests for r in runs), sum(r.errors for r in runs),
                            sum(r.seconds for r in runs), [x for r in runs for x in r.latencies_ms])
        p95 = merged.percentile(95)
        line = (f"{call.label:<24} {merged.rps:7.1f} {merged.percentile(50):8.1f} {p95:8.1f} "
                f"{cpu_ms_per_request(runs):10.1f} {wait_ms_per_request(runs):11.1f} "
                f"{client_cpu_ms_per_request(runs):10.1f} {merged.errors:6d}")
        if call.label == REFERENCE:
            print(line)
            continue
        fine = p95 <= TARGET_P95_MS and merged.errors == 0 and small[call.label] == big[call.label]
        ok &= fine
        print(f"{line}  {small[call.label]:>11} {big[call.label]:>9}  {'ok' if fine else 'OVER'}")
    print(f"target: p95 ≤ {TARGET_P95_MS:g} ms each, the same statements per request at both scales")
    return ok


def main() -> int:
    """Seed both scales, count statements on each, load the big one, print."""
    parser = database_bench_arguments(__doc__, DEFAULT_URL, seconds=8.0)
    parser.add_argument("--rounds", type=int, default=1)
    workers, threads = production_gunicorn()
    parser.add_argument("--workers", type=int, default=workers)
    parser.add_argument("--threads", type=int, default=threads)
    parser.add_argument("--port", type=int, default=18441)
    parser.add_argument("--only", nargs="*", default=[], help="measure only the calls whose label contains one")
    args = parser.parse_args()

    def chosen(calls: list[Call]) -> list[Call]:
        return [c for c in calls if not args.only or any(word in c.label for word in args.only)]

    small_url = sa.make_url(args.database_url)
    small_env, small_ids = prepare(small_url.set(database=f"{small_url.database}_small").render_as_string(False),
                                   SMALL, "console-small")
    env, ids = prepare(args.database_url, BIG, "console")

    server, base = serve(small_env, args)
    try:
        small = query_counts(base, small_ids["token"], chosen(dashboard_calls(small_ids) + review_calls(small_ids)))
    finally:
        stop_gunicorn(server)
    calls = chosen(dashboard_calls(ids) + review_calls(ids))
    server, base = serve(env, args)
    try:
        big = query_counts(base, ids["token"], calls)
        meter = CpuMeter(server.pid, sa.make_url(env["DATABASE_URL"]).database)
        results = measure(base, ids["token"], calls, args, meter)
    finally:
        stop_gunicorn(server)
    return 0 if report(calls, results, small, big, args) else 1


if __name__ == "__main__":
    sys.exit(main())
