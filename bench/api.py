"""GET /api/v1/me next to /healthz, on gunicorn + PostgreSQL seeded with seed-scale.

    .venv/bin/python bench/api.py [--schools 200] [--parents-per-school 50] [--seconds 5] [--concurrency 16]

Prints requests/s, p50/p99 of each endpoint measured with the same concurrency, interleaved in one run,
and the ratio me/healthz (target ≥ 0.6), also as CPU per request of the server and its database (steadier
on a busy machine). Uses its own database (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/kitchen_bench_api), dropped and recreated each run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import CpuMeter, interleaved, print_ratio, start_gunicorn  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/kitchen_bench_api"


def recreate_database(url: str) -> str:
    """Drop and create the benchmark database; returns its SQLAlchemy URL."""
    from backend.config import normalise_database_url

    target = sa.make_url(normalise_database_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return target.render_as_string(hide_password=False)


def bench_env(database_url: str) -> dict[str, str]:
    """A production-mode environment (production settings, no dev routes)."""
    env = dict(os.environ)
    env.update(APP_ENV="production", DATABASE_URL=database_url, SECRET_KEY="bench-" + "k" * 40,
               WECHAT_APPID="wx_bench", WECHAT_SECRET="s" * 32, FLASK_APP="backend.app:create_app",
               LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), INSTANCE_PATH="/tmp/kitchen-bench-api")
    env.pop("REDIS_URL", None)
    return env


def run(cmd: list[str], env: dict[str, str]) -> None:
    """Run a setup command, failing loudly."""
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)


def migrate_and_seed(env: dict[str, str], schools: int, parents_per_school: int) -> None:
    """Upgrade the benchmark database and fill it with ``seed-scale`` (shared by the api and live benches)."""
    flask = str(Path(sys.executable).parent / "flask")
    run([flask, "db", "upgrade"], env)
    run([flask, "seed-scale", "--schools", str(schools), "--parents-per-school", str(parents_per_school)], env)


def make_tokens(env: dict[str, str], count: int) -> list[str]:
    """Log in ``count`` random parents directly through the session service."""
    code = (
        "import random, sys\n"
        "from sqlalchemy import select\n"
        "from backend import create_app\n"
        "from backend.accounts.models import Membership, User\n"
        "from backend.accounts.services import issue_session\n"
        "from backend.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    ids = db.session.scalars(select(Membership.user_id).where(Membership.role == 'parent')).all()\n"
        "    random.seed(7)\n"
        f"    for user_id in random.sample(ids, {count}):\n"
        "        print(issue_session(db.session.get(User, user_id), 24).token)\n"
        "    db.session.commit()\n"
    )
    output = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout
    return output.split()


def main() -> int:
    """Seed, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--parents-per-school", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=18431)
    args = parser.parse_args()

    database_url = recreate_database(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    env = bench_env(database_url)
    migrate_and_seed(env, args.schools, args.parents_per_school)
    tokens = make_tokens(env, 200)

    server, base = start_gunicorn(env, args.port, workers=2, threads=8)
    try:
        headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
        common = {"seconds": args.seconds, "concurrency": args.concurrency}
        # Warm both endpoints (imports, connection pools) before measuring.
        interleaved([("warm-healthz", {"url": f"{base}/healthz", **common, "seconds": 1}),
                     ("warm-me", {"url": f"{base}/api/v1/me", "headers_list": headers, **common, "seconds": 1})], 1)
        meter = CpuMeter(server.pid, sa.make_url(database_url).database)
        results = interleaved([
            ("GET /healthz", {"url": f"{base}/healthz", **common}),
            ("GET /api/v1/me", {"url": f"{base}/api/v1/me", "headers_list": headers, **common}),
        ], rounds=args.rounds, meter=meter)
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(f"\nseed: {args.schools} schools × {args.parents_per_school} parents on PostgreSQL; gunicorn 2 workers "
          f"× 8 threads; concurrency {args.concurrency}; {args.rounds} interleaved rounds of {args.seconds:g} s")
    for runs in results.values():
        for result in runs:
            print(result.line())
    print_ratio("GET /api/v1/me", "GET /healthz", results, target=0.6)
    return 0 if all(r.errors == 0 for runs in results.values() for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
