"""GET /api/v1/me next to /healthz, on gunicorn + PostgreSQL seeded with seed-scale.

    .venv/bin/python bench/api.py [--schools 200] [--parents-per-school 50] [--seconds 5] [--concurrency 16]

Prints requests/s, p50/p99 of each endpoint measured with the same concurrency, interleaved in one run,
and the ratio me/healthz (target ≥ 0.6), also as CPU per request of the server and its database (steadier
on a busy machine). Each load connection reuses one of 200 parents' tokens, as a phone's page does for its
requests: run it with AUTH_CACHE_SECONDS=0 in the environment to measure authentication without the principal
cache. Uses its own database (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/kitchen_bench_api),
dropped and recreated each run.
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

from bench.loadgen import CpuMeter, interleaved, print_lines, print_ratio, start_gunicorn  # noqa: E402

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


def bench_env(database_url: str, name: str = "api", **settings: str) -> dict[str, str]:
    """A production-mode environment (production settings, no dev routes), plus a bench's own ``settings``."""
    env = dict(os.environ)
    env.update(APP_ENV="production", DATABASE_URL=database_url, SECRET_KEY="bench-" + "k" * 40,
               WECHAT_APPID="wx_bench", WECHAT_SECRET="s" * 32, FLASK_APP="backend.app:create_app",
               LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), INSTANCE_PATH=f"/tmp/kitchen-bench-{name}", **settings)
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


def seeded_bench_arguments(description: str | None, *, schools: int, parents_per_school: int,
                           port: int) -> argparse.ArgumentParser:
    """The options of a bench on a seed-scale database: the seed's size, the load and gunicorn's size."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--schools", type=int, default=schools)
    parser.add_argument("--parents-per-school", type=int, default=parents_per_school)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    return parser


def database_bench_arguments(description: str | None, default_url: str, *,
                             seconds: float) -> argparse.ArgumentParser:
    """The options of a bench on its own database (``BENCH_DATABASE_URL``): the load and gunicorn's size."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", default_url))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=seconds, help="measured seconds per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the machine has 2 cores)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker, as docker/entrypoint.sh runs")
    return parser


def seeded_database(args: argparse.Namespace, default_url: str, name: str, **settings: str) -> tuple[str, dict]:
    """Recreate the bench's database (BENCH_DATABASE_URL or ``default_url``), migrate and seed it as ``args``
    say; returns its URL and the environment to serve it with."""
    database_url = recreate_database(os.environ.get("BENCH_DATABASE_URL", default_url))
    env = bench_env(database_url, name, **settings)
    migrate_and_seed(env, args.schools, args.parents_per_school)
    return database_url, env


def describe_run(args: argparse.Namespace) -> str:
    """The line that says what was seeded and how the load ran."""
    return (f"\nseed: {args.schools} schools × {args.parents_per_school} parents on PostgreSQL; gunicorn "
            f"{args.workers} workers × {args.threads} threads; concurrency {args.concurrency}; {args.rounds} "
            f"interleaved rounds of {args.seconds:g} s")


def main() -> int:
    """Seed, serve, measure, print."""
    args = seeded_bench_arguments(__doc__, schools=200, parents_per_school=50, port=18431).parse_args()
    database_url, env = seeded_database(args, DEFAULT_URL, "api")
    tokens = make_tokens(env, 200)

    server, base = start_gunicorn(env, args.port, args.workers, args.threads)
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

    print(describe_run(args))
    print_lines(results)
    print_ratio("GET /api/v1/me", "GET /healthz", results, target=0.6)
    return 0 if all(r.errors == 0 for runs in results.values() for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
